// src/actors/pipeline/projectCommand.ts — runs one of the project's [commands] (test, lint, build) in
// an item's worktree through TestRuns, or joins the run of it already going: used by request_qa's
// gates and by run_tests/run_lint/run_build.
import { Effect, Schema } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import type { LoadedConfig } from "../../layers/Config.js"
import type { GateResult, GateSpawnError } from "../../layers/Gates.js"
import { worktreePathOf } from "../../layers/Git.js"
import { TestRuns } from "../../layers/TestRuns.js"
import type { StoryId } from "../../domain/StoryId.js"

export type ProjectCommandKind = "test" | "lint" | "build"

/** The project has no such command configured. */
export class NoProjectCommand extends Schema.TaggedError<NoProjectCommand>()("NoProjectCommand", {
  kind: Schema.Literal("test", "lint", "build"),
}) {
  override get message(): string {
    return `no ${this.kind} command is configured: set [commands] ${this.kind} in .huskies/project.toml`
  }
}

/** The item has no worktree to run the command in. */
export class NoWorktree extends Schema.TaggedError<NoWorktree>()("NoWorktree", {
  storyId: Schema.String,
  kind: Schema.Literal("test", "lint", "build"),
  path: Schema.String,
}) {
  override get message(): string {
    return `${this.storyId} has no worktree at ${this.path}: the ${this.kind} command runs where the coder works, once the item is in Coding (or after create_worktree)`
  }
}

/** run_tests keeps its results under the bare id (get_test_result reads them); the others apart. */
export const runKey = (storyId: StoryId, kind: ProjectCommandKind) =>
  kind === "test" ? storyId : `${storyId}#${kind}`
const logName: Record<ProjectCommandKind, string> = { test: "tests", lint: "lint", build: "build" }

/** The command a kind names in the config, or NoProjectCommand. */
export const commandOf = (config: LoadedConfig, kind: ProjectCommandKind) => {
  const command = config.project.commands[kind]
  return command === undefined ? Effect.fail(new NoProjectCommand({ kind })) : Effect.succeed(command)
}

/** Runs [commands] `kind` in the item's worktree, or joins the run of it already going for the item. */
export const runProjectCommand = (
  root: string,
  config: LoadedConfig,
  storyId: StoryId,
  kind: ProjectCommandKind,
): Effect.Effect<
  { readonly result: GateResult; readonly joined: boolean },
  NoProjectCommand | NoWorktree | GateSpawnError,
  TestRuns
> =>
  Effect.gen(function* () {
    const command = yield* commandOf(config, kind)
    const worktree = worktreePathOf(root, storyId)
    if (!existsSync(worktree)) return yield* new NoWorktree({ storyId, kind, path: worktree })
    const runs = yield* TestRuns
    const started = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    return yield* runs.run(runKey(storyId, kind), {
      command,
      cwd: worktree,
      timeoutMillis: config.project.gatesTimeoutSecs * 1000,
      logPath: join(root, ".huskies", "logs", storyId, `${logName[kind]}-${started}.log`),
    })
  })
