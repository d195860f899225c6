// src/protocol/nodeHandshake.ts — how a node proves who it is before any document byte is exchanged:
// the main node sends a Challenge, the peer answers with a Hello signed by its Ed25519 key (and, the
// first time, a one-time join token) and its own challenge, and gets a Welcome (with a ticket for /rpc,
// signed by the main node's key over the peer's challenge) or a Refusal. Text frames of JSON on /crdt-sync;
// used by the sync server and client and by NodeAdmission.
import { Context, type Effect, type Option, Schema, type Stream } from "effect"
import { NodeId } from "../domain/ExecutionState.js"

/** Bumped when the handshake, the sync framing or the node RPCs change shape. */
export const nodeProtocolVersion = 1
/** The versions this build can speak with a peer, oldest first. */
export const supportedNodeProtocols: ReadonlyArray<number> = [1]

/** `worker`: replicates, claims and runs work, writes the document. `read-only`: replicates, never writes. */
export const NodeRole = Schema.Literal("worker", "read-only")
export type NodeRole = typeof NodeRole.Type

const Base64Url = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9_-]{1,2048}$/, { message: () => "base64url text (A-Z a-z 0-9 _ -)" }),
)

/** Server → peer, the first frame: sign this. */
export const Challenge = Schema.TaggedStruct("Challenge", {
  /** 32 random bytes, base64url; used once. */
  nonce: Base64Url,
  /** The main node's id, so a signature cannot be replayed to another server. */
  server: NodeId,
  protocols: Schema.Array(Schema.Int),
})
export type Challenge = typeof Challenge.Type

/** Peer → server: who it is, signed. */
export const Hello = Schema.TaggedStruct("Hello", {
  node: NodeId,
  /** The node's Ed25519 public key, SPKI DER, base64url. */
  publicKey: Base64Url,
  /** Ed25519 signature of `signedText(challenge, hello)`, base64url. */
  signature: Base64Url,
  protocol: Schema.Int,
  /** A one-time join token from `huskies token create`; needed only on the first admission. */
  joinToken: Schema.optional(Schema.String),
  /**
   * Instead of `joinToken`: proof that the node holds one, `joinProofText` under HMAC-SHA256 keyed with
   * the token's digest, base64url. Bound to this challenge and this key, it is worth nothing to whoever
   * answered in the main node's place.
   */
  joinProof: Schema.optional(Base64Url),
  /** A name people see on the board ("build-box-2"); the node id when absent. */
  label: Schema.optional(Schema.String.pipe(Schema.maxLength(64))),
  /** The huskies version the peer runs, for node status. */
  version: Schema.optional(Schema.String.pipe(Schema.maxLength(64))),
  /**
   * The node's own challenge to the main node: 32 random bytes, base64url, new for each connection. The
   * Welcome carries the main node's signature over it, so the node knows who admitted it.
   */
  challenge: Schema.optional(Base64Url),
})
export type Hello = typeof Hello.Type

/** Server → peer: admitted. `ticket` authenticates this node's /rpc connection while the sync lives. */
export const Welcome = Schema.TaggedStruct("Welcome", {
  node: NodeId,
  role: NodeRole,
  ticket: Base64Url,
  protocol: Schema.Int,
  /** With a Hello that carried a challenge: the main node's Ed25519 public key, SPKI DER, base64url. */
  mainKey: Schema.optional(Base64Url),
  /** With `mainKey`: its signature of `welcomeText(challenge, hello, welcome)`, base64url. */
  signature: Schema.optional(Base64Url),
})
export type Welcome = typeof Welcome.Type

export const RefusalReason = Schema.Literal(
  "bad-signature",
  "unknown-node",
  "token-unknown",
  "token-used",
  "token-expired",
  "revoked",
  "key-mismatch",
  "protocol",
  "malformed",
)
export type RefusalReason = typeof RefusalReason.Type

/** Server → peer, then the connection closes: why, and what to do. */
export const Refusal = Schema.TaggedStruct("Refusal", {
  reason: RefusalReason,
  message: Schema.String,
  /** With reason "protocol": the versions this server speaks. */
  supported: Schema.optional(Schema.Array(Schema.Int)),
})
export type Refusal = typeof Refusal.Type

export const HandshakeFrame = Schema.Union(Challenge, Hello, Welcome, Refusal)
export type HandshakeFrame = typeof HandshakeFrame.Type

/** The exact text a node signs: binds the signature to this server, this nonce and this key. */
export const signedText = (
  challenge: Pick<Challenge, "nonce" | "server">,
  hello: Pick<Hello, "node" | "publicKey" | "protocol">,
): string =>
  [
    "huskies-node-handshake",
    challenge.server,
    challenge.nonce,
    hello.node,
    hello.publicKey,
    hello.protocol,
  ].join("\n")

/** The exact text a join proof is computed over: the signed text, under a prefix of its own. */
export const joinProofText = (
  challenge: Pick<Challenge, "nonce" | "server">,
  hello: Pick<Hello, "node" | "publicKey" | "protocol">,
): string => `huskies-join-proof\n${signedText(challenge, hello)}`

/**
 * The exact text the main node signs in its Welcome: binds the signature to the node's challenge, that
 * node, this server, its key and the role it gave. Unlike `signedText`, so neither can stand for the other.
 */
export const welcomeText = (
  challenge: Pick<Challenge, "server">,
  hello: Pick<Hello, "node"> & { readonly challenge: string },
  welcome: Pick<Welcome, "role" | "protocol"> & { readonly mainKey: string },
): string =>
  [
    "huskies-main-welcome",
    challenge.server,
    hello.challenge,
    hello.node,
    welcome.mainKey,
    welcome.role,
    welcome.protocol,
  ].join("\n")

/** Why a node does not trust what answered at its rendezvous as its main node. */
export const MainNodeDistrust = Schema.Literal("unsigned", "bad-signature", "key-mismatch")
export type MainNodeDistrust = typeof MainNodeDistrust.Type

/**
 * The node refuses the main node (before any document byte): its Welcome is unsigned, its signature does
 * not verify, or its key is not the one this node pinned. The detail says what to do.
 */
export class MainNodeUntrusted extends Schema.TaggedError<MainNodeUntrusted>()("MainNodeUntrusted", {
  reason: MainNodeDistrust,
  detail: Schema.String,
}) {
  override get message(): string {
    return this.detail
  }
}

/** The WebSocket close code sent with a Refusal (4000-4999 are the application's). */
export const refusedCloseCode = 4401

/** A refused admission, as the server logs it and the peer's Refusal says. */
export class AdmissionRefused extends Schema.TaggedError<AdmissionRefused>()("AdmissionRefused", {
  reason: RefusalReason,
  detail: Schema.String,
  supported: Schema.optional(Schema.Array(Schema.Int)),
}) {
  override get message(): string {
    return this.detail
  }
}

/** A peer the main node has admitted, for the life of its connection. */
export interface AdmittedPeer {
  readonly node: NodeId
  readonly role: NodeRole
  readonly label: string
  readonly version: string | undefined
  readonly ticket: string
}

/**
 * The main node's side of admission (implemented over `.huskies/nodes.db`): makes challenges, checks
 * Hellos, consumes join tokens, and tells open connections when a node is revoked.
 */
export interface NodeAdmissionShape {
  readonly challenge: Effect.Effect<Challenge>
  /** Checks `hello` against `challenge` (each nonce admits at most once); a first Hello consumes its token. */
  readonly admit: (challenge: Challenge, hello: Hello) => Effect.Effect<AdmittedPeer, AdmissionRefused>
  /** The peer behind a ticket, while its sync connection is open and the node is not revoked. */
  readonly byTicket: (ticket: string) => Effect.Effect<Option.Option<AdmittedPeer>>
  /** Ends a ticket (its sync connection closed). */
  readonly end: (ticket: string) => Effect.Effect<void>
  /** Node ids as they are revoked: open connections of that node close at once. */
  readonly revocations: Stream.Stream<NodeId>
  /** Node ids whose last ticket ended (its sync connection closed): its /rpc/node attachment ends too. */
  readonly disconnections: Stream.Stream<NodeId>
}

export class NodeAdmission extends Context.Tag("huskies/NodeAdmission")<
  NodeAdmission,
  NodeAdmissionShape
>() {}

/** This node's own key (`.huskies/node.key`, 0600, made on first start): what a peer signs with. */
export interface NodeIdentityShape {
  readonly node: NodeId
  /** SPKI DER, base64url. */
  readonly publicKey: string
  /** Ed25519 signature of the UTF-8 bytes of `text`, base64url. */
  readonly sign: (text: string) => string
}

export class NodeIdentity extends Context.Tag("huskies/NodeIdentity")<NodeIdentity, NodeIdentityShape>() {}
