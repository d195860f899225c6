// src/transports/tools/worktreeAccess.ts — finding a work item's git worktree for the tools that act in
// it (git_* and run_command): it must be a worktree git knows, not merely a directory at that path.
import { Effect } from "effect"
import type { StoryId } from "../../domain/StoryId.js"
import { featureBranchOf, Git, worktreePathOf } from "../../layers/Git.js"
import { Project } from "../../layers/Project.js"
import { requireId } from "./itemAccess.js"
import { ToolFailure } from "./Tool.js"

export interface ItemWorktree {
  readonly id: StoryId
  readonly root: string
  /** The worktree's directory, as huskies names it (not symlink-resolved). */
  readonly path: string
  /** The branch checked out in it; undefined when its HEAD is detached. */
  readonly branch: string | undefined
  /** The branch it should be on: feature/story-<id>. */
  readonly featureBranch: string
}

/**
 * The registered worktree of item `storyId`. A plain directory at its path is refused: git run there
 * would act on the project's own repository (its index, its branch) instead.
 */
export const requireWorktree = (storyId: string) =>
  Effect.gen(function* () {
    const id = yield* requireId(storyId)
    const project = yield* Project
    const git = yield* Git
    const path = worktreePathOf(project.root, id)
    const entries = yield* git.listWorktrees(project.root)
    const entry = entries.find((e) => e.id === id)
    if (entry === undefined || entry.prunable) {
      return yield* new ToolFailure({
        message: `${id} has no worktree at ${path}${
          entry?.prunable === true ? " (git still lists it, but its directory is gone)" : ""
        }: create_worktree creates it (huskies also creates it when the item enters Coding)`,
      })
    }
    return {
      id,
      root: project.root,
      path,
      branch: entry.branch,
      featureBranch: featureBranchOf(id),
    } satisfies ItemWorktree
  })
