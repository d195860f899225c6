// src/transports/sync/barrier.ts — PeerBarrier's round trip over one sync connection, in two message types
// beside y-websocket's (a client that does not speak them ignores them): an Ask carries the asking side's
// state vector; the other side answers once it has all of that (the main node also once its other nodes
// have it and what they wrote before has come back) with its own; the asking side is done once it has
// that in turn. Attached to every session by runSession (session.ts).
import { Deferred, Effect, HashMap, Option, Queue, Ref, type Scope } from "effect"
import * as Y from "yjs"
import { PeerBarrier, PeerGone } from "../../layers/PeerBarrier.js"
import type { ReplicaShape } from "../../layers/Replica.js"
import { encode, FrameError, Reader } from "./frames.js"

/** The message types of the barrier (y-websocket uses 0 to 3). */
export const messageBarrierAsk = 20
export const messageBarrierAnswer = 21

export type BarrierFrame =
  | { readonly _tag: "Ask"; readonly id: number; readonly stateVector: Uint8Array }
  | { readonly _tag: "Answer"; readonly id: number; readonly stateVector: Uint8Array }

export const encodeBarrier = (frame: BarrierFrame): Uint8Array =>
  encode([frame._tag === "Ask" ? messageBarrierAsk : messageBarrierAnswer, frame.id], frame.stateVector)

/** The barrier frame in `bytes`; undefined when it is another message type; throws FrameError when cut short. */
export const decodeBarrier = (bytes: Uint8Array): BarrierFrame | undefined => {
  const reader = new Reader(bytes)
  const type = reader.varUint()
  if (type !== messageBarrierAsk && type !== messageBarrierAnswer) return undefined
  const id = reader.varUint()
  const stateVector = reader.varBytes()
  return { _tag: type === messageBarrierAsk ? "Ask" : "Answer", id, stateVector }
}

/** Whether a replica with state vector `have` has seen everything `want` names. */
export const covers = (have: Uint8Array, want: Uint8Array): boolean => {
  const seen = Y.decodeStateVector(have)
  for (const [client, clock] of Y.decodeStateVector(want)) if ((seen.get(client) ?? 0) < clock) return false
  return true
}

/** Waits (on the replica's committed updates, no polling) until it has everything `want` names. */
const covered = (replica: ReplicaShape, want: Uint8Array) =>
  Effect.scoped(
    Effect.gen(function* () {
      // Subscribed before the first look: an update committed in between is not missed.
      const feed = yield* replica.subscribeUpdates
      while (!covers(yield* replica.stateVector, want)) yield* Queue.takeBetween(feed, 1, 4096)
    }),
  )

export interface BarrierOptions {
  readonly replica: ReplicaShape
  /** The node at the other end. */
  readonly peer: string
  /** Whether its writes are applied here: only such a connection takes part in this node's barriers. */
  readonly acceptsWrites: boolean
}

export interface SessionBarrier {
  /** A frame of a message type y-websocket does not define: the barrier's is handled, any other ignored. */
  readonly received: (bytes: Uint8Array) => Effect.Effect<void, FrameError>
}

/**
 * The barrier's side of one session, for the session's life: answers the other end's Asks, and (with a
 * PeerBarrier in the context) registers this connection's round trip with it.
 */
export const attachBarrier = (
  outbox: Queue.Enqueue<Uint8Array>,
  options: BarrierOptions,
): Effect.Effect<SessionBarrier, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { replica, peer } = options
    const barrier = yield* Effect.serviceOption(PeerBarrier)
    const scope = yield* Effect.scope
    const pending = yield* Ref.make(HashMap.empty<number, Deferred.Deferred<Uint8Array>>())
    const counter = yield* Ref.make(0)
    const ended = yield* Deferred.make<void>()
    yield* Effect.addFinalizer(() => Deferred.succeed(ended, undefined))
    const send = (frame: BarrierFrame) => Queue.offer(outbox, encodeBarrier(frame))

    const roundTrip = Effect.gen(function* () {
      const id = yield* Ref.getAndUpdate(counter, (n) => n + 1)
      const answer = yield* Deferred.make<Uint8Array>()
      yield* Ref.update(pending, HashMap.set(id, answer))
      yield* send({ _tag: "Ask", id, stateVector: yield* replica.stateVector })
      const theirs = yield* Deferred.await(answer).pipe(
        Effect.ensuring(Ref.update(pending, HashMap.remove(id))),
      )
      yield* covered(replica, theirs)
    }).pipe(
      // What the round trip waits for comes through this connection: once it ends, nothing more will.
      Effect.raceFirst(Effect.zipRight(Deferred.await(ended), Effect.fail(new PeerGone({ peer })))),
    )

    const answer = (id: number, theirs: Uint8Array) =>
      Effect.gen(function* () {
        yield* covered(replica, theirs)
        // The main node: its other nodes must have it too, and what they wrote before be back here.
        if (Option.isSome(barrier)) yield* barrier.value.confirm(peer)
        yield* send({ _tag: "Answer", id, stateVector: yield* replica.stateVector })
      })

    if (Option.isSome(barrier) && options.acceptsWrites) yield* barrier.value.register({ peer, roundTrip })

    const received = (bytes: Uint8Array) =>
      Effect.gen(function* () {
        const frame = yield* Effect.try({
          try: () => decodeBarrier(bytes),
          catch: (e) => (e instanceof FrameError ? e : new FrameError(String(e))),
        })
        if (frame === undefined) return
        if (frame._tag === "Answer") {
          const waiting = HashMap.get(yield* Ref.get(pending), frame.id)
          if (Option.isSome(waiting)) yield* Deferred.succeed(waiting.value, frame.stateVector)
          return
        }
        // In a fiber of its own: the session goes on reading, and what the answer waits for comes through it.
        yield* Effect.forkIn(answer(frame.id, frame.stateVector), scope)
      })

    return { received } satisfies SessionBarrier
  })
