// src/layers/git/run.ts — runs one git process for the Git service: execFile with explicit arguments (no
// shell), no prompts, a timeout, bounded output, and an environment cleaned of variables that redirect git.
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { GitError, type GitErrorReason, stderrHeadline, stderrTail } from "./GitError.js"

/** Overrides of the environment git runs with; `undefined` removes a variable. */
export type GitEnv = Readonly<Record<string, string | undefined>>

export interface GitRunnerOptions {
  /** Applied over the process environment (tests pass an isolated HOME and config). */
  readonly env?: GitEnv
  /** Kill a git process that runs longer than this (default 60 s). */
  readonly timeoutMs?: number
  /** The most stdout (or stderr) a command may print, in bytes (default 16 MiB). */
  readonly maxOutputBytes?: number
}

export interface RunOptions {
  /** A smaller output bound for this command. */
  readonly maxBytes?: number
  /** Past the bound, keep what was read and say so (`truncated`) instead of failing. */
  readonly truncate?: boolean
  /**
   * This command's overrides of the process environment, instead of the service's: to ask what git will
   * say to an agent, which runs with an environment of its own.
   */
  readonly env?: GitEnv
}

export interface RunResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** stdout stopped at the bound (only with `truncate`). */
  readonly truncated: boolean
}

export interface GitRunner {
  /** The environment every git process gets. */
  readonly env: NodeJS.ProcessEnv
  /** Runs git; any exit code is a result. Fails only when git did not run to its end. */
  readonly run: (
    cwd: string,
    args: ReadonlyArray<string>,
    options?: RunOptions,
  ) => Effect.Effect<RunResult, GitError>
  /** Runs git and fails with a GitError carrying `hint` unless it exits 0. */
  readonly ok: (
    cwd: string,
    args: ReadonlyArray<string>,
    hint: string,
    options?: RunOptions,
  ) => Effect.Effect<RunResult, GitError>
}

// Inherited from a parent git (a hook, `git rebase --exec`), these would point every command at another
// repository or index: a leaked GIT_INDEX_FILE is how a commit can record the deletion of every file.
const redirectingVariables = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
]

export const gitEnvironment = (overrides: GitEnv = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of redirectingVariables) delete env[name]
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }
  // Never wait for a password or passphrase nobody can type; never take optional locks (status refresh)
  // that would make the user's own git commands in the same repository fail.
  env["GIT_TERMINAL_PROMPT"] = "0"
  env["GIT_OPTIONAL_LOCKS"] = "0"
  return env
}

/** The GitError for a git that ran and exited non-zero. */
export const commandFailed = (
  cwd: string,
  args: ReadonlyArray<string>,
  result: RunResult,
  hint: string,
): GitError => {
  const headline = stderrHeadline(result.stderr)
  return new GitError({
    reason: "CommandFailed",
    cwd,
    args: [...args],
    exitCode: result.code,
    stderr: stderrTail(result.stderr),
    detail: `git ${args.join(" ")} (in ${cwd}) exited with code ${result.code}${headline === "" ? "" : `: ${headline}`}`,
    hint,
  })
}

const decode = (bytes: Buffer, truncated: boolean): string => {
  const text = bytes.toString("utf8")
  // A cut in the middle of a multi-byte character decodes to U+FFFD: drop it rather than show garbage.
  return truncated ? text.replace(/\uFFFD+$/, "") : text
}

export const makeRunner = (options: GitRunnerOptions = {}): GitRunner => {
  const env = gitEnvironment(options.env)
  const timeoutMs = options.timeoutMs ?? 60_000
  const maxOutputBytes = options.maxOutputBytes ?? 16 * 1024 * 1024

  const run = (cwd: string, args: ReadonlyArray<string>, runOptions: RunOptions = {}) =>
    Effect.async<RunResult, GitError>((resume) => {
      const maxBytes = Math.min(runOptions.maxBytes ?? maxOutputBytes, maxOutputBytes)
      const failure = (reason: GitErrorReason, stderr: string, detail: string, hint: string) =>
        new GitError({
          reason,
          cwd,
          args: [...args],
          exitCode: null,
          stderr: stderrTail(stderr),
          detail: `git ${args.join(" ")} (in ${cwd}) ${detail}`,
          hint,
        })
      const child = execFile(
        "git",
        [...args],
        // On timeout git gets SIGTERM, on which it removes its lock files (index.lock) before exiting.
        {
          cwd,
          env: runOptions.env === undefined ? env : gitEnvironment(runOptions.env),
          timeout: timeoutMs,
          maxBuffer: maxBytes,
          encoding: "buffer",
          windowsHide: true,
        },
        (error, stdoutBytes, stderrBytes) => {
          const stderr = stderrBytes.toString("utf8")
          if (error === null) {
            resume(Effect.succeed({ code: 0, stdout: decode(stdoutBytes, false), stderr, truncated: false }))
            return
          }
          const code = (error as NodeJS.ErrnoException).code
          if (code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") {
            if (runOptions.truncate === true) {
              resume(Effect.succeed({ code: 0, stdout: decode(stdoutBytes, true), stderr, truncated: true }))
            } else {
              resume(
                Effect.fail(
                  failure(
                    "OutputTooLarge",
                    stderr,
                    `printed more than ${maxBytes} bytes`,
                    "the output was cut off and not used: narrow the request (fewer paths, a smaller range)",
                  ),
                ),
              )
            }
          } else if (typeof code === "number") {
            resume(Effect.succeed({ code, stdout: decode(stdoutBytes, false), stderr, truncated: false }))
          } else if (error.killed === true) {
            // Only the timeout kills git here (an interrupted run no longer listens for this callback).
            resume(
              Effect.fail(
                failure(
                  "Timeout",
                  stderr,
                  `was stopped after ${timeoutMs} ms`,
                  "git did not finish in time: check for a stale .git/index.lock, a hook or credential helper that waits, or a very large repository",
                ),
              ),
            )
          } else if (typeof error.signal === "string") {
            resume(
              Effect.fail(
                failure(
                  "CommandFailed",
                  stderr,
                  `was killed by ${error.signal}`,
                  "something outside huskies stopped git (out of memory, a shutdown): try again",
                ),
              ),
            )
          } else {
            resume(
              Effect.fail(
                failure(
                  "NotStarted",
                  stderr,
                  `could not run: ${error.message}`,
                  `check that git is installed and on PATH and that ${cwd} exists`,
                ),
              ),
            )
          }
        },
      )
      return Effect.sync(() => {
        child.kill()
      })
    })

  const ok = (cwd: string, args: ReadonlyArray<string>, hint: string, runOptions?: RunOptions) =>
    Effect.flatMap(run(cwd, args, runOptions), (result) =>
      result.code === 0 ? Effect.succeed(result) : Effect.fail(commandFailed(cwd, args, result, hint)),
    )

  return { env, run, ok }
}
