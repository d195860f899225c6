// test/support/waits.test.ts — the waits every other test relies on, on a real Store with the TestClock:
// awaitStore answers at once or on the change that makes its probe hold, and a timeout of either wait
// fails naming what it was waiting for, never passing silently.
import { expect, layer } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Option, Ref, TestClock } from "effect"
import { join } from "node:path"
import { Store } from "../../src/layers/Store.js"
import { storeLayer } from "./store.js"
import { tempDir } from "./tempDir.js"
import { awaitStore, eventually, holds, watchStore } from "./waits.js"

const story = (name: string) => ({ kind: "story" as const, name, content: `---\nname: ${name}\n---\n` })

/** A Store on a temp file for this file's tests, removed with the layer. */
const StoreOnTempFile = Layer.unwrapScoped(
  Effect.map(
    Effect.acquireRelease(Effect.sync(tempDir), ({ cleanup }) => Effect.sync(cleanup)),
    ({ dir }) => storeLayer(join(dir, "huskies.db")),
  ),
)

/** The item whose id ends in `slug`, once there is one. */
const withSlug = (slug: string) =>
  Effect.flatMap(Store, (store) =>
    Effect.map(store.list, ({ items }) => items.find((i) => i.id.endsWith(`_${slug}`))),
  )

/** The message a wait that died gave, if it died. */
const deathOf = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.isFailure(exit)
    ? Option.map(Cause.dieOption(exit.cause), (defect) =>
        defect instanceof Error ? defect.message : String(defect),
      )
    : Option.none()

layer(StoreOnTempFile)("awaitStore", (it) => {
  it.effect("answers at once when the probe already holds, with no event to wait for", () =>
    Effect.gen(function* () {
      const store = yield* Store
      yield* store.create(story("Already here"))
      const found = yield* awaitStore("the item", withSlug("already_here"))
      expect(found?.id).toMatch(/_story_already_here$/)
    }),
  )

  it.effect("answers on the write that makes the probe hold, without any clock moving", () =>
    Effect.gen(function* () {
      const store = yield* Store
      const waiting = yield* Effect.fork(awaitStore("the item", withSlug("written_later")))
      yield* Effect.yieldNow()
      expect(Option.isNone(yield* Fiber.poll(waiting))).toBe(true)
      yield* store.create(story("Written later"))
      expect((yield* Fiber.join(waiting))?.id).toMatch(/_story_written_later$/)
    }),
  )

  it.scoped("watchStore sees what came and went before the test asked for it", () =>
    Effect.gen(function* () {
      const store = yield* Store
      const seen = yield* watchStore("the short-lived item", withSlug("short_lived"))
      const item = yield* store.create(story("Short lived"))
      // Anything else that runs in between (here, only a yield) gives the watcher its look.
      yield* Effect.yieldNow()
      yield* store.delete(item.id)
      expect((yield* seen)?.id).toBe(item.id)
      expect(yield* withSlug("short_lived")).toBeUndefined()
    }),
  )

  it.effect("dies at its deadline naming what it waited for", () =>
    Effect.gen(function* () {
      const waiting = yield* Effect.fork(awaitStore("an item that never comes", withSlug("never"), 5_000))
      yield* Effect.yieldNow()
      yield* TestClock.adjust("5 seconds")
      const exit = yield* Fiber.await(waiting)
      expect(deathOf(exit)).toEqual(Option.some("waited 5000 ms for an item that never comes"))
    }),
  )
})

layer(Layer.empty)("eventually", (it) => {
  it.effect("looks again every interval until the probe gives a value", () =>
    Effect.gen(function* () {
      const looks = yield* Ref.make(0)
      const probe = Effect.map(
        Ref.updateAndGet(looks, (n) => n + 1),
        (n) => (n >= 3 ? n : undefined),
      )
      const waiting = yield* Effect.fork(eventually("the third look", probe, { every: "1 second" }))
      yield* TestClock.adjust("1 second")
      expect(Option.isNone(yield* Fiber.poll(waiting))).toBe(true)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(waiting)).toBe(3)
      expect(yield* Ref.get(looks)).toBe(3)
    }),
  )

  it.effect("dies at its deadline naming what it waited for, with the detail read then", () =>
    Effect.gen(function* () {
      const waiting = yield* Effect.fork(
        eventually("a condition that never holds", Effect.succeed(holds(false)), {
          millis: 1_000,
          detail: () => "server output",
        }),
      )
      yield* Effect.yieldNow()
      yield* TestClock.adjust("1 second")
      expect(deathOf(yield* Fiber.await(waiting))).toEqual(
        Option.some("waited 1000 ms for a condition that never holds\nserver output"),
      )
    }),
  )
})
