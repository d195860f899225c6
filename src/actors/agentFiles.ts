// src/actors/agentFiles.ts — what an agent run needs on disk besides its session log: its program (on PATH,
// or huskies' own copy of the CLI), the launch files (with their paths kept out of git), and its line in
// the usage ledger that get_token_usage aggregates; git work goes through the Git service. Used by AgentActor.
import { Effect, Either } from "effect"
import { Buffer } from "node:buffer"
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from "node:fs"
import { access, constants, open, stat } from "node:fs/promises"
import { delimiter, dirname, isAbsolute, join, relative, resolve, sep } from "node:path"
import type { AgentRuntime } from "../domain/Config.js"
import type { AgentRole } from "../domain/Stage.js"
import { fallbackIdentity, Git } from "../layers/Git.js"
import { appendUsage } from "../layers/Usage.js"
import type { TokenUsage } from "../layers/runtimes/agentEvents.js"
import type { LaunchFile } from "../layers/runtimes/Runtime.js"
import { isExecutableFile } from "../layers/runtimes/shippedCli.js"
import type { StoryId } from "../domain/StoryId.js"

export const describeError = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** process.env without its unset entries: the default base environment of an agent. */
export const processEnv = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  )

/** What to run: `command` with `args` before the launch's own arguments. */
export interface ResolvedProgram {
  readonly command: string
  readonly args: ReadonlyArray<string>
}

/** What resolving a program asks of the file system: once blocking (`resolveProgram`), once not (`findProgram`). */
interface ProgramProbe {
  readonly isDirectory: (path: string) => Effect.Effect<boolean>
  readonly isExecutable: (path: string) => Effect.Effect<boolean>
  /** Reads the first line only: a CLI may be a native binary of a few hundred megabytes. */
  readonly runsOnNode: (path: string) => Effect.Effect<boolean>
}

const shebang = "#!/usr/bin/env node\n"

const blockingProbe: ProgramProbe = {
  isDirectory: (path) => Effect.sync(() => existsSync(path) && statSync(path).isDirectory()),
  isExecutable: (path) => Effect.sync(() => isExecutableFile(path)),
  runsOnNode: (path) =>
    Effect.sync(() => {
      const head = Buffer.alloc(shebang.length)
      let fd: number | undefined
      try {
        fd = openSync(path, "r")
        return readSync(fd, head, 0, head.length, 0) === head.length && head.toString("latin1") === shebang
      } catch {
        return false
      } finally {
        if (fd !== undefined) closeSync(fd)
      }
    }),
}

// Any failure to look (gone, not permitted) answers no, as the blocking probe's does.
const asyncProbe: ProgramProbe = {
  isDirectory: (path) =>
    Effect.promise(() =>
      stat(path).then(
        (info) => info.isDirectory(),
        () => false,
      ),
    ),
  isExecutable: (path) =>
    Effect.promise(() =>
      access(path, constants.X_OK)
        .then(() => stat(path))
        .then(
          (info) => info.isFile(),
          () => false,
        ),
    ),
  runsOnNode: (path) =>
    Effect.promise(async () => {
      const handle = await open(path, "r").catch(() => undefined)
      if (handle === undefined) return false
      try {
        const head = Buffer.alloc(shebang.length)
        const { bytesRead } = await handle.read(head, 0, head.length, 0)
        return bytesRead === head.length && head.toString("latin1") === shebang
      } catch {
        return false
      } finally {
        await handle.close().catch(() => undefined)
      }
    }),
}

const resolveWith =
  (probe: ProgramProbe) =>
  (
    command: string,
    cwd: string,
    env: Readonly<Record<string, string>>,
    shipped?: string,
  ): Effect.Effect<Either.Either<ResolvedProgram, string>> =>
    Effect.gen(function* () {
      if (!(yield* probe.isDirectory(cwd)))
        return Either.left(`its working directory ${cwd} does not exist (was the worktree removed?)`)
      if (command.includes("/"))
        return (yield* probe.isExecutable(resolve(cwd, command)))
          ? Either.right({ command, args: [] })
          : Either.left(
              `the program ${command} is not an executable file (check that it is installed, or fix the agent's command in agents.toml)`,
            )
      for (const dir of (env["PATH"] ?? "").split(delimiter))
        if (dir !== "" && (yield* probe.isExecutable(join(dir, command))))
          return Either.right({ command, args: [] })
      if (shipped !== undefined && (yield* probe.isExecutable(shipped)))
        return Either.right(
          (yield* probe.runsOnNode(shipped))
            ? { command: process.execPath, args: [shipped] }
            : { command: shipped, args: [] },
        )
      return Either.left(
        `the program ${command} is not an executable file on its PATH${shipped === undefined ? "" : ` nor at ${shipped}`} (check that it is installed, or fix the agent's command in agents.toml)`,
      )
    })

/**
 * The program to start, or why the launch cannot start: node-pty does not fail on a missing program or
 * working directory, its child just exits 1, which would read as the agent failing rather than not
 * starting. A bare name is looked up on the environment's PATH first (the user's choice wins), then
 * `shipped`, huskies' own copy of the runtime's CLI; a Node script of huskies' own runs on huskies'
 * own node, so it needs no `node` on PATH either. Without blocking: the agent start path.
 */
export const findProgram = resolveWith(asyncProbe)

/** `findProgram`, blocking. */
export const resolveProgram = (
  command: string,
  cwd: string,
  env: Readonly<Record<string, string>>,
  shipped?: string,
): Either.Either<ResolvedProgram, string> =>
  Effect.runSync(resolveWith(blockingProbe)(command, cwd, env, shipped))

/**
 * Writes the files a launch needs (creating their directories); fails with a sentence naming the file.
 * Synchronously: a prompt of a few kilobytes into the worktree takes microseconds, where the promise
 * versions cost a thread-pool round trip per call on the agent start path.
 */
export const writeLaunchFiles = (files: ReadonlyArray<LaunchFile>): Effect.Effect<void, string> =>
  Effect.forEach(
    files,
    (file) =>
      Effect.try({
        try: () => {
          mkdirSync(dirname(file.path), { recursive: true })
          writeFileSync(file.path, file.content)
        },
        catch: (e) => `could not write ${file.path}: ${describeError(e)}`,
      }),
    { discard: true },
  )

/**
 * GIT_AUTHOR_* and GIT_COMMITTER_* for an agent whose git has no identity (no user.name/user.email and
 * nothing git can guess), so its commits do not fail; empty when git knows who commits. One git process,
 * run with the agent's own environment.
 */
export const identityFallbackEnv = (
  worktree: string,
  env: Readonly<Record<string, string>>,
): Effect.Effect<Readonly<Record<string, string>>, never, Git> =>
  Effect.gen(function* () {
    const known = yield* (yield* Git).knowsCommitter(worktree, env).pipe(
      Effect.catchAll((e) =>
        // Without an answer the agent runs as it is: its own git then says what is missing, if anything.
        Effect.as(Effect.logWarning(`the agent's git identity is unknown: ${e.message}`), true),
      ),
    )
    if (known) return {}
    const fallback: Record<string, string> = {
      GIT_AUTHOR_NAME: fallbackIdentity.name,
      GIT_AUTHOR_EMAIL: fallbackIdentity.email,
      GIT_COMMITTER_NAME: fallbackIdentity.name,
      GIT_COMMITTER_EMAIL: fallbackIdentity.email,
    }
    // What the environment already says is kept.
    return Object.fromEntries(Object.entries(fallback).filter(([key]) => env[key] === undefined))
  })

/**
 * Keeps the files huskies writes into a worktree out of the agent's commits: their worktree-relative
 * paths go into the repository's shared exclude file (one for all worktrees), each line once. Without
 * git there is nothing to protect: that is logged, never a failure.
 */
export const excludeFromGit = (
  worktree: string,
  files: ReadonlyArray<LaunchFile>,
  env?: Readonly<Record<string, string>>,
): Effect.Effect<void, never, Git> =>
  Effect.gen(function* () {
    const paths = files
      .map((file) => relative(worktree, file.path))
      .filter((path) => path !== "" && !path.startsWith("..") && !isAbsolute(path))
      .map((path) => path.split(sep).join("/"))
    yield* (yield* Git).excludeFromCommits(worktree, paths, env)
  }).pipe(
    Effect.catchAll((e) =>
      Effect.logWarning(`launch files are not excluded from git in ${worktree}: ${e.message}`),
    ),
  )

export interface LedgerRun {
  /** The item, or the pseudo item `chat` for the chat assistant's turns. */
  readonly storyId: StoryId | "chat"
  readonly agent: string
  readonly role: AgentRole | "chat"
  readonly outcome: string
  readonly model?: string
  readonly session: number
  readonly numTurns: number
  readonly usage: TokenUsage
  readonly costUsd?: number
  readonly sessionId?: string
  readonly endedAt: number
}

/** Appends the run's line to the usage ledger that get_token_usage reads. */
export const appendUsageLedger = (
  root: string,
  run: LedgerRun,
  runtime: AgentRuntime,
): Effect.Effect<void> => {
  const record = {
    time: new Date(run.endedAt).toISOString(),
    storyId: run.storyId,
    agent: run.agent,
    role: run.role,
    runtime,
    model: run.model ?? null,
    session: run.session,
    outcome: run.outcome,
    numTurns: run.numTurns,
    inputTokens: run.usage.inputTokens,
    outputTokens: run.usage.outputTokens,
    cacheRead: run.usage.cacheRead,
    cacheCreation: run.usage.cacheCreation,
    costUsd: run.costUsd ?? null,
    sessionId: run.sessionId ?? null,
  }
  // Losing one ledger line costs a usage figure, not the run (or the chat answer): it is logged, never fatal.
  return appendUsage(root, record).pipe(Effect.catchAll((e) => Effect.logWarning(e.message)))
}
