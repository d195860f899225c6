// src/transports/tools/gateTool.ts — what run_tests, run_lint and run_build share: running one of the
// project's [commands] in an item's worktree through TestRuns, blocking with progress notifications,
// and the result they all return. Also the progress ticker run_command uses.
import { Effect, Fiber, Schema } from "effect"
import {
  commandOf,
  type ProjectCommandKind,
  runProjectCommand as runCommandIn,
} from "../../actors/Pipeline.js"
import type { GateResult } from "../../layers/Gates.js"
import { HuskiesConfig } from "../../layers/HuskiesConfig.js"
import { Project } from "../../layers/Project.js"
import { loadItem } from "./itemAccess.js"
import type { ToolContext } from "./Tool.js"

export const GateRunResult = Schema.Struct({
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

export const gateView = (storyId: string, result: GateResult, joined: boolean) => ({
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

/**
 * Runs `effect` while sending a progress notification every 5 seconds, so clients that honour them
 * keep waiting for a long blocking call instead of timing out.
 */
export const withProgress = <A, E, R>(context: ToolContext, label: string, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const started = Date.now()
    const ticker = yield* Effect.fork(
      Effect.forever(
        Effect.sleep("5 seconds").pipe(
          Effect.zipRight(
            Effect.suspend(() => {
              const seconds = Math.round((Date.now() - started) / 1000)
              return context.progress(seconds, undefined, `${label}: running for ${seconds}s`)
            }),
          ),
        ),
      ),
    )
    return yield* effect.pipe(Effect.ensuring(Fiber.interrupt(ticker)))
  })

/** The project's configuration in force: an edit of project.toml applies to the next call. */
export const projectConfig = Effect.flatMap(HuskiesConfig, (config) => config.get)

export type GateKind = ProjectCommandKind

/** Runs [commands] `kind` in the item's worktree, or joins the run of it already going for the item. */
export const runProjectCommand = (storyId: string, kind: GateKind, context: ToolContext) =>
  Effect.gen(function* () {
    const { item } = yield* loadItem(storyId)
    const project = yield* Project
    const config = yield* projectConfig
    const command = yield* commandOf(config, kind)
    const { result, joined } = yield* withProgress(
      context,
      command,
      runCommandIn(project.root, config, item.id, kind),
    )
    return gateView(storyId, result, joined)
  })
