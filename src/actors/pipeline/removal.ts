// src/actors/pipeline/removal.ts — what deleting an item removes beyond the Store: its worktree, its
// feature branch and its session logs, each reported as removed, not present or failed (with why).
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import { join } from "node:path"
import type { StoryId } from "../../domain/StoryId.js"
import { featureBranchOf, Git, type GitError, worktreePathOf } from "../../layers/Git.js"

export type RemovalStatus = "removed" | "not present" | "failed"

export interface Removal {
  readonly status: RemovalStatus
  readonly detail?: string
}

export const removed = (detail?: string): Removal =>
  detail === undefined ? { status: "removed" } : { status: "removed", detail }
export const notPresent = (detail?: string): Removal =>
  detail === undefined ? { status: "not present" } : { status: "not present", detail }
const failed = (detail: string): Removal => ({ status: "failed", detail })

const exists = (path: string) =>
  Effect.promise(() =>
    fs.lstat(path).then(
      () => true,
      () => false,
    ),
  )

const removeDir = (path: string) =>
  Effect.tryPromise({
    try: () => fs.rm(path, { recursive: true, force: true }),
    catch: (e) => (e instanceof Error ? e.message : String(e)),
  })

/** The worktree through git when the root is a repository; otherwise only a leftover directory can be there. */
const removeWorktree = (root: string, id: StoryId, repo: boolean) =>
  Effect.gen(function* () {
    if (!repo) {
      const path = worktreePathOf(root, id)
      if (!(yield* exists(path))) return notPresent()
      const rm = yield* Effect.either(removeDir(path))
      return rm._tag === "Left"
        ? failed(`not a git repository; deleting the directory: ${rm.left}`)
        : removed("deleted the directory (not a git repository)")
    }
    const git = yield* Git
    // The branch is removed on its own below, so each part gets its own outcome.
    const result = yield* Effect.either(git.removeWorktree(root, id, { deleteBranch: false }))
    if (result._tag === "Left") return failed(result.left.message)
    const { worktree, detail } = result.right
    if (worktree === "removed") return removed(detail)
    return worktree === "pruned" ? notPresent(detail) : notPresent()
  })

const removeBranch = (root: string, id: StoryId, repo: boolean) =>
  Effect.gen(function* () {
    if (!repo) return notPresent(`${root} is not a git repository`)
    const git = yield* Git
    return yield* git.deleteBranch(root, featureBranchOf(id)).pipe(
      Effect.map((outcome) => (outcome === "deleted" ? removed("git branch -D") : notPresent())),
      Effect.catchTag("GitError", (e: GitError) => Effect.succeed(failed(e.message))),
    )
  })

const removeLogs = (path: string) =>
  Effect.gen(function* () {
    if (!(yield* exists(path))) return notPresent()
    const rm = yield* Effect.either(removeDir(path))
    return rm._tag === "Left" ? failed(rm.left) : removed()
  })

export interface FilesRemoval {
  readonly worktree: Removal & { readonly path: string }
  readonly branch: Removal & { readonly name: string }
  readonly logs: Removal & { readonly path: string }
}

/** Removes the item's worktree, branch and logs; called once its agents are gone. */
export const removeItemFiles = (root: string, id: StoryId) =>
  Effect.gen(function* () {
    const git = yield* Git
    // A git that cannot even be asked (not installed) leaves only the directories to remove.
    const repo = yield* git.isRepo(root).pipe(Effect.orElseSucceed(() => false))
    const worktree = yield* removeWorktree(root, id, repo)
    const branch = yield* removeBranch(root, id, repo)
    const logsPath = join(root, ".huskies", "logs", id)
    const logs = yield* removeLogs(logsPath)
    return {
      worktree: { path: worktreePathOf(root, id), ...worktree },
      branch: { name: featureBranchOf(id), ...branch },
      logs: { path: logsPath, ...logs },
    } satisfies FilesRemoval
  })
