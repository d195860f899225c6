// src/layers/git/remote.ts — the Git service's exchange of branches with the project's shared remote, for
// several nodes on one pipeline: a worker pushes feature/story-<id> there, and whichever node works on the
// item next (QA or the merge on the main node, a worker resuming a lost claim) fetches it from there.
import { Effect } from "effect"
import { checkRef, type makeRepo } from "./repo.js"
import { commandFailed, type GitRunner } from "./run.js"
import { metHalfWrittenWorktree, type WorktreeLock } from "./worktreeLock.js"

type Repo = ReturnType<typeof makeRepo>

/** What `adoptRemoteBranch` did with the local branch. */
export type Adopted =
  /** The remote has no such branch: the local one (if any) is all there is. */
  | "absent"
  /** The local branch was missing and now points at the remote's tip. */
  | "created"
  /** The local branch was behind the remote's tip and now points at it. */
  | "fast-forwarded"
  /** The local branch already held the remote's tip. */
  | "current"
  /** Both have commits the other lacks: the local one is left as it is (the caller says which wins). */
  | "diverged"

/** The remote-tracking name of `branch` on `remote` (`origin/feature/story-1_story_a`). */
export const trackingRef = (remote: string, branch: string): string => `refs/remotes/${remote}/${branch}`

/** The refspec that fetches `branch` from `remote` into its remote-tracking ref (forced: the remote's tip wins). */
const trackingRefspec = (remote: string, branch: string): string =>
  `+refs/heads/${branch}:${trackingRef(remote, branch)}`

export const makeRemote = (git: GitRunner, repo: Repo, lock: WorktreeLock) => {
  /**
   * One quiet fetch of `refspecs` from `remote`, without tags; fails with `hint` unless git exits 0.
   * A fetch walks every worktree's HEAD: one that met a worktree being added runs again, once, where no
   * add can run beside it (it does not hold the lock the first time, so a slow remote delays no start).
   */
  const fetchRefspecs = (root: string, remote: string, refspecs: ReadonlyArray<string>, hint: string) => {
    const args = ["fetch", "--quiet", "--no-tags", "--", remote, ...refspecs]
    return Effect.flatMap(git.run(root, args), (first) =>
      first.code === 0
        ? Effect.succeed(first)
        : metHalfWrittenWorktree(first.stderr)
          ? lock.shared(git.ok(root, args, hint))
          : Effect.fail(commandFailed(root, args, first, hint)),
    )
  }

  const baseHint = (remote: string, base: string) =>
    `check that the remote ${remote} is reachable and has the base branch ${base}`

  /** Whether the repository at `root` has a remote called `remote`. */
  const hasRemote = Effect.fn("Git.hasRemote")(function* (root: string, remote: string) {
    yield* checkRef(root, ["remote", "get-url"], "remote", remote)
    yield* repo.requireRepo(root)
    const result = yield* git.run(root, ["remote", "get-url", "--", remote])
    return result.code === 0
  })

  /**
   * Fetches `branch` from `remote` into its remote-tracking ref; false when the remote has no such
   * branch (then any stale tracking ref is left alone: nothing reads it without a fetch first).
   */
  const fetchBranch = Effect.fn("Git.fetchBranch")(function* (root: string, remote: string, branch: string) {
    yield* checkRef(root, ["fetch"], "branch", branch)
    yield* checkRef(root, ["fetch"], "remote", remote)
    yield* repo.requireRepo(root)
    const listArgs = ["ls-remote", "--exit-code", "--heads", "--", remote, `refs/heads/${branch}`]
    const listed = yield* git.run(root, listArgs)
    // 2: the remote answered and has no such branch.
    if (listed.code === 2) return false
    if (listed.code !== 0)
      return yield* commandFailed(root, listArgs, listed, `check that the remote ${remote} is reachable`)
    const hint = `check that the remote ${remote} is reachable and readable`
    yield* fetchRefspecs(root, remote, [trackingRefspec(remote, branch)], hint)
    return true
  })

  /**
   * A worker's one fetch before it works on an item: the base and the item's branch (if the remote has it)
   * into their remote-tracking refs, in one git process. Returns the base's short name (`origin/main`).
   */
  const fetchForWork = Effect.fn("Git.fetchForWork")(function* (
    root: string,
    remote: string,
    base: string,
    branch: string,
  ) {
    yield* checkRef(root, ["fetch"], "base branch", base)
    yield* checkRef(root, ["fetch"], "branch", branch)
    yield* checkRef(root, ["fetch"], "remote", remote)
    yield* repo.requireRepo(root)
    // A pattern refspec fetches the branch when it is there and nothing (no error) when it is not.
    const branchPattern = `+refs/heads/${branch}*:${trackingRef(remote, branch)}*`
    yield* fetchRefspecs(root, remote, [trackingRefspec(remote, base), branchPattern], baseHint(remote, base))
    return `${remote}/${base}`
  })

  /**
   * Brings local `branch` up to the remote's tip when it is missing or behind; fast-forwards a worktree
   * that has it checked out (with `worktree`, which must be clean), so the next session starts from there.
   */
  const adoptRemoteBranch = Effect.fn("Git.adoptRemoteBranch")(function* (
    root: string,
    remote: string,
    branch: string,
    worktree?: string,
    /** fetchForWork has just fetched it: look at the tracking ref only. */
    fetched = false,
  ) {
    const tracking = trackingRef(remote, branch)
    if (fetched) {
      const known = yield* git.run(root, ["rev-parse", "--verify", "--quiet", "--end-of-options", tracking])
      if (known.code !== 0) return "absent" satisfies Adopted
    } else if (!(yield* fetchBranch(root, remote, branch))) return "absent" satisfies Adopted
    const theirs = yield* repo.revParse(root, tracking)
    if (!(yield* repo.branchExists(root, branch))) {
      yield* git.ok(
        root,
        ["branch", "--no-track", "--", branch, tracking],
        `check that ${branch} can be created`,
      )
      return "created" satisfies Adopted
    }
    const ours = yield* repo.revParse(root, `refs/heads/${branch}`)
    if (ours === theirs) return "current" satisfies Adopted
    const isAncestor = (a: string, b: string) =>
      Effect.map(git.run(root, ["merge-base", "--is-ancestor", a, b]), (r) => r.code === 0)
    if (!(yield* isAncestor(ours, theirs))) {
      // Ours already contains theirs: nothing to take.
      return (yield* isAncestor(theirs, ours))
        ? ("current" satisfies Adopted)
        : ("diverged" satisfies Adopted)
    }
    if (worktree !== undefined) {
      yield* git.ok(
        worktree,
        ["merge", "--ff-only", "--quiet", theirs],
        `check that ${worktree} has no uncommitted changes`,
      )
    } else {
      const args = ["update-ref", `refs/heads/${branch}`, theirs, ours]
      yield* git.ok(root, args, `check that ${branch} is not checked out anywhere`)
    }
    return "fast-forwarded" satisfies Adopted
  })

  /** Pushes local `branch` to the same name on `remote` (a fast-forward: never rewrites what is there). */
  const pushBranch = Effect.fn("Git.pushBranch")(function* (root: string, remote: string, branch: string) {
    yield* checkRef(root, ["push"], "branch", branch)
    yield* checkRef(root, ["push"], "remote", remote)
    yield* repo.requireRepo(root)
    const args = ["push", "--quiet", "--", remote, `refs/heads/${branch}:refs/heads/${branch}`]
    yield* git.ok(
      root,
      args,
      `check that the remote ${remote} is reachable and writable, and that nobody rewrote ${branch} there`,
    )
    // Keeps the tracking ref in step, so a later adopt compares with what is really there.
    yield* git.run(root, ["update-ref", trackingRef(remote, branch), `refs/heads/${branch}`])
  })

  /** Fetches the base branch into its remote-tracking ref and returns that ref's short name (`origin/main`). */
  const fetchBase = Effect.fn("Git.fetchBase")(function* (root: string, remote: string, base: string) {
    yield* checkRef(root, ["fetch"], "base branch", base)
    yield* checkRef(root, ["fetch"], "remote", remote)
    yield* repo.requireRepo(root)
    yield* fetchRefspecs(root, remote, [trackingRefspec(remote, base)], baseHint(remote, base))
    return `${remote}/${base}`
  })

  return { hasRemote, fetchBranch, fetchForWork, adoptRemoteBranch, pushBranch, fetchBase } as const
}
