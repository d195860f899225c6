// src/domain/MergeJob.ts — one item's place in the project's merge queue, kept in the Store's `mergeJobs`
// map so it survives restarts. Written through Store, worked by the MergeQueue actor.
import { Schema } from "effect"
import { StoryId } from "./StoryId.js"

const Millis = Schema.Int.pipe(Schema.nonNegative())

export const MergeJob = Schema.Struct({
  storyId: StoryId,
  /** queued: waits its turn; running: being merged; fixing: a mergemaster works on what stopped it. */
  state: Schema.Literal("queued", "running", "fixing"),
  enqueuedAt: Millis,
  /** The server instance (its start time) running it: a running job of another boot is stale. */
  boot: Schema.optionalWith(Millis, { exact: true }),
  /** The squash commit, recorded before the base moves, so a crash after the move is recognised. */
  commit: Schema.optionalWith(Schema.String, { exact: true }),
  /** Merge attempts that failed (a conflict or the gates) and were handed to the mergemaster. */
  failures: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { exact: true }),
  /** Why the last attempt failed, as given to the mergemaster (bounded). */
  lastFailure: Schema.optionalWith(Schema.String, { exact: true }),
})
export type MergeJob = typeof MergeJob.Type
