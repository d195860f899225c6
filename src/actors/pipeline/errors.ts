// src/actors/pipeline/errors.ts — why a command on the pipeline was refused: each names what was
// asked and says what to do instead. Transports show the message as it is.
import { Schema } from "effect"

/** The move is not possible from where the item is (or needs something it lacks). */
export class CommandRefused extends Schema.TaggedError<CommandRefused>()("CommandRefused", {
  /** The command as a person would say it: `move 3_story_x to qa`, `approve 3_story_x`. */
  command: Schema.String,
  message: Schema.String,
}) {}

/** The feature branch cannot be reviewed or merged (no repository, no branch, no commits ahead). */
export class BranchNotReady extends Schema.TaggedError<BranchNotReady>()("BranchNotReady", {
  storyId: Schema.String,
  why: Schema.String,
}) {
  override get message(): string {
    return this.why
  }
}

/** An edit of an item's markdown that its own rules refuse (the edit function's error, or depends_on). */
export class EditRefused extends Schema.TaggedError<EditRefused>()("EditRefused", {
  storyId: Schema.String,
  /** Which rule refused it: the edit itself, or the dependency check. */
  rule: Schema.Literal("edit", "dependencies", "unparsable"),
  message: Schema.String,
}) {}

/** The merge queue does not run on this server. */
export class MergesOff extends Schema.TaggedError<MergesOff>()("MergesOff", {}) {
  override get message(): string {
    return "the merge queue is off on this server: items in Merge wait until a server with it runs"
  }
}
