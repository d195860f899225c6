// src/layers/Scaffold.ts — `huskies init`: writes .huskies/ (project.toml, agents.toml, README.md) into a
// git work tree, git-ignores huskies' local state and commits exactly the files it wrote. Used by the CLI.
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Option, Schema } from "effect"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { defaultProjectConfig } from "../domain/Config.js"
import { defaultAgents } from "../domain/defaultTeam.js"
import { renderAgentsToml, renderProjectToml } from "../domain/renderConfig.js"
import { type DetectedStack, detectStack } from "./detectStack.js"
import { agentGuide } from "./scaffoldReadme.js"

export class NotAGitWorkTree extends Schema.TaggedError<NotAGitWorkTree>()("NotAGitWorkTree", {
  path: Schema.String,
}) {
  override get message(): string {
    return (
      `${this.path} is not inside a git work tree. huskies keeps each work item on its own branch and ` +
      `worktree, so it needs a git repository: run "git init" there (or pick a directory inside an ` +
      `existing repository), then run "huskies init" again.`
    )
  }
}

export class ScaffoldError extends Schema.TaggedError<ScaffoldError>()("ScaffoldError", {
  path: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `huskies init in ${this.path}: ${this.detail}`
  }
}

/** Overrides of the environment git runs with; `undefined` removes a variable. */
export type GitEnv = Readonly<Record<string, string | undefined>>

export interface InitOptions {
  readonly gitEnv?: GitEnv
}

export interface InitReport {
  /** The project directory, absolute. Paths below are relative to it. */
  readonly root: string
  /** The top of the git work tree that holds it. */
  readonly repoRoot: string
  readonly baseBranch: string
  readonly stack: Option.Option<DetectedStack>
  /** Files this run wrote. */
  readonly created: ReadonlyArray<string>
  /** Files that already existed and were left exactly as they were. */
  readonly kept: ReadonlyArray<string>
  /** Existing files this run appended to (.gitignore). */
  readonly updated: ReadonlyArray<string>
  /** Files this run wrote or changed but did not commit, and why. */
  readonly uncommitted: ReadonlyArray<{ readonly path: string; readonly reason: string }>
  /** The commit this run made, if it changed anything committable. */
  readonly commit: Option.Option<string>
  /** Things the user should know, one line each. */
  readonly notes: ReadonlyArray<string>
}

/**
 * Lines `huskies init` makes sure `.gitignore` has: the store (with its WAL and SHM files), worktrees,
 * logs, agent pids, merge workspaces, and a node's private key and trusted nodes (never shared by a clone).
 */
export const gitignoreEntries = [
  ".huskies/huskies.db*",
  ".huskies/worktrees/",
  ".huskies/logs/",
  ".huskies/run/",
  ".huskies/merge/",
  ".huskies/node.key",
  ".huskies/nodes.db*",
] as const

export const commitMessage = "huskies init: add .huskies/ project settings, agent team and guide"

// ------------------------------------------------------------------------------------------------- git

interface GitResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

// execFile with an argument array: no shell ever sees a path or a message. A non-zero exit is a result,
// not a failure; only "git could not be run at all" fails here. Commands given paths get `literal`
// (below) so that a path is never read as a glob.
const literal = "--literal-pathspecs"
const runGit = (
  cwd: string,
  env: GitEnv,
  args: ReadonlyArray<string>,
): Effect.Effect<GitResult, ScaffoldError> =>
  Effect.async<GitResult, ScaffoldError>((resume) => {
    const child = execFile(
      "git",
      [...args],
      { cwd, env: { ...process.env, ...env, GIT_TERMINAL_PROMPT: "0" }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number")
          resume(
            Effect.fail(
              new ScaffoldError({
                path: cwd,
                detail:
                  error.code === "ENOENT"
                    ? "git is not installed or not on PATH: install git and run huskies init again"
                    : `could not run git ${args.join(" ")}: ${error.message}`,
              }),
            ),
          )
        else resume(Effect.succeed({ code: error === null ? 0 : Number(error.code), stdout, stderr }))
      },
    )
    return Effect.sync(() => child.kill())
  })

const gitOk = (cwd: string, env: GitEnv, args: ReadonlyArray<string>): Effect.Effect<string, ScaffoldError> =>
  Effect.flatMap(runGit(cwd, env, args), (result) =>
    result.code === 0
      ? Effect.succeed(result.stdout.trim())
      : Effect.fail(
          new ScaffoldError({
            path: cwd,
            detail: `git ${args.join(" ")} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
          }),
        ),
  )

// Only a missing piece of identity is filled in, and only when git cannot work one out itself (config,
// GIT_AUTHOR_* variables or its own guess): a user's own name is never replaced by "huskies".
const identityFallback = (cwd: string, env: GitEnv) =>
  Effect.gen(function* () {
    const author = yield* runGit(cwd, env, ["var", "GIT_AUTHOR_IDENT"])
    const committer = yield* runGit(cwd, env, ["var", "GIT_COMMITTER_IDENT"])
    if (author.code === 0 && committer.code === 0) return []
    const name = yield* runGit(cwd, env, ["config", "--get", "user.name"])
    const email = yield* runGit(cwd, env, ["config", "--get", "user.email"])
    return [
      ...(name.code === 0 && name.stdout.trim() !== "" ? [] : ["-c", "user.name=huskies"]),
      ...(email.code === 0 && email.stdout.trim() !== "" ? [] : ["-c", "user.email=huskies@localhost"]),
    ]
  })

// ------------------------------------------------------------------------------------------------ files

const coveredBy = (line: string, entry: string): boolean => {
  const normal = (s: string) => s.trim().replace(/^\//, "").replace(/\/$/, "")
  return normal(line) === normal(entry)
}

/** The entries `existing` (a .gitignore's text) lacks, in order. */
export const missingGitignoreEntries = (existing: string): ReadonlyArray<string> => {
  const lines = existing.split(/\r?\n/)
  return gitignoreEntries.filter((entry) => !lines.some((line) => coveredBy(line, entry)))
}

const gitignoreAddition = (existing: string, missing: ReadonlyArray<string>): string =>
  (existing === "" ? "" : existing.endsWith("\n") ? "\n" : "\n\n") +
  "# huskies: local state (store, agent worktrees, logs)\n" +
  missing.map((entry) => `${entry}\n`).join("")

// ------------------------------------------------------------------------------------------------- init

type Uncommitted = { readonly path: string; readonly reason: string }

const isSystemError = (reason: string) => (error: PlatformError) =>
  error._tag === "SystemError" && error.reason === reason

/** Appends the missing entries; says whether the file was created, updated (and committable) or kept. */
const ensureGitignore = (root: string, env: GitEnv, fail: (detail: string) => ScaffoldError) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const file = path.join(root, ".gitignore")
    const existing = yield* fs.readFileString(file).pipe(
      Effect.map(Option.some),
      Effect.catchIf(isSystemError("NotFound"), () => Effect.succeed(Option.none<string>())),
      Effect.mapError((error) => fail(`cannot read .gitignore: ${error.message}`)),
    )
    const before = Option.getOrElse(existing, () => "")
    const missing = missingGitignoreEntries(before)
    if (missing.length === 0) return { outcome: "kept" as const, committable: false }
    // Committing a .gitignore that already had uncommitted edits would commit the user's edits too.
    const status = yield* gitOk(root, env, [literal, "status", "--porcelain", "--", ".gitignore"])
    yield* fs
      .writeFileString(file, gitignoreAddition(before, missing), { flag: "a" })
      .pipe(Effect.mapError((error) => fail(`cannot update .gitignore: ${error.message}`)))
    return Option.isNone(existing)
      ? { outcome: "created" as const, committable: true }
      : { outcome: "updated" as const, committable: status === "" }
  })

/** Commits exactly `paths` (after `git add` of exactly them); returns the new commit. */
const commitOnly = (
  root: string,
  env: GitEnv,
  paths: ReadonlyArray<string>,
  fail: (detail: string) => ScaffoldError,
) =>
  Effect.gen(function* () {
    const identity = yield* identityFallback(root, env)
    yield* gitOk(root, env, [literal, "add", "--", ...paths])
    // `commit -- <paths>` commits only these paths and leaves whatever else the user staged staged.
    // --no-verify: the user's hooks (lint-staged, test runs, message formats) are for their own commits.
    const args = ["commit", "--quiet", "--no-verify", "-m", commitMessage, "--", ...paths]
    yield* gitOk(root, env, [literal, ...identity, ...args]).pipe(
      Effect.mapError((error) =>
        fail(
          `wrote and staged ${paths.join(", ")} but could not commit them (${error.detail}). ` +
            `Fix that, then run: git commit -m "${commitMessage}" -- ${paths.join(" ")}`,
        ),
      ),
    )
    return yield* gitOk(root, env, ["rev-parse", "HEAD"])
  })

/**
 * Scaffolds `.huskies/` in `projectPath`, which must be inside a git work tree. Never overwrites a file,
 * never stages or commits anything but the files it wrote: running it twice changes nothing the second time.
 */
export const initProject = (
  projectPath: string,
  options: InitOptions = {},
): Effect.Effect<InitReport, NotAGitWorkTree | ScaffoldError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const root = path.resolve(projectPath)
    const env = options.gitEnv ?? {}
    const fail = (detail: string) => new ScaffoldError({ path: root, detail })

    const info = yield* fs.stat(root).pipe(Effect.option)
    if (Option.isNone(info)) return yield* fail("the directory does not exist (or cannot be read)")
    if (info.value.type !== "Directory") return yield* fail("not a directory")

    const inside = yield* runGit(root, env, ["rev-parse", "--is-inside-work-tree"])
    if (inside.code !== 0 || inside.stdout.trim() !== "true")
      return yield* new NotAGitWorkTree({ path: root })
    const repoRoot = yield* gitOk(root, env, ["rev-parse", "--show-toplevel"])

    const notes: Array<string> = []
    // symbolic-ref also names the branch of a repository with no commits yet; it fails on a detached HEAD.
    const head = yield* runGit(root, env, ["symbolic-ref", "--quiet", "--short", "HEAD"])
    const current = head.code === 0 ? head.stdout.trim() : ""
    const baseBranch = current !== "" ? current : defaultProjectConfig.baseBranch
    if (current === "")
      notes.push(
        `HEAD is detached: wrote base_branch = "${baseBranch}"; edit .huskies/project.toml if that is wrong`,
      )

    const stack = yield* detectStack(root)
    if (Option.isNone(stack))
      notes.push(
        "no test command detected: set [commands] test in .huskies/project.toml so the gates run tests",
      )
    const commands = Option.match(stack, { onNone: () => ({}), onSome: (detected) => detected.commands })

    const files: ReadonlyArray<readonly [string, string]> = [
      [".huskies/project.toml", renderProjectToml({ ...defaultProjectConfig, baseBranch, commands })],
      [".huskies/agents.toml", renderAgentsToml(defaultAgents)],
      [".huskies/README.md", agentGuide],
    ]
    yield* fs
      .makeDirectory(path.join(root, ".huskies"), { recursive: true })
      .pipe(Effect.mapError((error) => fail(`cannot create .huskies/: ${error.message}`)))
    const created: Array<string> = []
    const kept: Array<string> = []
    for (const [file, content] of files) {
      // "wx" creates or fails atomically: a file the user made, even a moment ago, is never overwritten.
      const written = yield* fs.writeFileString(path.join(root, file), content, { flag: "wx" }).pipe(
        Effect.as(true),
        Effect.catchIf(isSystemError("AlreadyExists"), () => Effect.succeed(false)),
        Effect.mapError((error) => fail(`cannot write ${file}: ${error.message}`)),
      )
      ;(written ? created : kept).push(file)
    }

    const updated: Array<string> = []
    const uncommitted: Array<Uncommitted> = []
    const gitignore = yield* ensureGitignore(root, env, fail)
    if (gitignore.outcome === "created") created.push(".gitignore")
    if (gitignore.outcome === "kept") kept.push(".gitignore")
    if (gitignore.outcome === "updated") updated.push(".gitignore")
    if (gitignore.outcome === "updated" && !gitignore.committable)
      uncommitted.push({
        path: ".gitignore",
        reason:
          "it already had uncommitted changes of yours; the huskies lines were appended but not committed",
      })

    const toCommit: Array<string> = []
    for (const file of [...created, ...updated]) {
      if (uncommitted.some((u) => u.path === file)) continue
      // check-ignore exits 0 for ignored, 1 for not ignored, anything else on error.
      const ignored = yield* runGit(root, env, ["check-ignore", "--quiet", "--", file])
      if (ignored.code === 0) uncommitted.push({ path: file, reason: "it is git-ignored" })
      else if (ignored.code === 1) toCommit.push(file)
      else return yield* fail(`git check-ignore ${file} failed: ${ignored.stderr.trim()}`)
    }
    const commit =
      toCommit.length === 0
        ? Option.none<string>()
        : Option.some(yield* commitOnly(root, env, toCommit, fail))

    return { root, repoRoot, baseBranch, stack, created, kept, updated, uncommitted, commit, notes }
  })
