// test/actors/Supervisor.test.ts — OTP-style supervision: which children restart under each strategy and
// restart type, when restarts escalate (driven by TestClock), and that shutting down leaves nothing running.
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Deferred,
  Effect,
  Exit,
  Fiber,
  FiberStatus,
  Option,
  Queue,
  Ref,
  Scope,
  Supervisor as FiberSupervisor,
  TestClock,
} from "effect"
import * as Actor from "../../src/actors/Actor.js"
import * as Registry from "../../src/actors/Registry.js"
import * as Supervisor from "../../src/actors/Supervisor.js"
import { Boom, counter, get, makeLog, type CounterMsg, type Log } from "./counter.js"

const setup = Effect.gen(function* () {
  const log = yield* makeLog
  const inits = yield* Queue.unbounded<string>()
  const child = (key: string, restart: Supervisor.RestartType) => ({
    key,
    restart,
    spec: counter({ name: key, log, inits }),
  })
  return { log, inits, child }
})

/** Waits until `n` inits have run and returns their names in order. */
const takeInits = (inits: Queue.Queue<string>, n: number) =>
  Effect.map(Queue.takeBetween(inits, n, n), (names) => [...names].sort())

const count = (log: Log, line: string) =>
  Effect.map(Ref.get(log), (lines) => lines.filter((l) => l === line).length)

describe("Supervisor", () => {
  it.scoped("one_for_one restarts only the crashed child, whose init runs again", () =>
    Effect.gen(function* () {
      const { log, inits, child } = yield* setup
      const sup = yield* Supervisor.make({ strategy: "one_for_one", intensity: 3, period: "10 seconds" })
      const a = yield* sup.startChild(child("a", "permanent"))
      const b = yield* sup.startChild(child("b", "permanent"))
      expect(yield* takeInits(inits, 2)).toEqual(["a", "b"])
      yield* a.tell({ _tag: "Add", n: 5 })
      yield* b.tell({ _tag: "Add", n: 7 })
      expect(yield* get(a)).toBe(5)

      yield* a.tell({ _tag: "Crash" })
      expect(yield* takeInits(inits, 1)).toEqual(["a"])
      expect(yield* get(a)).toBe(0)
      expect(yield* get(b)).toBe(7)
      expect(yield* count(log, "a released")).toBe(1)
      expect(yield* count(log, "b released")).toBe(0)
      expect(yield* sup.children).toEqual([
        { key: "a", restart: "permanent", restarts: 1, running: true },
        { key: "b", restart: "permanent", restarts: 0, running: true },
      ])
    }),
  )

  it.scoped("one_for_all restarts every sibling, except temporary ones which are removed", () =>
    Effect.gen(function* () {
      const { log, inits, child } = yield* setup
      const sup = yield* Supervisor.make({ strategy: "one_for_all", intensity: 3, period: "10 seconds" })
      const a = yield* sup.startChild(child("a", "permanent"))
      const b = yield* sup.startChild(child("b", "transient"))
      const t = yield* sup.startChild(child("t", "temporary"))
      expect(yield* takeInits(inits, 3)).toEqual(["a", "b", "t"])
      yield* b.tell({ _tag: "Add", n: 7 })
      expect(yield* get(b)).toBe(7)

      yield* a.tell({ _tag: "Die" })
      expect(yield* takeInits(inits, 2)).toEqual(["a", "b"])
      expect(yield* get(b)).toBe(0)
      expect(yield* t.await).toEqual(Actor.Normal)
      expect((yield* Effect.flip(get(t)))._tag).toBe("ActorStopped")
      expect(yield* count(log, "b released")).toBe(1)
      expect(yield* count(log, "t released")).toBe(1)
      expect((yield* sup.children).map((c) => [c.key, c.restarts])).toEqual([
        ["a", 1],
        ["b", 1],
      ])
    }),
  )

  it.scoped("a transient child is restarted after a crash but not after a normal exit", () =>
    Effect.gen(function* () {
      const { inits, child } = yield* setup
      const sup = yield* Supervisor.make({ strategy: "one_for_one", intensity: 3, period: "10 seconds" })
      const ref = yield* sup.startChild(child("job", "transient"))
      yield* takeInits(inits, 1)
      yield* ref.tell({ _tag: "Crash" })
      expect(yield* takeInits(inits, 1)).toEqual(["job"])

      yield* ref.tell({ _tag: "Finish" })
      expect(yield* ref.await).toEqual(Actor.Normal)
      expect(yield* sup.children).toEqual([])
      expect(yield* Queue.size(inits)).toBe(0)
    }),
  )

  it.scoped("a temporary child is never restarted, even after a crash", () =>
    Effect.gen(function* () {
      const { log, inits, child } = yield* setup
      const sup = yield* Supervisor.make({ strategy: "one_for_one", intensity: 3, period: "10 seconds" })
      const ref = yield* sup.startChild(child("once", "temporary"))
      yield* takeInits(inits, 1)
      yield* ref.tell({ _tag: "Crash" })
      const exit = yield* ref.await
      expect(exit._tag === "Failed" && Cause.failureOption(exit.cause)).toEqual(
        Option.some(new Boom({ by: "once" })),
      )
      expect(yield* sup.children).toEqual([])
      expect(yield* Queue.size(inits)).toBe(0)
      expect(yield* Ref.get(log)).toEqual(["once init", "once released"])
    }),
  )

  it.scoped("a permanent child is restarted even after a normal exit", () =>
    Effect.gen(function* () {
      const { inits, child } = yield* setup
      const sup = yield* Supervisor.make({ strategy: "one_for_one", intensity: 3, period: "10 seconds" })
      const ref = yield* sup.startChild(child("server", "permanent"))
      yield* takeInits(inits, 1)
      yield* ref.tell({ _tag: "Finish" })
      expect(yield* takeInits(inits, 1)).toEqual(["server"])
      expect(yield* get(ref)).toBe(0)
    }),
  )

  it.scoped(
    "more restarts than the intensity within the period escalates with the child's key and cause",
    () =>
      Effect.gen(function* () {
        const { log, inits, child } = yield* setup
        const sup = yield* Supervisor.make({
          name: "root",
          strategy: "one_for_one",
          intensity: 2,
          period: "10 seconds",
        })
        const worker = yield* sup.startChild(child("worker", "permanent"))
        const bystander = yield* sup.startChild(child("bystander", "permanent"))
        yield* takeInits(inits, 2)
        for (let restart = 1; restart <= 2; restart++) {
          yield* TestClock.adjust("4 seconds")
          yield* worker.tell({ _tag: "Crash" })
          yield* takeInits(inits, 1)
        }
        yield* TestClock.adjust("1 second") // crashes at 4s, 8s, 9s: three inside one 10s window
        yield* worker.tell({ _tag: "Crash" })

        const escalation = yield* Effect.flip(sup.await)
        expect(escalation).toBeInstanceOf(Supervisor.SupervisorEscalation)
        expect(escalation.supervisor).toBe("root")
        expect(escalation.key).toBe("worker")
        expect(Cause.failureOption(escalation.cause)).toEqual(Option.some(new Boom({ by: "worker" })))
        // The supervisor took its other children down with it.
        expect((yield* bystander.await)._tag).toBe("Normal")
        expect(yield* count(log, "bystander released")).toBe(1)
        expect(yield* count(log, "worker released")).toBe(3)
        const late = yield* Effect.flip(sup.startChild(child("late", "permanent")))
        expect(late).toBeInstanceOf(Supervisor.SupervisorStopped)
      }),
  )

  it.scoped(
    "a contained child's crashes count on their own: one too many ends it after giveUp, and neither its siblings nor the supervisor stop",
    () =>
      Effect.gen(function* () {
        const { inits, child } = yield* setup
        const sup = yield* Supervisor.make({
          name: "stories",
          strategy: "one_for_one",
          intensity: 2,
          period: "10 seconds",
        })
        const watcher = yield* Effect.fork(sup.await)
        const gaveUp = yield* Queue.unbounded<Supervisor.GaveUp>()
        const contained = (key: string) => ({
          ...child(key, "transient"),
          giveUp: (g: Supervisor.GaveUp) => Queue.offer(gaveUp, g),
        })
        const worker = yield* sup.startChild(contained("worker"))
        const sibling = yield* sup.startChild(contained("sibling"))
        yield* takeInits(inits, 2)
        yield* sibling.tell({ _tag: "Add", n: 7 })
        // The sibling's crash is its own: it does not use up the worker's restarts.
        yield* sibling.tell({ _tag: "Crash" })
        yield* takeInits(inits, 1)
        for (let restart = 1; restart <= 2; restart++) {
          yield* TestClock.adjust("1 second")
          yield* worker.tell({ _tag: "Crash" })
          yield* takeInits(inits, 1)
        }
        yield* worker.tell({ _tag: "Crash" })
        const exit = yield* worker.await
        expect(exit._tag).toBe("Failed")
        // giveUp ran before the end was announced.
        const given = Option.getOrThrow(yield* Queue.poll(gaveUp))
        expect(given).toMatchObject({ key: "worker", restarts: 2, periodMillis: 10_000 })
        expect(Cause.failureOption(given.cause)).toEqual(Option.some(new Boom({ by: "worker" })))
        expect(yield* Queue.size(gaveUp)).toBe(0)
        expect(yield* sup.children).toEqual([
          { key: "sibling", restart: "transient", restarts: 1, running: true },
        ])
        expect(yield* get(sibling)).toBe(0)
        expect(yield* Fiber.poll(watcher)).toEqual(Option.none())
        // Its key is free again: a new child may take it.
        yield* sup.startChild(contained("worker"))
        expect(yield* takeInits(inits, 1)).toEqual(["worker"])
      }),
  )

  it.scoped("with stopAtOnce, a shutdown stops every child at the same time, not one after another", () =>
    Effect.gen(function* () {
      const releasing = yield* Queue.unbounded<string>()
      const allReleasing = yield* Deferred.make<void>()
      // Each child's release waits until every child is releasing: one at a time, it would never end.
      const slow = (key: string) => ({
        key,
        restart: "permanent" as const,
        spec: Actor.make<CounterMsg, void, never, Scope.Scope>({
          mailboxSize: 1,
          init: Effect.acquireRelease(Effect.void, () =>
            Queue.offer(releasing, key).pipe(Effect.zipRight(Deferred.await(allReleasing))),
          ),
          receive: (state) => Effect.succeed(state),
        }),
      })
      const sup = yield* Supervisor.make({
        strategy: "one_for_one",
        intensity: 1,
        period: "1 second",
        stopAtOnce: true,
      })
      yield* sup.startChild(slow("a"))
      yield* sup.startChild(slow("b"))
      const shutdown = yield* Effect.fork(sup.shutdown)
      expect([...(yield* Queue.takeBetween(releasing, 2, 2))].sort()).toEqual(["a", "b"])
      yield* Deferred.succeed(allReleasing, undefined)
      yield* Fiber.join(shutdown)
      expect(yield* sup.children).toEqual([])
    }),
  )

  it.scoped("the same crashes spread out beyond the period do not escalate", () =>
    Effect.gen(function* () {
      const { inits, child } = yield* setup
      const sup = yield* Supervisor.make({ strategy: "one_for_one", intensity: 2, period: "10 seconds" })
      const watcher = yield* Effect.fork(sup.await)
      const worker = yield* sup.startChild(child("worker", "permanent"))
      yield* takeInits(inits, 1)
      for (let restart = 1; restart <= 6; restart++) {
        yield* TestClock.adjust("6 seconds")
        yield* worker.tell({ _tag: "Crash" })
        yield* takeInits(inits, 1)
      }
      expect(yield* get(worker)).toBe(0)
      expect(yield* sup.children).toEqual([
        { key: "worker", restart: "permanent", restarts: 6, running: true },
      ])
      expect(yield* Fiber.poll(watcher)).toEqual(Option.none())
    }),
  )

  it.effect(
    "interrupting a supervisor stops every child, runs every finalizer and leaves no fiber running",
    () =>
      Effect.gen(function* () {
        const { log, inits, child } = yield* setup
        const tracker = yield* FiberSupervisor.track
        const owner = yield* Effect.gen(function* () {
          const sup = yield* Supervisor.make({ strategy: "one_for_one", intensity: 3, period: "10 seconds" })
          for (const key of ["a", "b", "c"]) {
            const ref = yield* sup.startChild(child(key, "permanent"))
            yield* ref.tell({ _tag: "Acquire", name: `${key}'s process` })
          }
          return yield* Effect.never
        }).pipe(Effect.scoped, Effect.supervised(tracker), Effect.fork)
        yield* takeInits(inits, 3)
        const running = yield* tracker.value
        expect(running.length).toBe(4) // the supervisor's loop and its three children

        yield* Fiber.interrupt(owner)
        for (const fiber of running) expect(FiberStatus.isDone(yield* Fiber.status(fiber))).toBe(true)
        expect(yield* tracker.value).toEqual([])
        const lines = yield* Ref.get(log)
        for (const key of ["a", "b", "c"]) {
          expect(lines.filter((l) => l === `${key} released`).length).toBe(1)
          expect(lines.indexOf(`${key}'s process freed`)).toBeLessThan(lines.indexOf(`${key} released`))
        }
        // Last started, first stopped.
        expect(lines.filter((l) => l.endsWith("released"))).toEqual([
          "c released",
          "b released",
          "a released",
        ])
      }),
  )

  it.effect("closing the supervisor's scope ends it cleanly and no child is restarted", () =>
    Effect.gen(function* () {
      const { log, inits, child } = yield* setup
      const scope = yield* Scope.make()
      const sup = yield* Scope.extend(
        Supervisor.make({ strategy: "one_for_all", intensity: 10, period: "10 seconds" }),
        scope,
      )
      const a = yield* sup.startChild(child("a", "permanent"))
      yield* sup.startChild(child("b", "permanent"))
      yield* takeInits(inits, 2)
      yield* Scope.close(scope, Exit.void)
      yield* sup.await
      expect(yield* a.await).toEqual(Actor.Normal)
      expect(yield* Queue.size(inits)).toBe(0)
      expect(yield* count(log, "a released")).toBe(1)
      expect(yield* count(log, "b released")).toBe(1)
    }),
  )

  it.scoped("stopChild stops a child for good and frees its key", () =>
    Effect.gen(function* () {
      const { log, inits, child } = yield* setup
      const sup = yield* Supervisor.make({ strategy: "one_for_one", intensity: 3, period: "10 seconds" })
      const first = yield* sup.startChild(child("a", "permanent"))
      yield* takeInits(inits, 1)
      expect((yield* Effect.flip(sup.startChild(child("a", "permanent"))))._tag).toBe("ActorAlreadyExists")
      yield* sup.stopChild("a")
      expect(yield* first.await).toEqual(Actor.Normal)
      expect(yield* count(log, "a released")).toBe(1)
      expect(yield* Queue.size(inits)).toBe(0)
      expect((yield* Effect.flip(sup.stopChild("a")))._tag).toBe("ActorNotFound")

      const second = yield* sup.startChild(child("a", "permanent"))
      expect(yield* get(second)).toBe(0)
      yield* first.stop // a stale ref must not stop the new child under the same key
      expect(yield* get(second)).toBe(0)
    }),
  )

  it.scoped(
    "a nested supervisor's escalation is its parent's child failure, and the parent restarts it",
    () =>
      Effect.gen(function* () {
        const { inits, child } = yield* setup
        const workers = yield* Registry.make<CounterMsg>()
        const parent = yield* Supervisor.make({ strategy: "one_for_one", intensity: 3, period: "10 seconds" })
        const nested = Supervisor.asChild(
          { name: "inner", strategy: "one_for_one", intensity: 0, period: "10 seconds" },
          (inner) =>
            inner
              .startChild(child("worker", "permanent"))
              .pipe(Effect.flatMap((ref) => workers.register("worker", ref))),
        )
        yield* parent.startChild({ key: "inner", spec: nested, restart: "permanent" })
        yield* takeInits(inits, 1)
        const worker = yield* workers.lookup("worker")
        yield* worker.tell({ _tag: "Add", n: 9 })
        yield* worker.tell({ _tag: "Crash" })

        expect(yield* takeInits(inits, 1)).toEqual(["worker"])
        expect(yield* parent.children).toEqual([
          { key: "inner", restart: "permanent", restarts: 1, running: true },
        ])
        expect(yield* get(yield* workers.lookup("worker"))).toBe(0)
      }),
  )
})
