// src/actors/pipeline/branchFacts.ts — the git facts a move to QA or Merge is built from: how many
// commits the item's feature branch has ahead of the base, or why it has none. Used by the Pipeline.
import { Effect } from "effect"
import type { StoryId } from "../../domain/StoryId.js"
import { featureBranchOf, Git, GitError } from "../../layers/Git.js"
import { BranchNotReady } from "./errors.js"

export interface BranchFacts {
  readonly featureBranch: string
  readonly commitsAhead: number
}

/**
 * How many commits `feature/story-<id>` has that `base` lacks, or BranchNotReady saying why that
 * cannot be answered (no repository, no branch, no commits): the caller refuses the move with it.
 */
export const branchFacts = (root: string, id: StoryId, base: string) =>
  Effect.gen(function* () {
    const git = yield* Git
    const branch = featureBranchOf(id)
    const notReady = (why: string) => new BranchNotReady({ storyId: id, why })
    if (!(yield* git.isRepo(root))) {
      return yield* notReady(`${root} is not a git repository, so ${branch} cannot have commits`)
    }
    if (!(yield* git.branchExists(root, branch))) {
      return yield* notReady(
        `branch ${branch} does not exist, so there is no work to review or merge: the coder commits its work there`,
      )
    }
    const commits = yield* git
      .commitsAhead(root, base, branch)
      .pipe(
        Effect.mapError((e) =>
          notReady(
            e.reason === "UnknownRevision"
              ? `cannot count the commits of ${branch} ahead of base branch ${base}: ${base} does not exist (check base_branch in .huskies/project.toml)`
              : `cannot count the commits of ${branch} ahead of base branch ${base}: ${e.message}`,
          ),
        ),
      )
    if (commits < 1) {
      return yield* notReady(
        `${branch} has no commits ahead of ${base}, so there is nothing to review or merge: commit the work on ${branch} first`,
      )
    }
    return { featureBranch: branch, commitsAhead: commits } satisfies BranchFacts
  }).pipe(
    // A git that cannot answer at all (not installed, unreadable repository) is a reason to refuse too.
    Effect.catchIf(
      (e): e is GitError => e instanceof GitError,
      (e) =>
        Effect.fail(
          new BranchNotReady({ storyId: id, why: `cannot read the branches of ${root}: ${e.message}` }),
        ),
    ),
  )
