// src/domain/MergeJob.ts — one item's place in the project's merge queue, kept in the Store's `mergeJobs`
// map so it survives restarts. Written through Store, worked by the MergeQueue actor.
import { Schema } from "effect"
import { StoryId } from "./StoryId.js"

const Millis = Schema.Int.pipe(Schema.nonNegative())

export const MergeJob = Schema.Struct({
  storyId: StoryId,
  state: Schema.Literal("queued", "running"),
  enqueuedAt: Millis,
  /** The server instance (its start time) running it: a running job of another boot is stale. */
  boot: Schema.optionalWith(Millis, { exact: true }),
  /** The squash commit, recorded before the base moves, so a crash after the move is recognised. */
  commit: Schema.optionalWith(Schema.String, { exact: true }),
})
export type MergeJob = typeof MergeJob.Type
