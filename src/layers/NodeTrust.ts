// src/layers/NodeTrust.ts — the main node's NodeAdmission over `.huskies/nodes.db`: one-use challenges,
// Hello checks (protocol, Ed25519 signature, trusted key, or a one-time join token or proof of one),
// in-memory tickets for /rpc, and revocations (`huskies node revoke` in another process) seen within a
// poll. Used by serve.
import { Clock, Duration, Effect, Either, Layer, Option, PubSub, Schedule, Stream } from "effect"
import { randomBytes } from "node:crypto"
import type { NodeId } from "../domain/ExecutionState.js"
import {
  AdmissionRefused,
  type AdmittedPeer,
  type Challenge,
  type Hello,
  joinProofText,
  NodeAdmission,
  type NodeAdmissionShape,
  NodeIdentity,
  signedText,
  supportedNodeProtocols,
} from "../protocol/nodeHandshake.js"
import { withComponent } from "./Logs.js"
import { NodeIdentityLive, nodeKeyPath, verifySignature } from "./NodeKeys.js"
import { nodesDbPath, openTrustDb } from "./nodeTrustDb.js"

export interface NodeTrustOptions {
  /** How long a challenge may be answered (default 30 s). */
  readonly challengeTtl?: Duration.DurationInput
  /** How often nodes.db is checked for revocations made by another process (default 250 ms). */
  readonly pollEvery?: Duration.DurationInput
  /** Challenges waiting for an answer at most; the oldest is dropped past it (default 1,024). */
  readonly maxPendingChallenges?: number
}

const refused = (reason: AdmissionRefused["reason"], detail: string, supported?: ReadonlyArray<number>) =>
  new AdmissionRefused({ reason, detail, ...(supported === undefined ? {} : { supported }) })

const make = (path: string, options: NodeTrustOptions) =>
  Effect.gen(function* () {
    const identity = yield* NodeIdentity
    const server = identity.node
    const challengeTtl = Duration.toMillis(options.challengeTtl ?? "30 seconds")
    const maxPending = options.maxPendingChallenges ?? 1024
    const db = yield* openTrustDb(path)

    // These maps are touched only inside Effect.sync blocks, which run to the end without yielding,
    // so no two fibers ever interleave on them. Nonce -> when it expires.
    const pending = new Map<string, number>()
    const tickets = new Map<string, AdmittedPeer>()
    const revoked = new Set<NodeId>(yield* db.revokedNodes)
    const revocations = yield* Effect.acquireRelease(PubSub.unbounded<NodeId>(), PubSub.shutdown)
    const disconnections = yield* Effect.acquireRelease(PubSub.unbounded<NodeId>(), PubSub.shutdown)

    const challenge = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const nonce = randomBytes(32).toString("base64url")
      yield* Effect.sync(() => {
        for (const [n, expires] of pending) if (expires <= now) pending.delete(n)
        // Unauthenticated peers make these: bounded, the oldest goes first (a Map keeps insertion order).
        while (pending.size >= maxPending) {
          const oldest = pending.keys().next()
          if (oldest.done === true) break
          pending.delete(oldest.value)
        }
        pending.set(nonce, now + challengeTtl)
      })
      return { _tag: "Challenge", nonce, server, protocols: supportedNodeProtocols } satisfies Challenge
    })

    const check = (given: Challenge, hello: Hello, now: number): Effect.Effect<void, AdmissionRefused> =>
      Effect.suspend(() => {
        const expires = pending.get(given.nonce)
        // Used once, whatever the answer: a refused Hello cannot be retried on the same nonce.
        pending.delete(given.nonce)
        if (expires === undefined || expires <= now || given.server !== server)
          return Effect.fail(
            refused(
              "bad-signature",
              "the challenge was not made by this main node, was answered already or has expired: connect again",
            ),
          )
        if (!supportedNodeProtocols.includes(hello.protocol))
          return Effect.fail(
            refused(
              "protocol",
              `this main node speaks node protocol ${supportedNodeProtocols.join(", ")} and the node ${hello.protocol}: ` +
                "run a huskies on the node that speaks one of these (upgrade the main node first)",
              supportedNodeProtocols,
            ),
          )
        // Signed over this server's id and this nonce: a signature made for another server or another
        // challenge does not verify.
        const text = signedText({ server, nonce: given.nonce }, hello)
        if (!verifySignature(hello.publicKey, text, hello.signature))
          return Effect.fail(refused("bad-signature", "the Hello's signature does not verify with its key"))
        return Effect.void
      })

    const admit = (given: Challenge, hello: Hello) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        yield* check(given, hello, now)
        // A database that fails here is a broken server, not a refusal the peer could act on.
        const found = yield* Effect.orDie(
          db.admit(hello, now, joinProofText({ server, nonce: given.nonce }, hello)),
        )
        if (Either.isLeft(found)) return yield* found.left
        const peer: AdmittedPeer = {
          node: hello.node,
          role: found.right.role,
          label: found.right.label,
          version: hello.version,
          ticket: randomBytes(32).toString("base64url"),
        }
        yield* Effect.sync(() => tickets.set(peer.ticket, peer))
        yield* Effect.logInfo("node admitted").pipe(
          Effect.annotateLogs({ node: peer.node, role: peer.role, label: peer.label }),
        )
        return peer
      }).pipe(
        Effect.tapError((e) =>
          // The reason and the node's claimed id only: a Hello may carry a join token.
          Effect.logWarning(`node refused: ${e.detail}`).pipe(
            Effect.annotateLogs({ node: hello.node, reason: e.reason }),
          ),
        ),
        withComponent("nodes"),
      )

    const byTicket = (ticket: string) =>
      Effect.sync(() => {
        const peer = tickets.get(ticket)
        return peer === undefined || revoked.has(peer.node) ? Option.none() : Option.some(peer)
      })

    // A ticket counts while its sync connection is open: when a node's last one ends, so does its RPC
    // attachment (a node that reconnected first keeps the newer ticket, and its attachment with it).
    const end = (ticket: string) =>
      Effect.suspend(() => {
        const peer = tickets.get(ticket)
        tickets.delete(ticket)
        if (peer === undefined) return Effect.void
        for (const other of tickets.values()) if (other.node === peer.node) return Effect.void
        return PubSub.publish(disconnections, peer.node)
      })

    // Revocations written by any process (`huskies node revoke`): the few revoked ids are read on each
    // poll. `PRAGMA data_version` would be cheaper but missed other processes' commits in tests. With no
    // node connected there is nothing to cut off (admit reads revocations itself), so nothing is read:
    // a main node without workers does no I/O for them.
    const poll = Effect.gen(function* () {
      if (tickets.size === 0) return
      const fresh = (yield* db.revokedNodes).filter((node) => !revoked.has(node))
      for (const node of fresh) {
        revoked.add(node)
        for (const [ticket, peer] of tickets) if (peer.node === node) tickets.delete(ticket)
        yield* Effect.logInfo("node revoked: its connections close").pipe(Effect.annotateLogs({ node }))
        yield* PubSub.publish(revocations, node)
      }
    }).pipe(
      // Safe to drop: the next poll reads the same rows again.
      Effect.catchAll((e) => Effect.logWarning(`could not read revocations: ${e.message}`)),
      withComponent("nodes"),
    )
    yield* poll
    yield* Effect.forkScoped(Effect.repeat(poll, Schedule.spaced(options.pollEvery ?? "250 millis")))

    return {
      challenge,
      admit,
      byTicket,
      end,
      revocations: Stream.fromPubSub(revocations),
      disconnections: Stream.fromPubSub(disconnections),
    } satisfies NodeAdmissionShape
  })

/** NodeAdmission over the nodes.db at `path`, for the server whose NodeIdentity is provided. */
export const NodeAdmissionLive = (path: string, options: NodeTrustOptions = {}) =>
  Layer.scoped(NodeAdmission, make(path, options))

/**
 * The main node's NodeIdentity (`.huskies/node.key`) and NodeAdmission (`.huskies/nodes.db`) for the
 * project at `root`, over its open store (Persistence gives the node id): what serve provides to the
 * sync route and the access guard.
 */
export const MainNodeTrustLive = (root: string, options: NodeTrustOptions = {}) =>
  NodeAdmissionLive(nodesDbPath(root), options).pipe(Layer.provideMerge(NodeIdentityLive(nodeKeyPath(root))))
