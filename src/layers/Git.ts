// src/layers/Git.ts — git operations on a project's repository and its work items' worktrees
// (.huskies/worktrees/<id> on feature/story-<id>). Used by the tools, the story lifecycle, agent starts and startup.
// Every path is named explicitly: nothing here stages or commits "everything" (`add -A`, `.`).
import { Effect, Layer } from "effect"
import { makeAgentSetup } from "./git/agentSetup.js"
import { makeChanges } from "./git/changes.js"
import { makeInspect } from "./git/inspect.js"
import { makeAncestry } from "./git/ancestry.js"
import { makeMerge } from "./git/merge.js"
import { makeRemote } from "./git/remote.js"
import { makeRepo } from "./git/repo.js"
import { makeSquashTree } from "./git/squashTree.js"
import { type GitRunnerOptions, makeRunner } from "./git/run.js"
import { makeWorktrees } from "./git/worktrees.js"
import { makeWorktreeLock } from "./git/worktreeLock.js"

export type { CommitOptions, Committed } from "./git/changes.js"
export { fallbackIdentity } from "./git/changes.js"
export { GitError, type GitErrorReason } from "./git/GitError.js"
export type { Diff, DiffOptions, LogOptions } from "./git/inspect.js"
export {
  type AdvancedBase,
  BaseCheckoutDirty,
  BaseMoved,
  mergeFolder,
  type MergeWorkspace,
  mergeWorkspacePathOf,
  SquashResult,
} from "./git/merge.js"
export type { LogCommit, StatusEntry, WorktreeEntry } from "./git/parse.js"
export { featureBranchOf, worktreePathOf, worktreesFolder } from "./git/paths.js"
export type { GitEnv, GitRunnerOptions } from "./git/run.js"
export { type Adopted, trackingRef } from "./git/remote.js"
export type { CreatedWorktree, OrphanCleanup, RemovedWorktree, WorktreeInfo } from "./git/worktrees.js"

/** The Git service's operations, running git with `options` (environment, timeout, output bound). */
export const makeGit = (options: GitRunnerOptions = {}) =>
  Effect.sync(() => {
    const runner = makeRunner(options)
    const repo = makeRepo(runner)
    const changes = makeChanges(runner, repo)
    const ancestry = makeAncestry(runner, repo)
    // One lock for every command that adds or removes a worktree (item worktrees and merge workspaces),
    // which a fetch that met a half-written one waits on before it tries again.
    const worktreeLock = makeWorktreeLock()
    return {
      ...repo,
      ...makeWorktrees(runner, repo, worktreeLock),
      ...makeInspect(runner, repo),
      ...changes,
      ...makeMerge(runner, repo, changes, worktreeLock),
      ...makeSquashTree(runner, repo, changes),
      ...makeAgentSetup(runner),
      ...makeRemote(runner, repo, worktreeLock),
      isMerged: ancestry.isMerged,
      baseContains: ancestry.baseContains,
    } as const
  })

export class Git extends Effect.Service<Git>()("huskies/Git", {
  effect: makeGit(),
}) {
  /** Git with its own environment overrides (tests: an isolated HOME and config), timeout or output bound. */
  static readonly layerWith = (options: GitRunnerOptions): Layer.Layer<Git> =>
    Layer.effect(
      Git,
      Effect.map(makeGit(options), (service) => Git.make(service)),
    )
}
