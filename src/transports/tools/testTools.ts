// src/transports/tools/testTools.ts — run_tests (blocks until the project's test command finishes in
// the item's worktree, with progress notifications) and get_test_result (the last result, for
// observers: agents never need to poll it because run_tests already returns everything).
import { Effect, Schema } from "effect"
import { TestRuns } from "../../layers/TestRuns.js"
import { GateRunResult, gateView, runProjectCommand } from "./gateTool.js"
import { StoryIdParam } from "./itemAccess.js"
import { defineTool } from "./Tool.js"

/** The shared gate runner, also used by request_qa. */
export { runProjectCommand } from "./gateTool.js"

export const runTests = defineTool({
  name: "run_tests",
  description:
    "Runs the project's test command ([commands] test in .huskies/project.toml) in the item's worktree and BLOCKS until it finishes, sending progress notifications meanwhile. Returns pass/fail, exit code, duration and the output's tail (the full output is in log_path). Do not poll get_test_result: this call already returns the whole result. A second call while tests run for the same item joins that run.",
  input: { story_id: StoryIdParam },
  output: GateRunResult,
  run: ({ story_id }, context) => runProjectCommand(story_id, "test", context),
})

export const getTestResult = defineTool({
  name: "get_test_result",
  description:
    "The last run_tests result for an item on this server (for observers such as the board; an agent gets the same result from run_tests itself). Does not block. Says if a run is in progress.",
  input: { story_id: StoryIdParam },
  output: Schema.Struct({ running: Schema.Boolean, last: Schema.NullOr(GateRunResult) }),
  run: ({ story_id }) =>
    Effect.gen(function* () {
      const runs = yield* TestRuns
      const last = yield* runs.last(story_id)
      return {
        running: yield* runs.running(story_id),
        last: last === undefined ? null : gateView(story_id, last, false),
      }
    }),
})

export const testTools = [runTests, getTestResult] as const
