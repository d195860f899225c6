// src/actors/claimKeeper.ts — keeps this node's claims while their work runs: claims before work starts (a
// fresh claim confirmed with the connected nodes first), renews every lease/3 in one write (the heartbeat),
// stops the work of an item another node now holds (or whose lease ran out while this node was cut off) and
// releases what it holds when its Scope closes. One per node, made by the Scheduler (workClaims.ts) before its
// story actors; its two loops (the event watch and the heartbeat) run as one child of serve's tree, `claims`.
import { Effect, FiberMap, HashSet, Option, Queue, Ref, Schema, type Scope } from "effect"
import { type Claim, ClaimHeld, isLive } from "../domain/Claim.js"
import type { StoryId } from "../domain/StoryId.js"
import type { Store, StoreEvent } from "../layers/Store.js"

/** This node gave the item back (stopped, or its lease ran out) while its claim was being confirmed. */
export class ClaimNotConfirmed extends Schema.TaggedError<ClaimNotConfirmed>()("ClaimNotConfirmed", {
  storyId: Schema.String,
}) {
  override get message(): string {
    return `${this.storyId}: this node's claim was given back before the other nodes confirmed it; claim it again to work on it`
  }
}

export interface ClaimKeeper {
  /**
   * Claims the item for this node and keeps it renewed from now on. A fresh claim (not one this node keeps
   * already) returns only once `confirm` has run and the holder rule still names this node; otherwise its
   * entry is given back and the claim fails (ClaimHeld: another node has it), before any work started.
   */
  readonly claim: (
    id: StoryId,
  ) => Effect.Effect<
    Effect.Effect.Success<ReturnType<Store["Type"]["claim"]>>,
    Effect.Effect.Error<ReturnType<Store["Type"]["claim"]>> | ClaimNotConfirmed
  >
  /** Stops renewing and gives the item back (a no-op when this node had no entry left). */
  readonly release: (id: StoryId) => Effect.Effect<void>
  /** Whether this node is the item's live holder now, by the rule every replica computes. */
  readonly holds: (id: StoryId) => Effect.Effect<boolean>
  /** The items this node keeps claimed. */
  readonly kept: Effect.Effect<ReadonlyArray<StoryId>>
}

export interface ClaimKeeperOptions {
  readonly store: Store["Type"]
  /** `[nodes] lease_secs` in milliseconds, read at every claim and tick (a config edit applies to the next). */
  readonly leaseMillis: Effect.Effect<number>
  /**
   * Stops this node's work on an item it no longer holds, quietly: no push, no move; `why` names the holder.
   * Run in its own fiber (one per item), so a slow stop never delays the heartbeat of the others.
   */
  readonly lose: (id: StoryId, why: string) => Effect.Effect<void>
  /** Run after every heartbeat (the Scheduler looks again for items whose holder's lease ran out). */
  readonly onTick?: Effect.Effect<void>
  /**
   * Run after a fresh claim is written, before it counts: returns once the connected nodes have it and
   * whatever they claimed before they had it is here (PeerBarrier). None: a node alone needs no wait.
   */
  readonly confirm?: (id: StoryId) => Effect.Effect<void>
  /**
   * Runs the keeper's loops (`body`, which never ends by itself) for as long as the keeper's Scope lives,
   * restarting them after a defect: serve's tree (`ServeTree.loop`). By default they are forked in that
   * Scope, unsupervised.
   */
  readonly run?: (key: string, body: Effect.Effect<never>) => Effect.Effect<void, never, Scope.Scope>
}

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

/** Why a node lost an item, for its log and the item's history. */
export const lostReason = (holder: Option.Option<Claim>, at: number): string =>
  Option.match(holder, {
    onNone: () =>
      "this node's claim was given back or its lease ran out; it claims the item again before any more work",
    onSome: (claim) =>
      isLive(claim, at)
        ? `node ${claim.node} holds the item now (epoch ${claim.epoch}); this node stopped its work without pushing`
        : "this node's lease ran out before it could renew (cut off from the others?); it claims the item again before any more work",
  })

export const makeClaimKeeper = (
  options: ClaimKeeperOptions,
): Effect.Effect<ClaimKeeper, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { store } = options
    // Outside the loops, so a restart of them keeps what this node holds; a restart re-reads it anyway.
    const kept = yield* Ref.make(HashSet.empty<StoryId>())
    // Fresh claims waiting for confirmation: their entries are in the Store, but they do not count yet.
    const confirming = yield* Ref.make(HashSet.empty<StoryId>())
    const losing = yield* FiberMap.make<StoryId>()
    // Claims, releases and heartbeats one at a time: a heartbeat never renews an item released meanwhile.
    const lock = yield* Effect.makeSemaphore(1)
    const serial = lock.withPermits(1)

    const holds = (id: StoryId) =>
      Effect.gen(function* () {
        const holder = yield* Effect.either(store.holder(id))
        const at = yield* now
        return (
          holder._tag === "Right" &&
          Option.isSome(holder.right) &&
          holder.right.value.node === store.nodeId &&
          isLive(holder.right.value, at)
        )
      })

    /** Forgets the item and stops its work here, once. */
    const lose = (id: StoryId, why: string) =>
      Effect.gen(function* () {
        const had = HashSet.has(yield* Ref.get(kept), id)
        if (!had) return
        yield* Ref.update(kept, HashSet.remove(id))
        yield* Effect.logWarning(`${id}: lost its claim: ${why}`)
        yield* FiberMap.run(losing, id, options.lose(id, why), { onlyIfMissing: true })
      })

    const claim = (id: StoryId) =>
      Effect.gen(function* () {
        const { claimed, fresh } = yield* serial(
          Effect.gen(function* () {
            const fresh = !HashSet.has(yield* Ref.get(kept), id)
            return { claimed: yield* store.claim(id, yield* options.leaseMillis), fresh }
          }),
        )
        if (!fresh || options.confirm === undefined) {
          yield* Ref.update(kept, HashSet.add(id))
          return claimed
        }
        // Outside the lock: heartbeats and other claims go on meanwhile (this one is not renewed until it
        // counts; its lease outlasts the wait). Two nodes that claimed at once both see both entries after
        // this, so the holder rule names the same one on each, and the other starts nothing.
        // Interrupted meanwhile (the server stops): the entry is given back rather than left to run out (a
        // release that fails leaves it to run out, no worse).
        yield* Ref.update(confirming, HashSet.add(id))
        yield* options.confirm(id).pipe(
          Effect.onInterrupt(() => Effect.ignore(store.release(id))),
          Effect.ensuring(Ref.update(confirming, HashSet.remove(id))),
        )
        return yield* serial(
          Effect.gen(function* () {
            if (yield* holds(id)) {
              yield* Ref.update(kept, HashSet.add(id))
              return claimed
            }
            const holder = yield* holderOf(id)
            // Given back, so the holder rule never names this entry again at this epoch.
            yield* store.release(id)
            if (Option.isSome(holder) && holder.value.node !== store.nodeId)
              return yield* new ClaimHeld({
                storyId: id,
                holder: holder.value.node,
                leaseUntil: holder.value.leaseUntil,
              })
            return yield* new ClaimNotConfirmed({ storyId: id })
          }),
        )
      })

    const release = (id: StoryId) =>
      serial(
        Effect.gen(function* () {
          yield* Ref.update(kept, HashSet.remove(id))
          // Losing it here only delays the item: its lease runs out and any node may claim it then.
          yield* store
            .release(id)
            .pipe(Effect.catchAll((e) => Effect.logWarning(`${id}: claim not released: ${e.message}`)))
        }),
      )

    const heartbeat = serial(
      Effect.gen(function* () {
        const ids = [...(yield* Ref.get(kept))]
        if (ids.length === 0) return
        const renewal = yield* store.renew(ids, yield* options.leaseMillis)
        const at = yield* now
        for (const id of renewal.lost) yield* lose(id, lostReason(yield* holderOf(id), at))
        for (const error of renewal.errors) yield* Effect.logError(error.message)
      }),
    ).pipe(
      // A write that cannot be made now is tried at the next tick; leases outlast two missed ticks.
      Effect.catchAll((e) => Effect.logWarning(`claims not renewed: ${e.message}`)),
    )

    const holderOf = (id: StoryId) => Effect.orElseSucceed(store.holder(id), () => Option.none<Claim>())

    /** A change of an item's entries (here or replicated): lost when this node is no longer its live holder. */
    const recheck = (id: StoryId) =>
      serial(
        Effect.gen(function* () {
          if (!HashSet.has(yield* Ref.get(kept), id)) return
          if (yield* holds(id)) return
          yield* lose(id, lostReason(yield* holderOf(id), yield* now))
        }),
      )

    /**
     * After a restart of the loops: this node's live claims as the Store has them (not those still being
     * confirmed) are kept and renewed again, so the work holding them runs on; every kept item is checked
     * again, since changes made while the loops were down were not watched.
     */
    const reread = serial(
      Effect.gen(function* () {
        const { claims } = yield* store.claims
        const at = yield* now
        const pending = yield* Ref.get(confirming)
        const live = claims.filter(
          (c) => c.node === store.nodeId && isLive(c, at) && !HashSet.has(pending, c.storyId),
        )
        yield* Ref.update(kept, (set) => HashSet.union(set, HashSet.fromIterable(live.map((c) => c.storyId))))
        return [...(yield* Ref.get(kept))]
      }),
    ).pipe(Effect.flatMap((ids) => Effect.forEach(ids, recheck, { discard: true })))

    const watch = (events: Queue.Dequeue<StoreEvent>) =>
      Effect.forever(
        Effect.flatMap(Queue.take(events), (event) =>
          event._tag === "ClaimChanged"
            ? recheck(event.id)
            : event._tag === "ItemDeleted"
              ? Ref.update(kept, HashSet.remove(event.id))
              : Effect.void,
        ),
      )
    const beat = Effect.forever(
      Effect.gen(function* () {
        const lease = yield* options.leaseMillis
        yield* Effect.sleep(Math.max(1, Math.floor(lease / 3)))
        yield* heartbeat
        if (options.onTick !== undefined) yield* options.onTick
      }),
    )
    const incarnations = yield* Ref.make(0)
    // One body for both loops: a defect in either ends both, and the restarted body starts them together.
    const body: Effect.Effect<never> = Effect.scoped(
      Effect.gen(function* () {
        // Subscribed by each incarnation before it re-reads: no change falls between the two.
        const events = yield* store.subscribe
        if ((yield* Ref.getAndUpdate(incarnations, (n) => n + 1)) > 0) yield* reread
        const [never] = yield* Effect.all([watch(events), beat], { concurrency: "unbounded" })
        return never
      }),
    )
    yield* options.run === undefined ? Effect.asVoid(Effect.forkScoped(body)) : options.run("claims", body)
    // Stopping (SIGTERM, the server's scope closing): give back what this node holds, so another node may
    // take it at once instead of after the lease.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        for (const id of yield* Ref.get(kept)) yield* release(id)
      }),
    )

    return {
      claim,
      release,
      holds,
      kept: Effect.map(Ref.get(kept), (set) => [...set]),
    } satisfies ClaimKeeper
  })
