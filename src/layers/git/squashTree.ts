// src/layers/git/squashTree.ts — the Git service's squash merge without a checkout: `git merge-tree` merges
// in the object store and `commit-tree` makes the squash commit on the base tip. For merges with no gates to
// run, which need no files on disk, so no merge workspace is made. Used by the merge queue (mergeAttempt).
import { Effect } from "effect"
import type { makeChanges } from "./changes.js"
import { missingBase, missingFeatureBranch, refused } from "./GitError.js"
import { SquashResult } from "./mergeTypes.js"
import { checkRef, type makeRepo } from "./repo.js"
import { commandFailed, type GitRunner } from "./run.js"

type Repo = ReturnType<typeof makeRepo>
type Changes = ReturnType<typeof makeChanges>

/** How much of a merge's output a Conflicts result keeps: the end, where the CONFLICT lines are. */
const outputTailChars = 8000

export interface SquashedTree {
  /** The base tip the squash was made on: the `expectedOldTip` of `advanceBase`. */
  readonly baseTip: string
  readonly squash: SquashResult
}

export const makeSquashTree = (git: GitRunner, repo: Repo, changes: Changes) => {
  /** The tips of `base` (commit and tree) and of `featureBranch`, read by one git process. */
  const tipsOf = (root: string, base: string, featureBranch: string) =>
    Effect.gen(function* () {
      const revs = [
        `refs/heads/${base}^{commit}`,
        `refs/heads/${base}^{tree}`,
        `refs/heads/${featureBranch}^{commit}`,
      ]
      // `--` makes git read each as a revision, never as a path.
      const read = yield* git.run(root, ["rev-parse", ...revs, "--"])
      const [baseTip, baseTree, featureTip] = read.stdout.split("\n")
      if (read.code === 0 && baseTip && baseTree && featureTip) return { baseTip, baseTree, featureTip }
      // One of them does not resolve: say which.
      const args = ["merge-tree", "--write-tree", base, featureBranch]
      if (!(yield* repo.branchExists(root, base))) return yield* missingBase(root, args, base)
      if (!(yield* repo.branchExists(root, featureBranch)))
        return yield* missingFeatureBranch(root, args, featureBranch)
      return yield* commandFailed(
        root,
        ["rev-parse", ...revs, "--"],
        read,
        "check that the repository is readable",
      )
    })

  /**
   * Squashes `featureBranch` onto the tip of `base` as one commit (parent: that tip) with `message`, touching
   * no worktree, index or ref: the commit is only in the object store until `advanceBase` moves `base` to it.
   * Needs git 2.38 or newer (merge-tree --write-tree).
   */
  const squashCommit = Effect.fn("Git.squashCommit")(function* (
    root: string,
    base: string,
    featureBranch: string,
    message: string,
  ) {
    const asked = ["merge-tree", "--write-tree", "--name-only", base, featureBranch]
    yield* checkRef(root, asked, "base branch", base)
    yield* checkRef(root, asked, "feature branch", featureBranch)
    if (message.trim() === "")
      return yield* refused(
        "InvalidArgument",
        root,
        asked,
        "squash merge with an empty message refused",
        "name the item in the message",
      )
    yield* repo.requireRepo(root)
    const { baseTip, baseTree, featureTip } = yield* tipsOf(root, base, featureBranch)
    const args = ["merge-tree", "--write-tree", "--name-only", baseTip, featureTip]
    const merged = yield* git.run(root, args)
    // The first line is the merged tree; on conflicts (exit 1) the conflicted files follow, then a blank
    // line and git's account of the merge.
    const [tree = "", ...rest] = merged.stdout.split("\n")
    if (merged.code === 1) {
      const blank = rest.indexOf("")
      const files = (blank < 0 ? rest : rest.slice(0, blank)).filter((f) => f !== "")
      const output = (blank < 0 ? "" : rest.slice(blank + 1).join("\n")).trim()
      return {
        baseTip,
        squash: SquashResult.Conflicts({
          files: [...new Set(files)],
          output: output.length <= outputTailChars ? output : `…${output.slice(-outputTailChars)}`,
        }),
      } satisfies SquashedTree
    }
    if (merged.code !== 0)
      return yield* commandFailed(root, args, merged, "git 2.38 or newer is needed (merge-tree --write-tree)")
    if (tree === baseTree)
      return {
        baseTip,
        squash: SquashResult.NothingToMerge({
          why: `${featureBranch} (${featureTip.slice(0, 12)}) changes nothing on ${baseTip.slice(0, 12)}: its changes are already on the base branch`,
        }),
      } satisfies SquashedTree
    const commit = yield* changes.commitTree(root, tree, baseTip, message)
    return { baseTip, squash: SquashResult.Merged({ commit }) } satisfies SquashedTree
  })

  return { squashCommit } as const
}
