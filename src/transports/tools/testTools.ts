// src/transports/tools/testTools.ts — run_tests (blocks until the project's test command finishes in
// the item's worktree, with progress notifications) and get_test_result (the last result, for
// observers: agents never need to poll it because run_tests already returns everything).
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Fiber, Schema } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { loadConfig } from "../../layers/Config.js"
import type { GateResult } from "../../layers/Gates.js"
import { Project } from "../../layers/Project.js"
import { TestRuns } from "../../layers/TestRuns.js"
import { loadItem, StoryIdParam } from "./itemAccess.js"
import { defineTool, ToolFailure } from "./Tool.js"

const TestResult = Schema.Struct({
  story_id: Schema.String,
  command: Schema.String,
  passed: Schema.Boolean,
  exit_code: Schema.NullOr(Schema.Number),
  timed_out: Schema.Boolean,
  duration_ms: Schema.Number,
  output_bytes: Schema.Number,
  output_tail: Schema.String,
  output_truncated: Schema.Boolean,
  log_path: Schema.String,
  joined_running: Schema.Boolean,
})

const view = (storyId: string, result: GateResult, joined: boolean) => ({
  story_id: storyId,
  command: result.command,
  passed: result.passed,
  exit_code: result.exitCode,
  timed_out: result.timedOut,
  duration_ms: result.durationMillis,
  output_bytes: result.outputBytes,
  output_tail: result.tail,
  output_truncated: result.tailTruncated,
  log_path: result.logPath,
  joined_running: joined,
})

export const runTests = defineTool({
  name: "run_tests",
  description:
    "Runs the project's test command ([commands] test in .huskies/project.toml) in the item's worktree and BLOCKS until it finishes, sending progress notifications meanwhile. Returns pass/fail, exit code, duration and the output's tail (the full output is in log_path). Do not poll get_test_result: this call already returns the whole result. A second call while tests run for the same item joins that run.",
  input: { story_id: StoryIdParam },
  output: TestResult,
  run: ({ story_id }, context) =>
    Effect.gen(function* () {
      yield* loadItem(story_id)
      const project = yield* Project
      const config = yield* loadConfig(project.root).pipe(Effect.provide(NodeFileSystem.layer))
      const command = config.project.commands.test
      if (command === undefined) {
        return yield* new ToolFailure({
          message: "no test command is configured: set [commands] test in .huskies/project.toml",
        })
      }
      const worktree = join(project.root, ".huskies", "worktrees", story_id)
      if (!existsSync(worktree)) {
        return yield* new ToolFailure({
          message: `${story_id} has no worktree at ${worktree}: tests run where the coder works, once the item is in Coding`,
        })
      }
      const runs = yield* TestRuns
      const started = Date.now()
      // Progress while the tests run, so clients that honour it keep waiting instead of timing out.
      const ticker = yield* Effect.fork(
        Effect.forever(
          Effect.sleep("5 seconds").pipe(
            Effect.zipRight(
              Effect.suspend(() => {
                const seconds = Math.round((Date.now() - started) / 1000)
                return context.progress(seconds, undefined, `${command}: running for ${seconds}s`)
              }),
            ),
          ),
        ),
      )
      const { result, joined } = yield* runs
        .run(story_id, {
          command,
          cwd: worktree,
          timeoutMillis: config.project.gatesTimeoutSecs * 1000,
          logPath: join(project.root, ".huskies", "logs", story_id, `tests-${started}.log`),
        })
        .pipe(Effect.ensuring(Fiber.interrupt(ticker)))
      return view(story_id, result, joined)
    }),
})

export const getTestResult = defineTool({
  name: "get_test_result",
  description:
    "The last run_tests result for an item on this server (for observers such as the board; an agent gets the same result from run_tests itself). Does not block. Says if a run is in progress.",
  input: { story_id: StoryIdParam },
  output: Schema.Struct({ running: Schema.Boolean, last: Schema.NullOr(TestResult) }),
  run: ({ story_id }) =>
    Effect.gen(function* () {
      const runs = yield* TestRuns
      const last = yield* runs.last(story_id)
      return {
        running: yield* runs.running(story_id),
        last: last === undefined ? null : view(story_id, last, false),
      }
    }),
})

export const testTools = [runTests, getTestResult] as const
