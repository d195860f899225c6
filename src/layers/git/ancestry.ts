// src/layers/git/ancestry.ts — the Git service's questions about what is already on a branch: whether
// one commit descends from another, whether a feature branch has landed on the base, and whether a merge
// commit is on it. Used by the merge queue (recovery) and merge.ts (only ever forward).
import { Effect } from "effect"
import { checkRef, type makeRepo } from "./repo.js"
import { commandFailed, type GitRunner } from "./run.js"

type Repo = ReturnType<typeof makeRepo>

export const makeAncestry = (git: GitRunner, repo: Repo) => {
  /** Whether `ancestor` is an ancestor of (or equal to) `descendant`. */
  const isAncestor = (root: string, ancestor: string, descendant: string) =>
    Effect.flatMap(git.run(root, ["merge-base", "--is-ancestor", ancestor, descendant]), (r) =>
      r.code <= 1
        ? Effect.succeed(r.code === 0)
        : Effect.fail(
            commandFailed(
              root,
              ["merge-base", "--is-ancestor", ancestor, descendant],
              r,
              "check both revisions",
            ),
          ),
    )

  /**
   * Whether `featureBranch` has landed on `base`: it is an ancestor of it, or squashing it into `base`
   * would change nothing (git merge-tree, without touching any worktree).
   */
  const isMerged = Effect.fn("Git.isMerged")(function* (root: string, base: string, featureBranch: string) {
    const args = [
      "merge-tree",
      "--write-tree",
      "--no-messages",
      `refs/heads/${base}`,
      `refs/heads/${featureBranch}`,
    ]
    yield* checkRef(root, args, "base branch", base)
    yield* checkRef(root, args, "feature branch", featureBranch)
    yield* repo.requireRepo(root)
    const baseTip = yield* repo.revParse(root, `refs/heads/${base}`)
    const featureTip = yield* repo.revParse(root, `refs/heads/${featureBranch}`)
    if (yield* isAncestor(root, featureTip, baseTip)) return true
    const merged = yield* git.run(root, args)
    // 1: conflicts, so not already on the base.
    if (merged.code === 1) return false
    if (merged.code !== 0)
      return yield* commandFailed(root, args, merged, "git 2.38 or newer is needed (merge-tree --write-tree)")
    return merged.stdout.trim().split("\n")[0] === (yield* repo.revParse(root, `${baseTip}^{tree}`))
  })

  return {
    isAncestor,
    isMerged,
    /** Whether `commit` is on `base` (a merge that moved the base before a crash). */
    baseContains: (root: string, base: string, commit: string) =>
      Effect.flatMap(repo.revParse(root, `refs/heads/${base}`), (tip) => isAncestor(root, commit, tip)),
  } as const
}
