// src/layers/PeerBarrier.ts — round trips with every connected node: `confirm` returns once this node's
// writes so far have reached each node it syncs with, and what each wrote before it had them has come
// back here. The sync sessions (src/transports/sync/barrier.ts) register their links; the claim keeper
// confirms a fresh claim with it before any work starts. Built once per server, beneath both.
import { Context, Effect, HashMap, Layer, Ref, Schema, type Scope } from "effect"

/** The connection a round trip ran on ended first: that node is cut off, as in a partition. */
export class PeerGone extends Schema.TaggedError<PeerGone>()("PeerGone", {
  peer: Schema.String,
}) {
  override get message(): string {
    return `the connection with ${this.peer} ended before the round trip completed`
  }
}

/** One sync connection, as the barrier sees it. */
export interface PeerLink {
  /** The node at the other end. */
  readonly peer: string
  /**
   * Asks the other end to answer once it has everything this node has now, and waits until this node has
   * everything the other end had when it answered.
   */
  readonly roundTrip: Effect.Effect<void, PeerGone>
}

export interface PeerBarrierShape {
  /** Makes `link` part of every barrier while the caller's scope is open (one sync session's life). */
  readonly register: (link: PeerLink) => Effect.Effect<void, never, Scope.Scope>
  /**
   * One round trip with every registered link but `except`'s (the node that asked for this one), all at
   * once. A connection that ends meanwhile counts as done: that node is cut off, and its writes meet
   * this node's as in any partition. With no link at all it returns at once. The nodes it heard from.
   */
  readonly confirm: (except?: string) => Effect.Effect<ReadonlyArray<string>>
}

export class PeerBarrier extends Context.Tag("huskies/PeerBarrier")<PeerBarrier, PeerBarrierShape>() {}

export const makePeerBarrier: Effect.Effect<PeerBarrierShape> = Effect.gen(function* () {
  const links = yield* Ref.make(HashMap.empty<number, PeerLink>())
  const counter = yield* Ref.make(0)
  const register = (link: PeerLink) =>
    Effect.gen(function* () {
      const key = yield* Ref.getAndUpdate(counter, (n) => n + 1)
      yield* Effect.acquireRelease(Ref.update(links, HashMap.set(key, link)), () =>
        Ref.update(links, HashMap.remove(key)),
      )
    })
  const confirm = (except?: string) =>
    Effect.gen(function* () {
      const now = [...HashMap.values(yield* Ref.get(links))].filter((l) => l.peer !== except)
      if (now.length === 0) return []
      const heard = yield* Effect.forEach(
        now,
        (link) =>
          link.roundTrip.pipe(
            Effect.as([link.peer]),
            // A node cut off meanwhile is in a partition: its claims converge by the holder rule later.
            Effect.catchTag("PeerGone", (e) => Effect.as(Effect.logInfo(e.message), [])),
          ),
        { concurrency: "unbounded" },
      )
      return heard.flat()
    })
  return { register, confirm } satisfies PeerBarrierShape
})

/** The server's barrier, empty until a sync session registers. */
export const PeerBarrierLive: Layer.Layer<PeerBarrier> = Layer.effect(PeerBarrier, makePeerBarrier)
