// test/actors/AgentSlots.test.ts — the agent pool: leases end with their scope, waiters are served in
// order without one stuck behind a busy pin holding up the rest, and an interrupted wait leaks nothing.
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option, Scope } from "effect"
import { AgentName } from "../../src/domain/AgentName.js"
import { makeAgentSlots } from "../../src/actors/AgentSlots.js"
import type { AgentConfig } from "../../src/domain/Config.js"
import type { AgentRole } from "../../src/domain/Stage.js"

const agent = (name: string, stage: AgentRole): AgentConfig => ({
  name: AgentName.make(name),
  stage,
  runtime: "command",
  command: ["true"],
  prompt: "p",
  inactivityTimeoutSecs: 60,
})
const team = [agent("coder-1", "coder"), agent("coder-2", "coder"), agent("qa-1", "qa")]
const limits = { maxAgents: 3, maxCoders: 2, maxQa: 1, maxMergemasters: 1 }

/** Acquires in a scope of its own, so the test decides when the lease ends. */
const lease = (
  slots: Effect.Effect.Success<ReturnType<typeof makeAgentSlots>>,
  storyId: string,
  pinned?: string,
) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const got = yield* Deferred.make<string>()
    const fiber = yield* slots
      .acquire({ storyId, role: "coder", ...(pinned === undefined ? {} : { pinned }) })
      .pipe(
        Effect.tap((a) => Deferred.succeed(got, a.name)),
        Scope.extend(scope),
        Effect.fork,
      )
    return { got, fiber, release: Scope.close(scope, Exit.void) }
  })

describe("AgentSlots", () => {
  it.effect("a third coder request waits for a lease to end, and then gets the freed agent", () =>
    Effect.gen(function* () {
      const slots = yield* makeAgentSlots(team, limits)
      const a = yield* lease(slots, "1_story_a")
      const b = yield* lease(slots, "2_story_b")
      expect(yield* Deferred.await(a.got)).toBe("coder-1")
      expect(yield* Deferred.await(b.got)).toBe("coder-2")
      const c = yield* lease(slots, "3_story_c")
      yield* Effect.yieldNow()
      expect(Option.isNone(yield* Deferred.poll(c.got))).toBe(true)
      expect((yield* slots.waiting).map((w) => w.request.storyId)).toEqual(["3_story_c"])
      yield* a.release
      expect(yield* Deferred.await(c.got)).toBe("coder-1")
      expect((yield* slots.busy).map((b) => b.storyId).sort()).toEqual(["2_story_b", "3_story_c"])
    }),
  )

  it.effect("a request pinned to a busy agent does not hold up the requests behind it", () =>
    Effect.gen(function* () {
      const slots = yield* makeAgentSlots(team, limits)
      const a = yield* lease(slots, "1_story_a", "coder-1")
      yield* Deferred.await(a.got)
      const pinned = yield* lease(slots, "2_story_b", "coder-1")
      const free = yield* lease(slots, "3_story_c")
      expect(yield* Deferred.await(free.got)).toBe("coder-2")
      yield* a.release
      expect(yield* Deferred.await(pinned.got)).toBe("coder-1")
    }),
  )

  it.effect("an interrupted wait leaves the queue and takes no agent with it", () =>
    Effect.gen(function* () {
      const slots = yield* makeAgentSlots(team, { ...limits, maxCoders: 1 })
      const a = yield* lease(slots, "1_story_a")
      yield* Deferred.await(a.got)
      const b = yield* lease(slots, "2_story_b")
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(b.fiber)
      expect(yield* slots.waiting).toEqual([])
      yield* a.release
      expect(yield* slots.busy).toEqual([])
      const c = yield* lease(slots, "3_story_c")
      expect(yield* Deferred.await(c.got)).toBe("coder-1")
    }),
  )

  it.effect("a request no configuration can serve fails with the fix instead of waiting forever", () =>
    Effect.gen(function* () {
      const slots = yield* makeAgentSlots(team, limits)
      const refused = yield* Effect.flip(
        Effect.scoped(slots.acquire({ storyId: "1_story_a", role: "mergemaster" })),
      )
      expect(refused.message).toBe(
        'no agent can work on 1_story_a: no agent in .huskies/agents.toml has stage = "mergemaster": add one',
      )
      expect(yield* slots.waiting).toEqual([])
    }),
  )
})
