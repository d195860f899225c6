// src/layers/NodeKeys.ts — this node's Ed25519 key (`.huskies/node.key`, PEM, 0600, made on first start
// and kept): the NodeIdentity layer a peer signs its handshake with, `answerChallenge` and `verifyWelcome`
// for the sync client (PeerActor), `verifySignature` for the main node's admission (NodeTrust.ts),
// `signWelcome` for its sync server, and the join token's fingerprint of the main node's key.
import { Effect, Either, Layer, Schema } from "effect"
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as edSign,
  verify as edVerify,
} from "node:crypto"
import { execFile } from "node:child_process"
import { chmodSync, closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { NodeId } from "../domain/ExecutionState.js"
import {
  type Challenge,
  type Hello,
  joinProofText,
  MainNodeUntrusted,
  NodeIdentity,
  type NodeIdentityShape,
  nodeProtocolVersion,
  signedText,
  type Welcome,
  welcomeText,
} from "../protocol/nodeHandshake.js"
import { Persistence } from "./Persistence.js"
import { ensurePrivateDir, privateFileMode } from "./privateFiles.js"

/** Where a project's node key is kept. */
export const nodeKeyPath = (root: string): string => join(root, ".huskies", "node.key")

export class NodeKeyError extends Schema.TaggedError<NodeKeyError>()("NodeKeyError", {
  path: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `the node key ${this.path} ${this.detail}`
  }
}

/**
 * The private key in `path`, or a new one written there first. The file is created exclusively and
 * 0600 (two starts at once end up with the same key), its directory 0700; a kept file is tightened.
 */
export const readOrCreateNodeKey = (path: string): Effect.Effect<KeyObject, NodeKeyError> =>
  Effect.try({
    try: () => {
      ensurePrivateDir(dirname(path))
      try {
        const fd = openSync(path, "wx", privateFileMode)
        const { privateKey } = generateKeyPairSync("ed25519")
        try {
          writeSync(fd, String(privateKey.export({ type: "pkcs8", format: "pem" })))
        } catch (writeFailed) {
          // A half-written key would fail every later start: leave no file rather than that one.
          closeSync(fd)
          rmSync(path, { force: true })
          throw writeFailed
        }
        closeSync(fd)
        return privateKey
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      }
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, privateFileMode)
      const kept = createPrivateKey(readFileSync(path, "utf8"))
      if (kept.asymmetricKeyType !== "ed25519")
        throw new Error(`holds a ${kept.asymmetricKeyType ?? "non-asymmetric"} key, not an Ed25519 one`)
      return kept
    },
    catch: (e) =>
      new NodeKeyError({
        path,
        detail:
          (e instanceof Error ? e.message : String(e)) +
          " (move the file away to make a new key: the main node then needs a new join token for this node)",
      }),
  })

/** The public half of `key`, as a Hello carries it: SPKI DER, base64url. */
export const publicKeyText = (key: KeyObject): string =>
  createPublicKey(key).export({ type: "spki", format: "der" }).toString("base64url")

/**
 * A short name for a public key (SPKI DER, base64url) that people compare: `sha256:` and the first 16
 * hex digits of its digest. `huskies node list` shows it for each node.
 */
export const keyFingerprint = (publicKey: string): string =>
  `sha256:${createHash("sha256").update(Buffer.from(publicKey, "base64url")).digest("hex").slice(0, 16)}`

/**
 * What a join token carries of the main node's key (SPKI DER, base64url): the SHA-256 of the key, all 43
 * base64url characters of it (a shortened digest could be matched by a key made for the purpose).
 */
export const mainKeyDigest = (publicKey: string): string =>
  createHash("sha256").update(Buffer.from(publicKey, "base64url")).digest("base64url")

/** A join token as `huskies token create` prints it: the secret, a dot, the main node's key digest. */
export const joinTokenText = (secret: string, mainPublicKey: string): string =>
  `${secret}.${mainKeyDigest(mainPublicKey)}`

/**
 * A join token's parts: the secret the main node checks (what comes before the first dot: the secret's
 * own alphabet has none) and, when there is one, the digest of the main node's key it was made by.
 * A digest that is not 43 base64url characters is `malformed` (a token cut short when it was copied).
 */
export const joinTokenParts = (
  token: string,
): { readonly secret: string; readonly mainKeyDigest: string | undefined; readonly malformed: boolean } => {
  const dot = token.indexOf(".")
  if (dot < 0) return { secret: token, mainKeyDigest: undefined, malformed: false }
  const digest = token.slice(dot + 1)
  const ok = /^[A-Za-z0-9_-]{43}$/.test(digest)
  return { secret: token.slice(0, dot), mainKeyDigest: ok ? digest : undefined, malformed: !ok }
}

/** SHA-256 of a join token's secret, hex: all nodes.db keeps of it, and the key of its join proofs. */
export const joinTokenDigest = (secret: string): string =>
  createHash("sha256").update(secret, "utf8").digest("hex")

/** The join proof (base64url) of the holder of the token whose digest is `digest`, over `text`. */
export const joinProofWith = (digest: string, text: string): string =>
  createHmac("sha256", digest).update(text, "utf8").digest("base64url")

/** The identity of node `node` holding `key`. */
export const identityOf = (node: NodeId, key: KeyObject): NodeIdentityShape => ({
  node,
  publicKey: publicKeyText(key),
  sign: (text) => edSign(null, Buffer.from(text, "utf8"), key).toString("base64url"),
})

/** This node's identity from the key at `path` (made there on first use) and its node id. */
export const makeNodeIdentity = (path: string, node: NodeId) =>
  Effect.map(readOrCreateNodeKey(path), (key) => identityOf(node, key))

/**
 * Whether git ignores the key at `keyPath` (`<root>/.huskies/node.key`) in its project: false when a
 * `git add -A` would pick it up (a project set up by an older `huskies init`), undefined when git cannot
 * say (not a repository, no git).
 */
export const keyIgnoredByGit = (keyPath: string): Effect.Effect<boolean | undefined> =>
  Effect.async((resume) => {
    const huskiesDir = dirname(keyPath)
    execFile(
      "git",
      ["check-ignore", "-q", "--", join(basename(huskiesDir), basename(keyPath))],
      { cwd: dirname(huskiesDir), env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } },
      (error) => {
        const code = error === null ? 0 : error.code
        resume(Effect.succeed(code === 0 ? true : code === 1 ? false : undefined))
      },
    )
  })

/**
 * NodeIdentity for the project whose store is open: the node id is the one Persistence keeps in
 * huskies.db (never opened a second time), the key `.huskies/node.key` beside it. Warns when git does
 * not ignore the key, since a commit of it would hand this node's identity to everyone with the repository.
 */
export const NodeIdentityLive = (keyPath: string) =>
  Layer.effect(
    NodeIdentity,
    Effect.gen(function* () {
      const persistence = yield* Persistence
      const identity = yield* makeNodeIdentity(keyPath, NodeId.make(persistence.nodeId))
      if ((yield* keyIgnoredByGit(keyPath)) === false)
        yield* Effect.logWarning(
          `${keyPath} is this node's private key and git does not ignore it: run \`huskies init\` again ` +
            "(it adds the missing .gitignore entries and changes nothing else), or add .huskies/node.key and " +
            ".huskies/nodes.db* to .gitignore yourself",
        )
      return identity
    }),
  )

/**
 * Whether `signature` (base64url) is `publicKey`'s (SPKI DER, base64url, Ed25519 only) over `text`.
 * Anything that does not parse is simply not a valid signature.
 */
export const verifySignature = (publicKey: string, text: string, signature: string): boolean => {
  let key: KeyObject
  try {
    key = createPublicKey({ key: Buffer.from(publicKey, "base64url"), format: "der", type: "spki" })
  } catch {
    return false // not a key at all: the same answer as a wrong signature
  }
  if (key.asymmetricKeyType !== "ed25519") return false
  const bytes = Buffer.from(signature, "base64url")
  if (bytes.length !== 64) return false
  return edVerify(null, Buffer.from(text, "utf8"), key, bytes)
}

export interface HelloOptions {
  /** The one-time join token, for the first admission of this node: sent as it is. */
  readonly joinToken?: string
  /** The one-time join token, for the first admission of this node: only a proof of it is sent. */
  readonly joinProofOf?: string
  /** This node's challenge to the main node (base64url), which the Welcome must sign. */
  readonly challenge?: string
  readonly label?: string
  readonly version?: string
}

/**
 * The Hello that answers `challenge`: this build's protocol (the server refuses it, naming the versions
 * it speaks, when it speaks none of ours), signed over the challenge's server and nonce.
 */
export const answerChallenge = (
  identity: NodeIdentityShape,
  challenge: Challenge,
  options: HelloOptions = {},
): Hello => {
  const unsigned = { node: identity.node, publicKey: identity.publicKey, protocol: nodeProtocolVersion }
  return {
    _tag: "Hello",
    ...unsigned,
    signature: identity.sign(signedText(challenge, unsigned)),
    ...(options.joinToken === undefined ? {} : { joinToken: options.joinToken }),
    ...(options.joinProofOf === undefined
      ? {}
      : {
          joinProof: joinProofWith(
            joinTokenDigest(joinTokenParts(options.joinProofOf).secret),
            joinProofText(challenge, unsigned),
          ),
        }),
    ...(options.challenge === undefined ? {} : { challenge: options.challenge }),
    ...(options.label === undefined ? {} : { label: options.label }),
    ...(options.version === undefined ? {} : { version: options.version }),
  }
}

/**
 * The main node's Welcome to `hello`: signed with `identity` over the node's challenge when the Hello
 * carried one (a node from before signed Welcomes gets it unsigned, as it expects).
 */
export const signWelcome = (
  identity: NodeIdentityShape,
  challenge: Pick<Challenge, "server">,
  hello: Hello,
  welcome: Omit<Welcome, "mainKey" | "signature">,
): Welcome => {
  if (hello.challenge === undefined) return welcome
  const mainKey = identity.publicKey
  const text = welcomeText(
    challenge,
    { node: hello.node, challenge: hello.challenge },
    { ...welcome, mainKey },
  )
  return { ...welcome, mainKey, signature: identity.sign(text) }
}

/**
 * Whether `welcome` proves that the holder of its `mainKey` answered `hello` (which carried a challenge):
 * the key that signed it, or why the node must not go on. Which key it should be is the caller's to check.
 */
export const verifyWelcome = (
  challenge: Pick<Challenge, "server">,
  hello: Pick<Hello, "node"> & { readonly challenge: string },
  welcome: Welcome,
): Either.Either<string, MainNodeUntrusted> => {
  if (welcome.mainKey === undefined || welcome.signature === undefined)
    return Either.left(
      new MainNodeUntrusted({
        reason: "unsigned",
        detail:
          "the main node did not sign its Welcome, so nothing proves it is the main node: it runs a huskies " +
          "older than this node (upgrade the main node first), or it is not a huskies main node at all",
      }),
    )
  const text = welcomeText(challenge, hello, { ...welcome, mainKey: welcome.mainKey })
  return verifySignature(welcome.mainKey, text, welcome.signature)
    ? Either.right(welcome.mainKey)
    : Either.left(
        new MainNodeUntrusted({
          reason: "bad-signature",
          detail:
            "the main node's Welcome is not signed by the key it presents: this is not a main node to trust",
        }),
      )
}
