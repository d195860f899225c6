// src/layers/git/mergeTypes.ts — what the merge operations return and refuse: the merge workspace, the
// outcome of a squash, an advanced base, and the two reasons a base is not moved. Used by git/merge.ts.
import { Data, Schema } from "effect"
import * as path from "node:path"

/** The folder, relative to the project root, that holds one merge workspace per merging item. */
export const mergeFolder = path.join(".huskies", "merge")

/** Where the merge workspace for item `id` lives. */
export const mergeWorkspacePathOf = (root: string, id: string): string =>
  path.join(path.resolve(root), mergeFolder, id)

export interface MergeWorkspace {
  readonly path: string
  /** The commit of the base branch the workspace starts from: the `expectedOldTip` of `advanceBase`. */
  readonly baseTip: string
}

/** How a squash went. The workspace is clean again after NothingToMerge and Conflicts. */
export type SquashResult = Data.TaggedEnum<{
  /** One commit (parent: the workspace's HEAD) holding the feature's changes. */
  Merged: { readonly commit: string }
  /** The squash changes nothing: the feature's changes are already on the base. No commit was made. */
  NothingToMerge: { readonly why: string }
  /** The squash stopped on conflicts in `files`; `output` is git's (bounded) account of them. */
  Conflicts: { readonly files: ReadonlyArray<string>; readonly output: string }
}>
export const SquashResult = Data.taggedEnum<SquashResult>()

export interface AdvancedBase {
  readonly base: string
  readonly from: string
  readonly to: string
  /** Checkouts of the base branch (the project root among them) brought to `to`; empty when none. */
  readonly updatedCheckouts: ReadonlyArray<string>
}

/** The base branch is not at the tip the merge started from: someone else moved it. Nothing was changed. */
export class BaseMoved extends Schema.TaggedError<BaseMoved>()("BaseMoved", {
  base: Schema.String,
  expected: Schema.String,
  /** Where the base is now ("" when it no longer exists). */
  actual: Schema.String,
}) {
  override get message(): string {
    return `${this.base} moved from ${this.expected.slice(0, 12)} to ${this.actual === "" ? "nothing (deleted)" : this.actual.slice(0, 12)} while merging: merge again from the new tip`
  }
}

/**
 * The base branch is checked out at `path` with uncommitted changes to tracked files. Moving the branch
 * under it would make its index and files describe the old tip, so the next commit there would revert
 * the merge: nothing was changed.
 */
export class BaseCheckoutDirty extends Schema.TaggedError<BaseCheckoutDirty>()("BaseCheckoutDirty", {
  base: Schema.String,
  path: Schema.String,
  /** The changed files (a bounded list), or git's complaint when they changed during the update. */
  files: Schema.Array(Schema.String),
  detail: Schema.String,
}) {
  override get message(): string {
    return `${this.detail}: commit or stash the changes in ${this.path} (or check out another branch there), then merge again`
  }
}
