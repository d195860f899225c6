// test/actors/Actor.test.ts — the actor primitive: messages, replies, back-pressure, and that an actor's
// scope is released however it ends.
import { describe, expect, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Option, Ref, Scope, TestClock } from "effect"
import * as Actor from "../../src/actors/Actor.js"
import { Boom, counter, get, makeLog, type CounterMsg } from "./counter.js"

const hold = (ref: Actor.ActorRef<CounterMsg>) =>
  Effect.gen(function* () {
    const started = yield* Deferred.make<void>()
    const until = yield* Deferred.make<void>()
    yield* ref.tell({ _tag: "Hold", started, until })
    yield* Deferred.await(started)
    return until
  })

/** Lets every other ready fiber run; a blocked fiber stays blocked however long we wait. */
const settle = Effect.zipRight(Effect.yieldNow({ priority: 0 }), TestClock.adjust("1 second")).pipe(
  Effect.repeatN(5),
)

describe("Actor", () => {
  it.scoped("tell and ask round-trip through the actor's private state", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const ref = yield* Actor.spawn(counter({ name: "c", log }), { key: "c" })
      yield* ref.tell({ _tag: "Add", n: 2 })
      yield* ref.tell({ _tag: "Add", n: 3 })
      expect(yield* get(ref)).toBe(5)
      yield* ref.tell({ _tag: "Add", n: -1 })
      expect(yield* get(ref)).toBe(4)
      expect(yield* ref.poll).toEqual(Option.none())
    }),
  )

  it.scoped("init can message the actor through its own ref", () =>
    Effect.gen(function* () {
      const added = yield* Deferred.make<void>()
      const ref = yield* Actor.spawn(
        Actor.make({
          init: (self: Actor.ActorRef<CounterMsg>) => Effect.as(self.tell({ _tag: "Add", n: 40 }), 2),
          receive: (n: number, msg: CounterMsg) =>
            msg._tag === "Add"
              ? Effect.as(Deferred.succeed(added, undefined), n + msg.n)
              : msg._tag === "Get"
                ? Effect.as(Deferred.succeed(msg.reply, n), n)
                : Effect.succeed(n),
          mailboxSize: 4,
        }),
      )
      yield* Deferred.await(added)
      expect(yield* get(ref)).toBe(42)
    }),
  )

  it.scoped("asking or telling a stopped actor is an ActorStopped value", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const ref = yield* Actor.spawn(counter({ name: "c", log }), { key: "counter-1" })
      yield* ref.stop
      expect(yield* ref.poll).toEqual(Option.some(Actor.Normal))
      const askError = yield* Effect.flip(get(ref))
      expect(askError).toBeInstanceOf(Actor.ActorStopped)
      expect(askError.key).toBe("counter-1")
      const tellError = yield* Effect.flip(ref.tell({ _tag: "Add", n: 1 }))
      expect(tellError._tag).toBe("ActorStopped")
    }),
  )

  it.scoped("pending asks fail with ActorStopped when the actor is stopped or crashes", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const stoppedRef = yield* Actor.spawn(counter({ name: "a", log }))
      yield* hold(stoppedRef)
      const queuedAsk = yield* Effect.fork(get(stoppedRef))
      yield* settle
      expect(yield* Fiber.poll(queuedAsk)).toEqual(Option.none())
      yield* stoppedRef.stop
      expect((yield* Effect.flip(Fiber.join(queuedAsk)))._tag).toBe("ActorStopped")

      const crashingRef = yield* Actor.spawn(counter({ name: "b", log }))
      const until = yield* hold(crashingRef)
      yield* crashingRef.tell({ _tag: "Crash" })
      const askBehindCrash = yield* Effect.fork(get(crashingRef))
      yield* Deferred.succeed(until, undefined)
      expect((yield* Effect.flip(Fiber.join(askBehindCrash)))._tag).toBe("ActorStopped")
      expect((yield* crashingRef.await)._tag).toBe("Failed")
    }),
  )

  it.scoped("tell waits while the mailbox is full and resumes when the actor catches up", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const ref = yield* Actor.spawn(counter({ name: "c", log, mailboxSize: 1 }))
      const until = yield* hold(ref)
      yield* ref.tell({ _tag: "Add", n: 1 }) // fills the one mailbox slot
      const blocked = yield* Effect.fork(ref.tell({ _tag: "Add", n: 10 }))
      yield* settle
      expect(yield* Fiber.poll(blocked)).toEqual(Option.none())
      yield* Deferred.succeed(until, undefined)
      yield* Fiber.join(blocked)
      expect(yield* get(ref)).toBe(11)
    }),
  )

  it.scoped("a sender blocked on a full mailbox gets ActorStopped when the actor ends", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const ref = yield* Actor.spawn(counter({ name: "c", log, mailboxSize: 1 }))
      yield* hold(ref)
      yield* ref.tell({ _tag: "Add", n: 1 })
      const blocked = yield* Effect.fork(ref.tell({ _tag: "Add", n: 10 }))
      yield* settle
      expect(yield* Fiber.poll(blocked)).toEqual(Option.none())
      yield* ref.stop
      expect(yield* Effect.flip(Fiber.join(blocked))).toBeInstanceOf(Actor.ActorStopped)
    }),
  )

  it.scoped("finalizers run when the actor ends normally, and resources from receive live until then", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const ref = yield* Actor.spawn(counter({ name: "c", log }))
      yield* ref.tell({ _tag: "Acquire", name: "pty" })
      expect(yield* get(ref)).toBe(0)
      expect(yield* Ref.get(log)).toEqual(["c init", "pty acquired"])
      yield* ref.tell({ _tag: "Finish" })
      expect(yield* ref.await).toEqual(Actor.Normal)
      expect(yield* Ref.get(log)).toEqual(["c init", "pty acquired", "pty freed", "c released"])
    }),
  )

  it.scoped("finalizers run when the actor fails, and the exit carries the typed error", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const ref = yield* Actor.spawn(counter({ name: "c", log }))
      yield* ref.tell({ _tag: "Crash" })
      const exit = yield* ref.await
      expect(exit._tag).toBe("Failed")
      if (exit._tag === "Failed")
        expect(Cause.failureOption(exit.cause)).toEqual(Option.some(new Boom({ by: "c" })))
      expect(yield* Ref.get(log)).toEqual(["c init", "c released"])
    }),
  )

  it.scoped("finalizers run when the actor dies of a defect", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const ref = yield* Actor.spawn(counter({ name: "c", log }))
      yield* ref.tell({ _tag: "Die" })
      const exit = yield* ref.await
      expect(exit._tag === "Failed" && Cause.isDie(exit.cause)).toBe(true)
      expect(yield* Ref.get(log)).toEqual(["c init", "c released"])
    }),
  )

  it.effect("finalizers run when the owning scope closes, which interrupts the actor", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const scope = yield* Scope.make()
      const ref = yield* Scope.extend(Actor.spawn(counter({ name: "c", log })), scope)
      yield* ref.tell({ _tag: "Acquire", name: "worktree" })
      expect(yield* get(ref)).toBe(0)
      yield* Scope.close(scope, Exit.void)
      expect(yield* ref.poll).toEqual(Option.some(Actor.Interrupted))
      expect(yield* Ref.get(log)).toEqual(["c init", "worktree acquired", "worktree freed", "c released"])
      expect((yield* Effect.flip(get(ref)))._tag).toBe("ActorStopped")
    }),
  )

  it.scoped("finalizers run when the actor is interrupted in the middle of a message", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const ref = yield* Actor.spawn(counter({ name: "c", log }))
      yield* hold(ref) // never released: stop has to interrupt receive
      yield* ref.stop
      expect(yield* ref.poll).toEqual(Option.some(Actor.Normal))
      expect(yield* Ref.get(log)).toEqual(["c init", "c released"])
    }),
  )

  it.scoped("an init that fails ends the actor with that failure and answers askers", () =>
    Effect.gen(function* () {
      const ref = yield* Actor.spawn(
        Actor.make({
          init: Effect.fail(new Boom({ by: "init" })),
          receive: (n: number, _msg: CounterMsg) => Effect.succeed(n),
          mailboxSize: 4,
        }),
      )
      const exit = yield* ref.await
      expect(exit._tag === "Failed" && Cause.failureOption(exit.cause)).toEqual(
        Option.some(new Boom({ by: "init" })),
      )
      expect((yield* Effect.flip(get(ref)))._tag).toBe("ActorStopped")
    }),
  )
})
