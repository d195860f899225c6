// test/actors/claimKeeperTree.test.ts — the claim keeper's loops as a child of serve's tree, over a real
// SQLite store: a defect in what its heartbeat runs restarts them alone; the claims of work still running are
// not given back, the restarted keeper re-reads this node's live claims from the Store and renews them, so no
// other node could take them; closing the keeper's scope still gives them back.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Ref, type Scope, TestClock } from "effect"
import { join } from "node:path"
import { makeClaimKeeper } from "../../src/actors/claimKeeper.js"
import { ServeTree, ServeTreeLive } from "../../src/actors/rootSupervisor.js"
import type { ChildInfo } from "../../src/actors/Supervisor.js"
import type { StoryId } from "../../src/domain/StoryId.js"
import type { Store } from "../../src/layers/Store.js"
import { openStore } from "../support/store.js"
import { story } from "../support/pipeline.js"
import { scopedTempDir } from "../support/tempDir.js"

const lease = 30_000

const claimsChild = (tree: ServeTree["Type"]) =>
  Effect.map(tree.children, (children) => children.find((c) => c.key === "claims"))

/** Lets the forked fibers run until `done` holds (no time passes: the TestClock only moves when told). */
const settle = <A, E>(what: Effect.Effect<A, E>, done: (a: A) => boolean) =>
  Effect.gen(function* () {
    for (;;) {
      const a = yield* what
      if (done(a)) return a
      yield* Effect.yieldNow()
    }
  })

/** The heartbeat is asleep (it has read its lease and waits lease/3 by the Clock). */
const heartbeatAsleep = settle(TestClock.sleeps(), (sleeps) => sleeps.length > 0)

const leaseUntil = (store: Store["Type"], id: StoryId) =>
  Effect.map(store.holder(id), (h) => Option.getOrThrow(h).leaseUntil)

describe("the claim keeper under serve's tree", () => {
  it.scoped(
    "a defect restarts its loops alone; the claims of running work are re-read and still renewed",
    () =>
      Effect.gen(function* () {
        const dir = yield* scopedTempDir
        const store = yield* openStore(join(dir, "huskies.db"))
        const kept = (yield* store.create(story("Kept through a crash"))).id
        const adopted = (yield* store.create(story("Claimed before the crash"))).id
        const lost: Array<string> = []
        const ticks = yield* Ref.make(0)
        const run = <E>(body: Effect.Effect<void, E, ServeTree | Scope.Scope>) =>
          Effect.scoped(Effect.provide(body, ServeTreeLive({ intensity: 2, period: "1 minute" })))
        yield* run(
          Effect.gen(function* () {
            const tree = yield* ServeTree
            yield* Effect.scoped(
              Effect.gen(function* () {
                const keeper = yield* makeClaimKeeper({
                  store,
                  leaseMillis: Effect.succeed(lease),
                  lose: (id, why) => Effect.sync(() => lost.push(`${id}: ${why}`)),
                  // What the Scheduler runs after each heartbeat dies once: a bug in the keeper's loop.
                  onTick: Effect.flatMap(
                    Ref.getAndUpdate(ticks, (n) => n + 1),
                    (n) => (n === 0 ? Effect.dieMessage("the first tick's look-again failed") : Effect.void),
                  ),
                  run: (key, body) => tree.loop(key, body),
                })
                yield* keeper.claim(kept)
                // A claim of this node's that the keeper's memory does not hold: only the Store knows it.
                yield* store.claim(adopted, lease)
                yield* heartbeatAsleep
                expect(yield* claimsChild(tree)).toMatchObject({ running: true, restarts: 0 })

                // The first heartbeat renews what the keeper holds, then the tick dies: the tree restarts it.
                yield* TestClock.adjust(lease / 3)
                const restarted = yield* settle(
                  claimsChild(tree),
                  (c: ChildInfo | undefined) => c?.restarts === 1 && c.running,
                )
                expect(restarted).toMatchObject({ key: "claims", restarts: 1, running: true })
                expect(yield* leaseUntil(store, kept)).toBe(lease / 3 + lease)
                expect(yield* leaseUntil(store, adopted)).toBe(lease)
                // Nothing was given back by the crash: both claims are still this node's, live.
                expect(yield* keeper.holds(kept)).toBe(true)
                expect(yield* keeper.holds(adopted)).toBe(true)
                expect([...(yield* keeper.kept)].sort()).toEqual([kept, adopted].sort())

                // The restarted loops renew both, past the lease the first claims had.
                yield* heartbeatAsleep
                yield* TestClock.adjust(lease / 3)
                yield* settle(leaseUntil(store, adopted), (until) => until > lease)
                expect(yield* leaseUntil(store, kept)).toBe((2 * lease) / 3 + lease)
                expect(yield* leaseUntil(store, adopted)).toBe((2 * lease) / 3 + lease)
                yield* TestClock.adjust(lease)
                expect(yield* keeper.holds(kept)).toBe(true)
                expect(yield* keeper.holds(adopted)).toBe(true)
                expect(lost).toEqual([])
                expect(yield* tree.children).toHaveLength(1)
              }),
            )
            // The keeper's own scope closed (the server stops): its loops leave the tree, its claims go back.
            expect(yield* tree.children).toEqual([])
          }),
        )
        expect(yield* store.holder(kept)).toEqual(Option.none())
        expect(yield* store.holder(adopted)).toEqual(Option.none())
      }),
  )
})
