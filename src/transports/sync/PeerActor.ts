// src/transports/sync/PeerActor.ts — a node's connection to the main node's /crdt-sync: dials, answers the
// Challenge with NodeIdentity and a challenge of its own, checks the Welcome's signature and the main node's
// key before any document byte, then syncs (state vectors both ways after every gap, updates both ways,
// awareness). Reconnects with capped, jittered exponential backoff; a Refusal, or a main node it does not
// trust, ends it (retrying cannot help). Its status says whether it is connected, when it last synced and
// how far behind it may be. Used by the worker mode (`huskies agent --rendezvous`), where its loop is the child
// `sync-peer` of serve's tree: a defect in it is restarted there, and the restarted loop backs off first.
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as Socket from "@effect/platform/Socket"
import {
  Clock,
  Context,
  Deferred,
  Effect,
  Either,
  Layer,
  Queue,
  Random,
  Ref,
  Schema,
  SubscriptionRef,
} from "effect"
import { randomBytes } from "node:crypto"
import { ServeTree } from "../../actors/rootSupervisor.js"
import { answerChallenge, keyFingerprint, verifyWelcome } from "../../layers/NodeKeys.js"
import { withComponent } from "../../layers/Logs.js"
import { Replica } from "../../layers/Replica.js"
import {
  AdmissionRefused,
  Challenge,
  HandshakeFrame,
  type MainNodeDistrust,
  MainNodeUntrusted,
  NodeIdentity,
  type NodeRole,
  type RefusalReason,
} from "../../protocol/nodeHandshake.js"
import { makePresence } from "./presence.js"
import { nextFrame, overSocket, PeerMisbehaved, runSession, type Wire } from "./session.js"
import { syncPath } from "./SyncServer.js"

export interface PeerStatus {
  readonly connected: boolean
  /** The main node's id, once a Challenge named it. */
  readonly server: string | undefined
  readonly role: NodeRole | undefined
  /** The Welcome's ticket for this node's /rpc connection, while this sync connection is open. */
  readonly ticket: string | undefined
  /** When the last update from the main node was applied (its sync step 2 after a gap, or a live update). */
  readonly lastSyncAt: number | undefined
  /**
   * The time of the oldest write of this node the main node may not have yet (made while disconnected);
   * undefined once a resync has sent them. How far behind the main node is: now minus this.
   */
  readonly unsentSince: number | undefined
  /** When the connection last opened and was admitted. */
  readonly connectedAt: number | undefined
  /** Dials since the last admitted connection (0 while connected). */
  readonly attempts: number
  /** Why the last connection ended, if one did. */
  readonly lastError: string | undefined
  /** The main node refused this node, or this node the main node: the actor stopped and does not retry. */
  readonly refused:
    { readonly reason: RefusalReason | MainNodeDistrust; readonly message: string } | undefined
}

/** The main node as its signed Welcome showed it: its id and the key that signed. */
export interface MainNodeKey {
  readonly server: string
  /** SPKI DER, base64url. */
  readonly publicKey: string
}

export interface PeerActorShape {
  readonly status: Effect.Effect<PeerStatus>
  readonly changes: SubscriptionRef.SubscriptionRef<PeerStatus>
  /** Every awareness state known now: the main node's and the other nodes' (this one's included). */
  readonly presence: Effect.Effect<ReadonlyArray<Record<string, unknown>>>
  /** Completes when the main node refused this node, or this node the main node (the actor has stopped). */
  readonly refusal: Deferred.Deferred<AdmissionRefused | MainNodeUntrusted>
}

export class PeerActor extends Context.Tag("huskies/sync/PeerActor")<PeerActor, PeerActorShape>() {}

export interface PeerActorOptions {
  /** The main node: `ws://host:port` (or http://, turned into ws://). */
  readonly rendezvous: string
  /** The one-time join token, for this node's first admission. */
  readonly joinToken?: string
  readonly label?: string
  readonly version?: string
  /** Backoff of reconnects: first delay, and the cap (defaults 250 ms, 10 s); each delay is jittered. */
  readonly backoffMillis?: { readonly first: number; readonly max: number }
  readonly keepAliveMillis?: number
  readonly idleMillis?: number
  /**
   * Whether the key that signed the Welcome is the main node's, checked on every connection before any
   * document byte (a worker checks it against the key it pinned when it joined). By default the first key
   * seen is kept for the life of the actor and any other is refused.
   */
  readonly trustMain?: (main: MainNodeKey) => Effect.Effect<void, MainNodeUntrusted>
}

/** The sync URL of a rendezvous address. */
export const syncUrl = (rendezvous: string): string => {
  const url = new URL(rendezvous.replace(/^http/, "ws"))
  url.pathname = syncPath
  url.search = "?peer=node"
  return url.toString()
}

/** The delay before reconnect number `attempt` (1, 2, ...): exponential, capped, with full jitter in its upper half. */
export const backoffDelay = (attempt: number, first: number, max: number, random: number): number => {
  const ceiling = Math.min(max, first * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (ceiling / 2) * random)
}

const decodeHandshake = Schema.decodeUnknownEither(Schema.parseJson(HandshakeFrame))
const decodeChallenge = Schema.decodeUnknownEither(Schema.parseJson(Challenge))

const initial: PeerStatus = {
  connected: false,
  server: undefined,
  role: undefined,
  ticket: undefined,
  lastSyncAt: undefined,
  unsentSince: undefined,
  connectedAt: undefined,
  attempts: 0,
  lastError: undefined,
  refused: undefined,
}

const make = (options: PeerActorOptions) =>
  Effect.gen(function* () {
    const replica = yield* Replica
    const identity = yield* NodeIdentity
    const url = syncUrl(options.rendezvous)
    const { first, max } = options.backoffMillis ?? { first: 250, max: 10_000 }
    const idleMillis = options.idleMillis ?? 35_000
    const status = yield* SubscriptionRef.make(initial)
    const refusal = yield* Deferred.make<AdmissionRefused | MainNodeUntrusted>()
    const label = options.label ?? identity.node
    const presence = yield* makePresence(
      { node: identity.node, label, role: "worker" },
      options.keepAliveMillis ?? 10_000,
    )
    const set = (f: (s: PeerStatus) => PeerStatus) => SubscriptionRef.update(status, f)
    const firstKey = yield* Ref.make<string | undefined>(undefined)
    const trustMain =
      options.trustMain ??
      ((main: MainNodeKey) =>
        Effect.flatMap(
          Ref.modify(firstKey, (kept) => [
            kept === undefined || kept === main.publicKey,
            kept ?? main.publicKey,
          ]),
          (same) =>
            same
              ? Effect.void
              : new MainNodeUntrusted({
                  reason: "key-mismatch",
                  detail: `the main node at ${url} now signs with another key (${keyFingerprint(main.publicKey)})`,
                }),
        ))

    /** The Challenge and our Hello; the Welcome's role, or the Refusal as a failure. */
    const handshake = (wire: Wire) =>
      Effect.gen(function* () {
        const first = yield* nextFrame(wire, url, idleMillis)
        const challenge = decodeChallenge(typeof first === "string" ? first : "")
        if (Either.isLeft(challenge))
          return yield* new PeerMisbehaved({ peer: url, detail: "the first frame is not a Challenge" })
        // Ours to the main node, new for each connection: a Welcome signed for another one proves nothing.
        const ours = randomBytes(32).toString("base64url")
        const hello = answerChallenge(identity, challenge.right, {
          challenge: ours,
          // Only a proof of the token: whoever answered, the token itself never leaves this node.
          ...(options.joinToken === undefined ? {} : { joinProofOf: options.joinToken }),
          label,
          ...(options.version === undefined ? {} : { version: options.version }),
        })
        yield* Queue.offer(wire.outbox, JSON.stringify(hello))
        const answer = yield* nextFrame(wire, url, idleMillis)
        const verdict = decodeHandshake(typeof answer === "string" ? answer : "")
        if (Either.isLeft(verdict) || (verdict.right._tag !== "Welcome" && verdict.right._tag !== "Refusal"))
          return yield* new PeerMisbehaved({
            peer: url,
            detail: "the answer to Hello is neither Welcome nor Refusal",
          })
        if (verdict.right._tag === "Refusal") {
          const { reason, message, supported } = verdict.right
          return yield* new AdmissionRefused({
            reason,
            detail: message,
            ...(supported === undefined ? {} : { supported }),
          })
        }
        // Who answered must prove it is the main node before this node sends it any document byte.
        const signer = verifyWelcome(challenge.right, { node: identity.node, challenge: ours }, verdict.right)
        if (Either.isLeft(signer)) return yield* signer.left
        yield* trustMain({ server: challenge.right.server, publicKey: signer.right })
        return { server: challenge.right.server, role: verdict.right.role, ticket: verdict.right.ticket }
      })

    const connectOnce = Effect.gen(function* () {
      const socket = yield* Socket.makeWebSocket(url, { closeCodeIsError: () => true })
      yield* overSocket(socket, (wire) =>
        Effect.scoped(
          Effect.gen(function* () {
            const admitted = yield* handshake(wire)
            const now = yield* Clock.currentTimeMillis
            yield* set((s) => ({ ...s, connected: true, connectedAt: now, attempts: 0, ...admitted }))
            yield* Effect.addFinalizer(() => set((s) => ({ ...s, connected: false, ticket: undefined })))
            return yield* runSession(wire, {
              replica,
              peer: admitted.server,
              acceptsWrites: true,
              presence,
              idleMillis,
              history: true,
              // The main node's first update comes after our answer to its state vector: what we wrote
              // while apart is on its way.
              onReceived: (_, at) => set((s) => ({ ...s, lastSyncAt: at, unsentSince: undefined })),
            })
          }),
        ),
      )
    }).pipe(Effect.provide(NodeSocket.layerWebSocketConstructor))

    const loop: Effect.Effect<void> = Effect.gen(function* () {
      for (;;) {
        const ended = yield* Effect.either(connectOnce)
        const error = Either.isLeft(ended) ? ended.left : undefined
        if (error instanceof AdmissionRefused || error instanceof MainNodeUntrusted) {
          const refused = error
          yield* set((s) => ({
            ...s,
            connected: false,
            refused: { reason: refused.reason, message: refused.detail },
          }))
          yield* Effect.logError(
            refused._tag === "AdmissionRefused"
              ? `the main node refused this node (${refused.reason}): ${refused.detail}`
              : `this node refused the main node at ${url} (${refused.reason}): ${refused.detail}`,
          )
          yield* Deferred.succeed(refusal, refused)
          return
        }
        const why = error === undefined ? "closed" : describe(error)
        const attempt = (yield* SubscriptionRef.get(status)).attempts + 1
        yield* set((s) => ({ ...s, connected: false, attempts: attempt, lastError: why }))
        const delay = backoffDelay(attempt, first, max, yield* Random.next)
        yield* Effect.logInfo(`sync with ${url} ended (${why}); reconnecting in ${delay} ms`)
        yield* Effect.sleep(delay)
      }
    }).pipe(withComponent("sync"))
    // Under serve's tree the loop is its child `sync-peer`: a defect in a connection is seen there and the
    // loop restarted, after the backoff a connection that failed would wait; outside it, forked here.
    const tree = yield* Effect.serviceOption(ServeTree)
    if (tree._tag === "None") yield* Effect.forkScoped(loop)
    else {
      const incarnations = yield* Ref.make(0)
      const afterCrash = Effect.gen(function* () {
        const attempt = (yield* SubscriptionRef.get(status)).attempts + 1
        const why = "the connection's loop crashed (the supervision tree restarted it)"
        yield* set((s) => ({ ...s, connected: false, attempts: attempt, lastError: why }))
        const delay = backoffDelay(attempt, first, max, yield* Random.next)
        yield* Effect.logWarning(`sync with ${url}: ${why}; reconnecting in ${delay} ms`)
        yield* Effect.sleep(delay)
      })
      yield* tree.value.loop(
        "sync-peer",
        Effect.gen(function* () {
          if ((yield* Ref.getAndUpdate(incarnations, (n) => n + 1)) > 0) yield* afterCrash
          yield* loop
          // Refused (or refusing): retrying cannot help, so the loop stays ended rather than dial again.
          return yield* Effect.never
        }),
      )
    }
    // Local writes made while disconnected wait for the next resync: the status says since when.
    const feed = yield* replica.subscribeUpdates
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          const { origin } = yield* Queue.take(feed)
          if (origin._tag !== "Local") return
          const at = yield* Clock.currentTimeMillis
          yield* set((s) => (s.connected || s.unsentSince !== undefined ? s : { ...s, unsentSince: at }))
        }),
      ),
    )
    return {
      status: SubscriptionRef.get(status),
      changes: status,
      refusal,
      presence: presence.states,
    } satisfies PeerActorShape
  })

const describe = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
    ? error.message
    : String(error)

/** The peer actor of this node: runs from layer build until its scope closes. */
export const PeerActorLive = (options: PeerActorOptions) => Layer.scoped(PeerActor, make(options))
