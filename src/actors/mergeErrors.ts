// src/actors/mergeErrors.ts — why a merge did not land, as tagged errors: the preflight's, the attempt's and
// the queue's own, beside the Git service's BaseMoved, BaseCheckoutDirty and GitError. Raised by mergeAttempt,
// matched by tag in MergeQueue (a mergemaster can fix a conflict or failing gates, nothing else).
import { Schema } from "effect"
import type { GateSpawnError } from "../layers/Gates.js"
import type { BaseCheckoutDirty, BaseMoved, GitError } from "../layers/Git.js"

/** The feature branch cannot be compared with the base (it or the base is missing, git failed). */
export class BranchUnreadable extends Schema.TaggedError<BranchUnreadable>()("BranchUnreadable", {
  featureBranch: Schema.String,
  base: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `cannot count the commits of ${this.featureBranch} ahead of ${this.base}: ${this.detail}. Check that the branch exists (git branch --list ${this.featureBranch}); nothing was merged`
  }
}

/** An empty branch is a problem upstream (the work was lost or never committed): no merge can fix it. */
export class NoCommitsAhead extends Schema.TaggedError<NoCommitsAhead>()("NoCommitsAhead", {
  featureBranch: Schema.String,
  base: Schema.String,
}) {
  override get message(): string {
    return `${this.featureBranch} has no commits ahead of ${this.base}, so there is nothing to merge: check where the work went (git log ${this.base}..${this.featureBranch}, and the agent's log). No merge was attempted`
  }
}

/** The squash changes nothing: the branch's changes are on the base already. */
export class SquashEmpty extends Schema.TaggedError<SquashEmpty>()("SquashEmpty", {
  featureBranch: Schema.String,
  base: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `the squash of ${this.featureBranch} onto ${this.base} changes nothing (${this.detail}): its changes are already on ${this.base}. Check whether the work landed another way; nothing was merged`
  }
}

/** The squash stopped on conflicts: a mergemaster can resolve them on the feature branch. */
export class MergeConflict extends Schema.TaggedError<MergeConflict>()("MergeConflict", {
  featureBranch: Schema.String,
  base: Schema.String,
  files: Schema.Array(Schema.String),
  output: Schema.String,
}) {
  override get message(): string {
    return `${this.featureBranch} conflicts with ${this.base} in ${this.files.join(", ")}.\n\n${this.output}`
  }
}

/** The gates failed on the merged result: a mergemaster can fix the feature branch. */
export class GatesFailed extends Schema.TaggedError<GatesFailed>()("GatesFailed", {
  command: Schema.String,
  base: Schema.String,
  /** "timed out after 600 s", "exited with code 1". */
  ended: Schema.String,
  tail: Schema.String,
}) {
  override get message(): string {
    return `the gates failed on the merged result (\`${this.command}\` ${this.ended}); ${this.base} was not changed. The end of the output:\n\n${this.tail}`
  }
}

/** The item was moved or deleted while it merged: the base was left alone. */
export class LeftQueue extends Schema.TaggedError<LeftQueue>()("LeftQueue", {
  storyId: Schema.String,
  base: Schema.String,
}) {
  override get message(): string {
    return `${this.storyId} left the merge queue while it was merging; ${this.base} was not changed`
  }
}

/**
 * The squash commit could not be written on the job before the base moves, so a crash after the move could
 * not be told from a merge that never happened: the base is not moved, and the merge runs again later.
 */
export class CommitNotRecorded extends Schema.TaggedError<CommitNotRecorded>()("CommitNotRecorded", {
  storyId: Schema.String,
  base: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `the squash commit of ${this.storyId} could not be recorded before moving ${this.base} (${this.detail}), so ${this.base} was not changed: the merge runs again when the database takes writes`
  }
}

/** With `[merge] update_checkout = false` the base is never moved under a checkout of it. */
export class BaseCheckedOut extends Schema.TaggedError<BaseCheckedOut>()("BaseCheckedOut", {
  base: Schema.String,
  path: Schema.String,
}) {
  override get message(): string {
    return `${this.base} is checked out in ${this.path} and [merge] update_checkout = false, so it is not moved under it: check out another branch there, or set update_checkout = true`
  }
}

/** The database refused to mark the job running, so the merge was not started (it waits its turn). */
export class JobNotMarked extends Schema.TaggedError<JobNotMarked>()("JobNotMarked", {
  storyId: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `the merge of ${this.storyId} was not started: its job could not be marked running (${this.detail})`
  }
}

export type PreflightError = BranchUnreadable | NoCommitsAhead

/** Why one attempt on the base tip did not land. */
export type AttemptError =
  | SquashEmpty
  | MergeConflict
  | GatesFailed
  | LeftQueue
  | CommitNotRecorded
  | BaseMoved
  | BaseCheckoutDirty
  | GitError
  | GateSpawnError

/** A conflict or failing gates: the mergemaster's to fix, on the feature branch. */
export const isFixable = (e: AttemptError): e is MergeConflict | GatesFailed =>
  e._tag === "MergeConflict" || e._tag === "GatesFailed"

/** Not the item's fault: its merge waits, and the queue looks again later. */
export type WaitReason = BaseCheckoutDirty | BaseCheckedOut | CommitNotRecorded | JobNotMarked | GitError
