// src/layers/git/repo.ts — the Git service's questions about a repository (is it one, which branch,
// does a branch exist, what does a revision name) and branch deletion. Built on a GitRunner.
import { Effect } from "effect"
import { lstatSync, realpathSync, statSync } from "node:fs"
import * as fs from "node:fs/promises"
import { GitError, refused, stderrTail } from "./GitError.js"
import { invalidRef } from "./paths.js"
import { commandFailed, type GitRunner } from "./run.js"

// The looks at the repository's own paths below are synchronous: each is one system call of a few
// microseconds on a local disk, where a promise costs a round trip through libuv's thread pool (some
// 50-150 µs of CPU measured here) and a wait on the agent start path.

/** Whether `file` exists (without following a final symlink). Any failure to look answers no. */
export const pathExists = (file: string): Effect.Effect<boolean> =>
  Effect.sync(() => {
    try {
      return lstatSync(file, { throwIfNoEntry: false }) !== undefined
    } catch {
      return false
    }
  })

/**
 * Deletes the directory of a worktree git could not (or did not) remove; RemoveFailed says `what` failed
 * and what to check. `holder` names what may still hold files in it.
 */
export const deleteWorktreeDir = (root: string, target: string, what: string, holder: string) =>
  Effect.tryPromise({
    try: () => fs.rm(target, { recursive: true, force: true }),
    catch: (e) =>
      refused(
        "RemoveFailed",
        root,
        ["worktree", "remove", "--force", "--", target],
        `${what} failed: ${e instanceof Error ? e.message : String(e)}`,
        `check the permissions of the directory and whether ${holder} still holds files in it`,
      ),
  })

/** `dir` with symlinks resolved, or as given when it does not exist. */
export const realPath = (dir: string): Effect.Effect<string> =>
  Effect.sync(() => {
    try {
      return realpathSync.native(dir)
    } catch {
      return dir
    }
  })

/** Fails with InvalidArgument when `name` is not safe to hand to git as a revision or branch. */
export const checkRef = (cwd: string, args: ReadonlyArray<string>, what: string, name: string) => {
  const why = invalidRef(name)
  return why === undefined
    ? Effect.void
    : Effect.fail(refused("InvalidArgument", cwd, args, `${what} ${JSON.stringify(name)} refused`, `${why}`))
}

const notARepository = (dir: string, args: ReadonlyArray<string>, stderr: string) =>
  new GitError({
    reason: "NotARepository",
    cwd: dir,
    args: [...args],
    exitCode: 128,
    stderr: stderrTail(stderr),
    detail: `${dir} is not inside a git repository`,
    hint: "check the project root, or run `git init` there and commit the base branch",
  })

export const makeRepo = (git: GitRunner) => {
  const isRepo = Effect.fn("Git.isRepo")(function* (dir: string) {
    // A missing directory is "not a repository", not a failure to start git.
    const stat = yield* Effect.sync(() => {
      try {
        return statSync(dir, { throwIfNoEntry: false })
      } catch {
        return undefined
      }
    })
    if (stat === undefined || !stat.isDirectory()) return false
    const result = yield* git.run(dir, ["rev-parse", "--git-dir"])
    return result.code === 0
  })

  // Directories already found inside a repository. A directory stays inside its repository while it
  // exists (which is still checked each time), so asking git again only costs a process per command.
  const knownRepos = new Set<string>()
  const maxKnownRepos = 4096

  /** Succeeds when `dir` is inside a repository; NotARepository otherwise. */
  const requireRepo = Effect.fn("Git.requireRepo")(function* (dir: string) {
    const args = ["rev-parse", "--git-dir"]
    if (!(yield* pathExists(dir))) {
      return yield* refused(
        "NotARepository",
        dir,
        args,
        `${dir} does not exist`,
        "check the project root (or the worktree path)",
      )
    }
    if (knownRepos.has(dir)) return
    const result = yield* git.run(dir, args)
    if (result.code === 128) return yield* notARepository(dir, args, result.stderr)
    if (result.code !== 0)
      return yield* commandFailed(dir, args, result, "check that git can read the repository")
    if (knownRepos.size >= maxKnownRepos) knownRepos.clear()
    knownRepos.add(dir)
  })

  /** The branch checked out in `dir`, or undefined when HEAD is detached. */
  const currentBranch = Effect.fn("Git.currentBranch")(function* (dir: string) {
    yield* requireRepo(dir)
    const result = yield* git.run(dir, ["symbolic-ref", "--quiet", "--short", "HEAD"])
    if (result.code === 0) return result.stdout.trim()
    if (result.code === 1) return undefined
    return yield* commandFailed(
      dir,
      ["symbolic-ref", "--quiet", "--short", "HEAD"],
      result,
      "check the repository's HEAD",
    )
  })

  /** Whether local branch `branch` exists in the repository at `root`. */
  const branchExists = Effect.fn("Git.branchExists")(function* (root: string, branch: string) {
    const args = ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]
    yield* checkRef(root, args, "branch", branch)
    yield* requireRepo(root)
    const result = yield* git.run(root, args)
    if (result.code === 0) return true
    if (result.code === 1) return false
    return yield* commandFailed(root, args, result, `check that ${root} is a readable repository`)
  })

  /** The full object name `rev` resolves to; UnknownRevision when it resolves to nothing. */
  const revParse = Effect.fn("Git.revParse")(function* (dir: string, rev: string) {
    const args = ["rev-parse", "--verify", "--quiet", "--end-of-options", rev]
    yield* checkRef(dir, args, "revision", rev)
    yield* requireRepo(dir)
    const result = yield* git.run(dir, args)
    if (result.code === 0) return result.stdout.trim()
    if (result.code === 1) {
      return yield* new GitError({
        reason: "UnknownRevision",
        cwd: dir,
        args,
        exitCode: 1,
        stderr: stderrTail(result.stderr),
        detail: `${rev} does not name a commit or object in ${dir}`,
        hint: "check the branch or revision name (git branch --list shows the branches)",
      })
    }
    return yield* commandFailed(dir, args, result, "check the revision name")
  })

  /** Deletes local branch `branch` (even unmerged). "absent" when there was none: deleting is idempotent. */
  const deleteBranch = Effect.fn("Git.deleteBranch")(function* (root: string, branch: string) {
    const args = ["branch", "-D", "--", branch]
    yield* checkRef(root, args, "branch", branch)
    yield* requireRepo(root)
    // The usual case in one git process; a refusal is looked into after.
    const result = yield* git.run(root, args)
    if (result.code === 0) return "deleted" as const
    // None to delete, or raced with another deletion: the outcome wanted is there.
    if (!(yield* branchExists(root, branch))) return "absent" as const
    // Asked of git's worktree records rather than read from its words: is the branch checked out somewhere?
    const listed = yield* git.run(root, ["worktree", "list", "--porcelain", "-z"])
    const checkedOut = listed.code === 0 && listed.stdout.split("\0").includes(`branch refs/heads/${branch}`)
    return yield* commandFailed(
      root,
      args,
      result,
      checkedOut
        ? `${branch} is checked out in a worktree: remove that worktree (or switch it to another branch) first`
        : `check that ${branch} is not in use and the repository is writable`,
    )
  })

  return { isRepo, requireRepo, currentBranch, branchExists, revParse, deleteBranch } as const
}
