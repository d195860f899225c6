// test/layers/waitAtMost.test.ts — a bounded wait that holds in an uninterruptible region (where a stop
// waits for its process), without making that region interruptible from outside.
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Option, TestClock } from "effect"
import { waitAtMost } from "../../src/layers/waitAtMost.js"

describe("waitAtMost", () => {
  it.effect(
    "gives up at its deadline inside an uninterruptible region, where a plain timeout never does",
    () =>
      Effect.gen(function* () {
        const never = yield* Deferred.make<number>()
        const bounded = yield* Effect.fork(
          Effect.uninterruptible(waitAtMost(Deferred.await(never), "3 seconds")),
        )
        const plain = yield* Effect.fork(
          Effect.uninterruptible(Deferred.await(never).pipe(Effect.timeoutOption("3 seconds"))),
        )
        yield* Effect.yieldNow()
        yield* TestClock.adjust("3 seconds")
        expect(yield* Fiber.join(bounded)).toEqual(Option.none())
        // The plain one still waits long after its deadline (what hung every stop of an agent deaf to
        // SIGTERM): it ends only when what it awaits does.
        yield* TestClock.adjust("1 hour")
        expect(Option.isNone(yield* Fiber.poll(plain))).toBe(true)
        yield* Deferred.succeed(never, 1)
        yield* Fiber.join(plain)
      }),
  )

  it.effect("returns what arrives in time", () =>
    Effect.gen(function* () {
      const soon = yield* Deferred.make<number>()
      const waiting = yield* Effect.fork(
        Effect.uninterruptible(waitAtMost(Deferred.await(soon), "3 seconds")),
      )
      yield* Effect.yieldNow()
      yield* TestClock.adjust("1 second")
      yield* Deferred.succeed(soon, 7)
      expect(yield* Fiber.join(waiting)).toEqual(Option.some(7))
    }),
  )

  it.effect("leaves the caller uninterruptible: an interruption lets the region run to its end", () =>
    Effect.gen(function* () {
      const never = yield* Deferred.make<number>()
      const after = yield* Deferred.make<string>()
      const fiber = yield* Effect.fork(
        Effect.uninterruptible(
          waitAtMost(Deferred.await(never), "3 seconds").pipe(
            Effect.zipRight(Deferred.succeed(after, "the rest of the region ran")),
          ),
        ),
      )
      yield* Effect.yieldNow()
      const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* Effect.yieldNow()
      expect(Option.isNone(yield* Deferred.poll(after))).toBe(true)
      yield* TestClock.adjust("3 seconds")
      yield* Fiber.join(interrupting)
      expect(yield* Deferred.await(after)).toBe("the rest of the region ran")
    }),
  )
})
