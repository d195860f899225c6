// src/layers/git/agentSetup.ts — what the Git service does for an agent about to run in a worktree: keeps
// huskies' launch files out of its commits (the repository's shared exclude file) and tells whether its git
// knows who commits. Used by AgentActor, through agentFiles.
import { Clock, Effect, Option } from "effect"
import { appendFileSync, mkdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { refused } from "./GitError.js"
import type { GitEnv, GitRunner } from "./run.js"

/** How long a "git knows who commits" answer is trusted: a later fix of the identity applies at once (a
 * "no" is never kept), a removed identity within this long. */
const committerTrustMillis = 60_000

/** The variables git's committer identity can depend on (config locations, identity, guesses). */
const identityInputs = /^(GIT_.*|EMAIL|HOME|XDG_CONFIG_HOME|USER|LOGNAME)$/

/**
 * The repository's common git directory for `worktree`, read the way git finds it (`.git` a directory, or
 * a file naming the worktree's git dir, whose `commondir` names the shared one); None when the layout is
 * anything else, and git is asked instead. Read synchronously, as the exclude file below: a few small
 * local files, each a few microseconds, where a promise costs a thread-pool round trip on the agent start
 * path.
 */
const commonDirOf = (worktree: string): Option.Option<string> => {
  try {
    const dotGit = join(worktree, ".git")
    if (statSync(dotGit).isDirectory()) return Option.some(dotGit)
    const pointer = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, "utf8"))?.[1]?.trim()
    if (pointer === undefined) return Option.none()
    const gitDir = resolve(worktree, pointer)
    let common: string | undefined
    try {
      common = readFileSync(join(gitDir, "commondir"), "utf8")
    } catch {
      common = undefined
    }
    return Option.some(common === undefined ? gitDir : resolve(gitDir, common.trim()))
  } catch {
    return Option.none()
  }
}

export const makeAgentSetup = (git: GitRunner) => {
  // When each worktree-and-environment last had a committer; owned by this service, read and written
  // in one synchronous step each, so no two fibers interleave on it.
  const committerKnownAt = new Map<string, number>()

  /**
   * Adds `paths` (relative to `worktree`, `/`-separated) to the repository's shared exclude file
   * (`<common dir>/info/exclude`, one for all its worktrees), each line once. `env`: the agent's
   * environment, when it has one of its own.
   */
  const excludeFromCommits = Effect.fn("Git.excludeFromCommits")(function* (
    worktree: string,
    paths: ReadonlyArray<string>,
    env?: GitEnv,
  ) {
    if (paths.length === 0) return
    // An environment that points git elsewhere is git's to resolve; otherwise the files say it, no process.
    const redirected =
      env !== undefined && Object.keys(env).some((k) => k === "GIT_DIR" || k === "GIT_COMMON_DIR")
    const known = redirected ? Option.none<string>() : yield* Effect.sync(() => commonDirOf(worktree))
    const commonDir = Option.isSome(known)
      ? known.value
      : resolve(
          worktree,
          (yield* git.ok(
            worktree,
            ["rev-parse", "--git-common-dir"],
            "is the worktree a git repository?",
            env === undefined ? {} : { env },
          )).stdout.trim(),
        )
    const exclude = join(commonDir, "info", "exclude")
    // Two agents of one repository share its exclude file: read and appended in one synchronous step, so
    // two starts cannot interleave between the read and the append.
    yield* Effect.try({
      try: () => {
        mkdirSync(dirname(exclude), { recursive: true })
        let existing: string
        try {
          existing = readFileSync(exclude, "utf8")
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e
          existing = ""
        }
        const present = new Set(existing.split("\n").map((line) => line.trim()))
        const missing = paths.filter((path) => !present.has(path))
        if (missing.length === 0) return
        const separator = existing === "" || existing.endsWith("\n") ? "" : "\n"
        appendFileSync(exclude, separator + missing.map((path) => `${path}\n`).join(""))
      },
      catch: (e) =>
        refused(
          "FileFailed",
          worktree,
          ["rev-parse", "--git-common-dir"],
          `could not update ${exclude}: ${e instanceof Error ? e.message : String(e)}`,
          "check the permissions of the repository's .git/info directory",
        ),
    })
  })

  /**
   * Whether git, run in `worktree` with `env` over the process environment (an agent's own, instead of the
   * service's), knows who commits: a user.name and user.email configured, set in the environment, or
   * guessed by git. One git process.
   */
  const knowsCommitter = Effect.fn("Git.knowsCommitter")(function* (worktree: string, env: GitEnv) {
    // The repository (its config is shared by its worktrees) and what git reads to name the committer:
    // two agents of one repository differing in anything else get one answer.
    const repository = Option.getOrElse(yield* Effect.sync(() => commonDirOf(worktree)), () => worktree)
    const inputs = Object.entries(env).filter(([name]) => identityInputs.test(name))
    const key = JSON.stringify([repository, inputs.sort()])
    const now = yield* Clock.currentTimeMillis
    const knownAt = committerKnownAt.get(key)
    if (knownAt !== undefined && now - knownAt < committerTrustMillis) return true
    const result = yield* git.run(worktree, ["var", "GIT_COMMITTER_IDENT"], { env })
    if (result.code === 0) committerKnownAt.set(key, now)
    else committerKnownAt.delete(key)
    return result.code === 0
  })

  return { excludeFromCommits, knowsCommitter } as const
}
