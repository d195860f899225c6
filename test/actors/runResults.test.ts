// test/actors/runResults.test.ts — the last run of each item, kept by its own actor: recorded, replaced by
// a later run, forgotten with the item, and quiet (None, no failure) once the server's scope has closed.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Scope } from "effect"
import type { AgentRunResult } from "../../src/actors/agentContract.js"
import { makeRunResults } from "../../src/actors/runResults.js"
import type { StoryId } from "../../src/domain/StoryId.js"

const id = "1_story_a" as StoryId
const other = "2_story_b" as StoryId
const run = (outcome: AgentRunResult["outcome"]) => ({ outcome }) as AgentRunResult

describe("runResults", () => {
  it.scoped("answers the item's latest run, None for an item without one, and forgets a deleted item", () =>
    Effect.gen(function* () {
      const results = yield* makeRunResults
      expect(Option.isNone(yield* results.last(id))).toBe(true)
      yield* results.ended(id, run("failed"))
      yield* results.ended(id, run("succeeded"))
      yield* results.ended(other, run("stopped"))
      expect(Option.getOrThrow(yield* results.last(id)).outcome).toBe("succeeded")
      yield* results.forget(id)
      expect(Option.isNone(yield* results.last(id))).toBe(true)
      expect(Option.getOrThrow(yield* results.last(other)).outcome).toBe("stopped")
    }),
  )

  it.effect("after its scope closed, records nothing and answers None instead of failing", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const results = yield* Scope.extend(makeRunResults, scope)
      yield* results.ended(id, run("succeeded"))
      yield* Scope.close(scope, Exit.void)
      yield* results.ended(id, run("failed"))
      expect(Option.isNone(yield* results.last(id))).toBe(true)
    }),
  )
})
