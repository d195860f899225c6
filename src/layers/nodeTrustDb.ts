// src/layers/nodeTrustDb.ts — `.huskies/nodes.db` (SQLite, 0600): the nodes the main node trusts (id,
// public key, role, label, revoked_at) and the one-time join tokens (their SHA-256 only). Used by the
// NodeAdmission layer (NodeTrust.ts) in the server and by `huskies token|node` (nodeCommands.ts) beside it.
import { Effect, Either, Schema } from "effect"
import { randomBytes, timingSafeEqual } from "node:crypto"
import { join } from "node:path"
import type { NodeId } from "../domain/ExecutionState.js"
import { AdmissionRefused, type Hello, NodeRole } from "../protocol/nodeHandshake.js"
import { joinProofWith, joinTokenDigest, joinTokenParts } from "./NodeKeys.js"
import { openPrivateSqlite } from "./privateSqlite.js"

/** Where a project's trusted nodes and join tokens are kept. */
export const nodesDbPath = (root: string): string => join(root, ".huskies", "nodes.db")

export class NodeTrustError extends Schema.TaggedError<NodeTrustError>()("NodeTrustError", {
  operation: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `could not ${this.operation} in .huskies/nodes.db: ${this.detail}`
  }
}

export interface TrustedNode {
  readonly id: string
  /** SPKI DER, base64url. */
  readonly publicKey: string
  readonly role: NodeRole
  readonly label: string
  readonly addedAt: number
  readonly revokedAt: number | undefined
  readonly lastSeenAt: number | undefined
  /** The join token that first admitted it (its id, see JoinTokenRecord). */
  readonly tokenId: string | undefined
}

export interface JoinTokenRecord {
  /** The first 12 hex digits of the token's SHA-256: names it in lists, reveals nothing of it. */
  readonly id: string
  readonly role: NodeRole
  readonly createdAt: number
  readonly expiresAt: number
  readonly usedAt: number | undefined
  readonly usedBy: string | undefined
}

const schema = `
CREATE TABLE IF NOT EXISTS nodes (
  id TEXT PRIMARY KEY, public_key TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('worker', 'read-only')), label TEXT NOT NULL,
  added_at INTEGER NOT NULL, revoked_at INTEGER, last_seen_at INTEGER, token_id TEXT
);
CREATE TABLE IF NOT EXISTS join_tokens (
  digest TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('worker', 'read-only')),
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER, used_by TEXT
);`

/** A join token's prefix: tells it apart from the server's own token at a glance. */
const tokenPrefix = "hkj_"

export { joinTokenDigest }

const tokenIdOf = (digest: string): string => digest.slice(0, 12)

interface NodeRow {
  id: string
  public_key: string
  role: string
  label: string
  added_at: number
  revoked_at: number | null
  last_seen_at: number | null
  token_id: string | null
}

interface TokenRow {
  digest: string
  role: string
  created_at: number
  expires_at: number
  used_at: number | null
  used_by: string | null
}

const decodeRole = Schema.decodeUnknownSync(NodeRole)

const toNode = (row: NodeRow): TrustedNode => ({
  id: row.id,
  publicKey: row.public_key,
  role: decodeRole(row.role),
  label: row.label,
  addedAt: row.added_at,
  revokedAt: row.revoked_at ?? undefined,
  lastSeenAt: row.last_seen_at ?? undefined,
  tokenId: row.token_id ?? undefined,
})

const toToken = (row: TokenRow): JoinTokenRecord => ({
  id: tokenIdOf(row.digest),
  role: decodeRole(row.role),
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  usedAt: row.used_at ?? undefined,
  usedBy: row.used_by ?? undefined,
})

export type RevokeResult = "revoked" | "already-revoked" | "unknown"

/** Who a Hello that passed its signature check is, as nodes.db says: its role and label, or a refusal. */
export type Admission = Either.Either<{ readonly role: NodeRole; readonly label: string }, AdmissionRefused>

export interface TrustDb {
  /** A new one-time token: returned once, only its digest stored. */
  readonly createToken: (
    role: NodeRole,
    now: number,
    ttlMillis: number,
  ) => Effect.Effect<{ readonly token: string; readonly record: JoinTokenRecord }, NodeTrustError>
  readonly listTokens: Effect.Effect<ReadonlyArray<JoinTokenRecord>, NodeTrustError>
  readonly listNodes: Effect.Effect<ReadonlyArray<TrustedNode>, NodeTrustError>
  readonly revoke: (node: string, now: number) => Effect.Effect<RevokeResult, NodeTrustError>
  /**
   * In one transaction: a known node with the same key (not revoked), or a new node whose unused,
   * unexpired token is consumed as it is trusted. Nothing is written for a refusal. A Hello that proves it
   * holds a token (`joinProof`) rather than sending it is checked over `proofText` (`joinProofText`).
   */
  readonly admit: (hello: Hello, now: number, proofText?: string) => Effect.Effect<Admission, NodeTrustError>
  readonly revokedNodes: Effect.Effect<ReadonlyArray<NodeId>, NodeTrustError>
}

const refuse = (reason: AdmissionRefused["reason"], detail: string): Admission =>
  Either.left(new AdmissionRefused({ reason, detail }))

/** Opens (creating it 0600, its directory 0700) nodes.db at `path` for the life of the scope. */
export const openTrustDb = (path: string) =>
  Effect.gen(function* () {
    const db = yield* openPrivateSqlite(path, {
      schema,
      busyTimeoutMs: 5000,
      onError: (detail) => new NodeTrustError({ operation: "open the node list", detail }),
    })
    const attempt = <A>(operation: string, body: () => A) =>
      Effect.try({ try: body, catch: (e) => new NodeTrustError({ operation, detail: String(e) }) })

    const insertToken = db.prepare(
      "INSERT INTO join_tokens (digest, role, created_at, expires_at) VALUES (?, ?, ?, ?)",
    )
    const allTokens = db.prepare("SELECT * FROM join_tokens ORDER BY created_at, rowid")
    const allNodes = db.prepare("SELECT * FROM nodes ORDER BY added_at, rowid")
    const nodeById = db.prepare("SELECT * FROM nodes WHERE id = ?")
    const tokenByDigest = db.prepare("SELECT * FROM join_tokens WHERE digest = ?")
    const markRevoked = db.prepare("UPDATE nodes SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
    const seen = db.prepare("UPDATE nodes SET last_seen_at = ?, label = ? WHERE id = ?")
    const insertNode = db.prepare(
      "INSERT INTO nodes (id, public_key, role, label, added_at, last_seen_at, token_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    const useToken = db.prepare(
      "UPDATE join_tokens SET used_at = ?, used_by = ? WHERE digest = ? AND used_at IS NULL",
    )
    const revokedIds = db.prepare("SELECT id FROM nodes WHERE revoked_at IS NOT NULL ORDER BY id")

    /** The token whose proof over `text` is `proof`: each token's digest is tried (a few rows at most). */
    const provenToken = (proof: string, text: string): TokenRow | undefined => {
      const given = Buffer.from(proof, "utf8")
      return (allTokens.all() as Array<TokenRow>).find((row) => {
        const expected = Buffer.from(joinProofWith(row.digest, text), "utf8")
        return expected.length === given.length && timingSafeEqual(expected, given)
      })
    }

    const admitNow = db.transaction((hello: Hello, now: number, proofText: string | undefined): Admission => {
      const label = hello.label ?? hello.node
      const known = nodeById.get(hello.node) as NodeRow | undefined
      if (known !== undefined) {
        if (known.revoked_at !== null)
          return refuse(
            "revoked",
            `node ${hello.node} was revoked on this main node and is not admitted again`,
          )
        if (known.public_key !== hello.publicKey)
          return refuse(
            "key-mismatch",
            `node ${hello.node} is trusted with another key: a node that lost its key needs a new node id and join token`,
          )
        seen.run(now, label, hello.node)
        return Either.right({ role: decodeRole(known.role), label })
      }
      const proven =
        hello.joinProof === undefined || proofText === undefined
          ? undefined
          : { token: provenToken(hello.joinProof, proofText) }
      if (hello.joinToken === undefined && proven === undefined)
        return refuse(
          "unknown-node",
          `node ${hello.node} is not trusted here: run \`huskies token create\` on the main node and start the node with --token`,
        )
      const token =
        proven?.token ??
        // A token as printed ends with the main node's key digest (the node's to check): the secret counts here.
        (hello.joinToken === undefined
          ? undefined
          : (tokenByDigest.get(joinTokenDigest(joinTokenParts(hello.joinToken).secret)) as
              TokenRow | undefined))
      if (token === undefined)
        return refuse(
          "token-unknown",
          "the join token is not one this main node made: check it was copied whole",
        )
      if (token.used_at !== null)
        return refuse("token-used", "the join token was used already (each admits one node): make a new one")
      if (token.expires_at <= now)
        return refuse(
          "token-expired",
          "the join token has expired: make a new one with `huskies token create`",
        )
      useToken.run(now, hello.node, token.digest)
      insertNode.run(hello.node, hello.publicKey, token.role, label, now, now, tokenIdOf(token.digest))
      return Either.right({ role: decodeRole(token.role), label })
    })

    return {
      createToken: (role, now, ttlMillis) =>
        attempt("make a join token", () => {
          const token = tokenPrefix + randomBytes(32).toString("base64url")
          const digest = joinTokenDigest(token)
          insertToken.run(digest, role, now, now + ttlMillis)
          return {
            token,
            record: toToken({
              digest,
              role,
              created_at: now,
              expires_at: now + ttlMillis,
              used_at: null,
              used_by: null,
            }),
          }
        }),
      listTokens: attempt("list the join tokens", () => (allTokens.all() as Array<TokenRow>).map(toToken)),
      listNodes: attempt("list the nodes", () => (allNodes.all() as Array<NodeRow>).map(toNode)),
      revoke: (node, now) =>
        attempt("revoke a node", (): RevokeResult => {
          if (markRevoked.run(now, node).changes === 1) return "revoked"
          return nodeById.get(node) === undefined ? "unknown" : "already-revoked"
        }),
      // IMMEDIATE: the write lock is taken before the token is read, so two admissions (or processes)
      // racing for one token cannot both find it unused.
      admit: (hello, now, proofText) =>
        attempt("admit a node", () => admitNow.immediate(hello, now, proofText)),
      revokedNodes: attempt("read the revoked nodes", () =>
        (revokedIds.all() as Array<{ id: NodeId }>).map((r) => r.id),
      ),
    } satisfies TrustDb
  })
