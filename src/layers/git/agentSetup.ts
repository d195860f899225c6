// src/layers/git/agentSetup.ts — what the Git service does for an agent about to run in a worktree: keeps
// huskies' launch files out of its commits (the repository's shared exclude file) and tells whether its git
// knows who commits. Used by AgentActor, through agentFiles.
import { Effect } from "effect"
import { appendFile, mkdir, readFile } from "node:fs/promises"
import { dirname, join, resolve } from "node:path"
import { refused } from "./GitError.js"
import type { GitEnv, GitRunner } from "./run.js"

export const makeAgentSetup = (git: GitRunner) => {
  // Two agents of one repository share its exclude file: one read-then-append at a time.
  const excludeLock = Effect.unsafeMakeSemaphore(1)

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
    const commonDir = yield* git.ok(
      worktree,
      ["rev-parse", "--git-common-dir"],
      "is the worktree a git repository?",
      env === undefined ? {} : { env },
    )
    const exclude = join(resolve(worktree, commonDir.stdout.trim()), "info", "exclude")
    yield* Effect.tryPromise({
      try: async () => {
        await mkdir(dirname(exclude), { recursive: true })
        const existing = await readFile(exclude, "utf8").catch((e: unknown) => {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") return ""
          throw e
        })
        const present = new Set(existing.split("\n").map((line) => line.trim()))
        const missing = paths.filter((path) => !present.has(path))
        if (missing.length === 0) return
        const separator = existing === "" || existing.endsWith("\n") ? "" : "\n"
        await appendFile(exclude, separator + missing.map((path) => `${path}\n`).join(""))
      },
      catch: (e) =>
        refused(
          "FileFailed",
          worktree,
          ["rev-parse", "--git-common-dir"],
          `could not update ${exclude}: ${e instanceof Error ? e.message : String(e)}`,
          "check the permissions of the repository's .git/info directory",
        ),
    }).pipe(excludeLock.withPermits(1))
  })

  /**
   * Whether git, run in `worktree` with `env` over the process environment (an agent's own, instead of the
   * service's), knows who commits: a user.name and user.email configured, set in the environment, or
   * guessed by git. One git process.
   */
  const knowsCommitter = Effect.fn("Git.knowsCommitter")(function* (worktree: string, env: GitEnv) {
    const result = yield* git.run(worktree, ["var", "GIT_COMMITTER_IDENT"], { env })
    return result.code === 0
  })

  return { excludeFromCommits, knowsCommitter } as const
}
