// test/actors/AgentSlots.test.ts — the agent pool: leases end with their scope, waiters are served in
// order without one stuck behind a busy pin holding up the rest, an interrupted wait leaks nothing, a
// try never jumps the queue, and a config reload serves who waits. The pool is an actor: each check is an ask.
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
  it.scoped("a third coder request waits for a lease to end, and then gets the freed agent", () =>
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

  it.scoped("a request pinned to a busy agent does not hold up the requests behind it", () =>
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

  it.scoped("an interrupted wait leaves the queue and takes no agent with it", () =>
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

  it.scoped("a request no configuration can serve fails with the fix instead of waiting forever", () =>
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

  it.scoped(
    "a try takes a free agent now, waits for nothing, and never jumps a request of its role in the queue",
    () =>
      Effect.gen(function* () {
        const slots = yield* makeAgentSlots(team, { ...limits, maxCoders: 1 })
        const first = yield* Effect.flatMap(Scope.make(), (scope) =>
          Effect.map(
            Scope.extend(slots.tryAcquire({ storyId: "1_story_a", role: "coder" }), scope),
            (got) => ({
              got,
              release: Scope.close(scope, Exit.void),
            }),
          ),
        )
        expect(Option.map(first.got, (a) => a.name)).toEqual(Option.some("coder-1"))
        const queued = yield* lease(slots, "2_story_b")
        yield* Effect.yieldNow()
        expect((yield* slots.waiting).map((w) => w.request.storyId)).toEqual(["2_story_b"])
        // The limit is reached and someone waits: a try gets nothing, and does not wait.
        expect(yield* Effect.scoped(slots.tryAcquire({ storyId: "3_story_c", role: "coder" }))).toEqual(
          Option.none(),
        )
        yield* first.release
        expect(yield* Deferred.await(queued.got)).toBe("coder-1")
        // Another role is not held up by the coders' queue.
        const qa = yield* Effect.scoped(slots.tryAcquire({ storyId: "4_story_d", role: "qa" }))
        expect(Option.map(qa, (a) => a.name)).toEqual(Option.some("qa-1"))
      }),
  )

  it.scoped("a config reload that raises a limit serves the requests waiting for it, in order", () =>
    Effect.gen(function* () {
      const slots = yield* makeAgentSlots(team, { ...limits, maxCoders: 0 })
      const a = yield* lease(slots, "1_story_a")
      const b = yield* lease(slots, "2_story_b")
      yield* Effect.yieldNow()
      expect((yield* slots.waiting).map((w) => w.request.storyId)).toEqual(["1_story_a", "2_story_b"])
      yield* slots.configure(team, { ...limits, maxCoders: 1 })
      expect(yield* Deferred.await(a.got)).toBe("coder-1")
      expect((yield* slots.waiting).map((w) => w.request.storyId)).toEqual(["2_story_b"])
      yield* slots.configure([...team, agent("coder-3", "coder")], { ...limits, maxCoders: 2 })
      expect(yield* Deferred.await(b.got)).toBe("coder-2")
      expect((yield* slots.agents).map((x) => x.name)).toContain("coder-3")
      expect((yield* slots.busy).map((x) => x.storyId).sort()).toEqual(["1_story_a", "2_story_b"])
    }),
  )

  it.scoped("a request waiting when the pool stops is refused instead of waiting forever", () =>
    Effect.gen(function* () {
      const poolScope = yield* Scope.make()
      const slots = yield* Scope.extend(makeAgentSlots(team, { ...limits, maxCoders: 0 }), poolScope)
      const waiting = yield* Effect.fork(
        Effect.scoped(slots.acquire({ storyId: "1_story_a", role: "coder" })),
      )
      yield* Effect.yieldNow()
      yield* Scope.close(poolScope, Exit.void)
      const refused = yield* Effect.flip(Fiber.join(waiting))
      expect(refused.why).toContain("the server is shutting down")
    }),
  )
})
