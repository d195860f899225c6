// src/transports/tools/commandTools.ts — run_lint and run_build (the project's [commands] lint / build,
// like run_tests) and run_command: one allowlisted program, without a shell, confined to an item's
// worktree. All block until the command ends. The confinement rules live in commandPolicy.ts.
import { Effect, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { join } from "node:path"
import { runGate } from "../../layers/Gates.js"
import { Project } from "../../layers/Project.js"
import { checkCommand, defaultAllowedPrograms, resolveCwd } from "./commandPolicy.js"
import { GateRunResult, projectConfig, runProjectCommand, withProgress } from "./gateTool.js"
import { StoryIdParam } from "./itemAccess.js"
import { defineTool, ToolFailure } from "./Tool.js"
import { requireWorktree } from "./worktreeAccess.js"

const gateDescription = (kind: "lint" | "build") =>
  `Runs the project's ${kind} command ([commands] ${kind} in .huskies/project.toml) in the item's worktree and BLOCKS until it finishes, sending progress notifications meanwhile; it returns the whole result (pass/fail, exit code, duration, the output's tail; the full output is in log_path), so never poll for it. A second call while it runs for the same item joins that run. Times out after gates_timeout_secs.`

export const runLint = defineTool({
  name: "run_lint",
  description: gateDescription("lint"),
  input: { story_id: StoryIdParam },
  output: GateRunResult,
  run: ({ story_id }, context) => runProjectCommand(story_id, "lint", context),
})

export const runBuild = defineTool({
  name: "run_build",
  description: gateDescription("build"),
  input: { story_id: StoryIdParam },
  output: GateRunResult,
  run: ({ story_id }, context) => runProjectCommand(story_id, "build", context),
})

/** Bytes of the output's end run_command returns (the whole output is in log_path). */
const tailBytes = 32 * 1024
const defaultTimeoutSecs = 300

export const runCommand = defineTool({
  name: "run_command",
  description: `Runs one program with its arguments (argv, no shell: nothing is expanded, piped or redirected) in the item's worktree, and BLOCKS until it exits, sending progress notifications meanwhile; it returns the whole result (exit code, timed_out, the output's tail; the full output is in log_path), so never poll for it. cwd is relative to the worktree and must stay inside it (symlinks followed); an argument that is an absolute path outside the worktree, or that leaves it with "..", is refused. The program must be one of: ${defaultAllowedPrograms.join(", ")} (no shells; call it by name, not by path). git runs only git's own commands for reading, committing and merging (never an alias), and may not push, check out, switch, rebase, reset --hard, delete or rename branches, manage worktrees, change config, or take -c, --config-env, --git-dir, --work-tree or --exec-path; it runs without hooks, pager, editor, credential helpers or the server's GIT_* variables. find may not -exec, -delete or -fprint, and rg may not --pre. timeout_secs defaults to ${defaultTimeoutSecs} and is capped at gates_timeout_secs. These are guard rails inside the worktree, not a sandbox: the program runs as the user who runs huskies, and node, python, make or an npm script can do anything that user can.`,
  input: {
    story_id: StoryIdParam,
    command: Schema.Array(Schema.String).annotations({
      description: 'the program and its arguments, e.g. ["npm", "run", "typecheck"]',
    }),
    cwd: Schema.optional(
      Schema.String.annotations({
        description: "directory to run in, relative to the worktree (default: the worktree)",
      }),
    ),
    timeout_secs: Schema.optional(
      Schema.Int.pipe(Schema.positive()).annotations({
        description: `seconds before the program (and everything it started) is killed; default ${defaultTimeoutSecs}, capped at gates_timeout_secs`,
      }),
    ),
  },
  output: Schema.Struct({
    story_id: Schema.String,
    command: Schema.Array(Schema.String),
    cwd: Schema.String,
    exit_code: Schema.NullOr(Schema.Number),
    signal: Schema.NullOr(Schema.String),
    timed_out: Schema.Boolean,
    timeout_secs: Schema.Number,
    duration_ms: Schema.Number,
    output_bytes: Schema.Number,
    output_tail: Schema.String,
    output_truncated: Schema.Boolean,
    log_path: Schema.String,
  }),
  run: ({ story_id, command, cwd, timeout_secs }, context) =>
    Effect.gen(function* () {
      const [program, ...args] = command
      if (program === undefined || program === "") {
        return yield* new ToolFailure({
          message: 'command is empty: give the program and its arguments, e.g. ["npm", "test"]',
        })
      }
      const wt = yield* requireWorktree(story_id)
      const dir = yield* resolveCwd(wt.path, cwd)
      const plan = yield* checkCommand(wt.path, dir, program, args)
      if (plan._tag === "Refused") return yield* new ToolFailure({ message: plan.message })
      const limit = (yield* projectConfig).project.gatesTimeoutSecs
      const timeoutSecs = Math.min(timeout_secs ?? defaultTimeoutSecs, limit)
      const project = yield* Project
      const started = Date.now()
      const logPath = join(
        project.root,
        ".huskies",
        "logs",
        wt.id,
        // The random part tells apart calls that start in the same millisecond.
        `command-${started}-${randomUUID().slice(0, 8)}.log`,
      )
      const display = command
        .map((a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a)))
        .join(" ")
      const result = yield* withProgress(
        context,
        display,
        runGate({
          command: display,
          argv: plan.argv,
          env: plan.env,
          cwd: dir,
          timeoutMillis: timeoutSecs * 1000,
          logPath,
          tailBytes,
        }),
      ).pipe(
        Effect.catchTag("GateSpawnError", (e) =>
          Effect.fail(
            new ToolFailure({
              message: `could not start ${program}: ${e.detail} (is it installed and on the server's PATH?)`,
            }),
          ),
        ),
      )
      return {
        story_id: wt.id,
        command: [...command],
        cwd: dir,
        exit_code: result.exitCode,
        signal: result.signal,
        timed_out: result.timedOut,
        timeout_secs: timeoutSecs,
        duration_ms: result.durationMillis,
        output_bytes: result.outputBytes,
        output_tail: result.tail,
        output_truncated: result.tailTruncated,
        log_path: result.logPath,
      }
    }),
})

export const commandTools = [runLint, runBuild, runCommand] as const
