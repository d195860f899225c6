// test/actors/Registry.test.ts — actors addressed by key: lookups of absent or dead keys are error values,
// duplicates are refused, and ended actors drop out so their key can be used again.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Ref, Scope } from "effect"
import * as Registry from "../../src/actors/Registry.js"
import { counter, get, makeLog, type CounterMsg } from "./counter.js"

describe("Registry", () => {
  it.scoped("an actor spawned under a key is found by that key", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const registry = yield* Registry.make<CounterMsg>()
      yield* registry.spawn("12_story_login", counter({ name: "login", log }))
      const ref = yield* registry.lookup("12_story_login")
      expect(ref.key).toBe("12_story_login")
      yield* ref.tell({ _tag: "Add", n: 3 })
      expect(yield* get(ref)).toBe(3)
      expect(yield* registry.keys).toEqual(["12_story_login"])
    }),
  )

  it.scoped("looking up a key that was never used is ActorNotFound", () =>
    Effect.gen(function* () {
      const registry = yield* Registry.make<CounterMsg>()
      const error = yield* Effect.flip(registry.lookup("nobody"))
      expect(error).toBeInstanceOf(Registry.ActorNotFound)
      expect(error.key).toBe("nobody")
    }),
  )

  it.scoped("a second actor under a live key is refused and the first keeps running", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const registry = yield* Registry.make<CounterMsg>()
      const first = yield* registry.spawn("k", counter({ name: "first", log }))
      yield* first.tell({ _tag: "Add", n: 1 })
      const error = yield* Effect.flip(registry.spawn("k", counter({ name: "second", log })))
      expect(error).toBeInstanceOf(Registry.ActorAlreadyExists)
      expect(error.key).toBe("k")
      expect(yield* get(yield* registry.lookup("k"))).toBe(1)
      expect(yield* Ref.get(log)).toEqual(["first init"])
      expect((yield* Effect.flip(registry.register("k", first)))._tag).toBe("ActorAlreadyExists")
    }),
  )

  it.scoped("stopped and crashed actors are no longer found, and their keys can be reused", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const registry = yield* Registry.make<CounterMsg>()
      const stopped = yield* registry.spawn("stopped", counter({ name: "stopped", log }))
      const crashed = yield* registry.spawn("crashed", counter({ name: "crashed", log }))
      yield* registry.spawn("alive", counter({ name: "alive", log }))
      yield* stopped.stop
      yield* crashed.tell({ _tag: "Crash" })
      yield* crashed.await
      expect((yield* Effect.flip(registry.lookup("stopped")))._tag).toBe("ActorNotFound")
      expect((yield* Effect.flip(registry.lookup("crashed")))._tag).toBe("ActorNotFound")
      expect(yield* registry.keys).toEqual(["alive"])

      const again = yield* registry.spawn("stopped", counter({ name: "again", log }))
      expect(yield* registry.lookup("stopped")).toBe(again)
      expect(yield* get(again)).toBe(0)
    }),
  )

  it.effect("closing the registry's scope stops its actors and runs their finalizers", () =>
    Effect.gen(function* () {
      const log = yield* makeLog
      const scope = yield* Scope.make()
      const registry = yield* Scope.extend(Registry.make<CounterMsg>(), scope)
      const a = yield* registry.spawn("a", counter({ name: "a", log }))
      const b = yield* registry.spawn("b", counter({ name: "b", log }))
      expect(yield* get(a)).toBe(0)
      expect(yield* get(b)).toBe(0)
      yield* Scope.close(scope, Exit.void)
      expect([...(yield* Ref.get(log))].sort()).toEqual(["a init", "a released", "b init", "b released"])
      expect((yield* Effect.flip(registry.lookup("a")))._tag).toBe("ActorNotFound")
    }),
  )
})
