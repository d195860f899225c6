// src/domain/StoryDocError.ts — the errors raised while reading or editing a work item's markdown
// (StoryDoc, frontMatter, storyBody, storyEdits). MCP tools and the Store show `message` to the author.
import { Schema } from "effect"

/**
 * A work item's markdown (or an edit to it) is not valid. `field` names what is wrong (`front matter key
 * depends_on`, `section Acceptance Criteria`, `description`); `line` is the 1-based line of the document
 * or of the text being set; `message` says what is wrong and how to fix it.
 */
export class StoryDocError extends Schema.TaggedError<StoryDocError>()("StoryDocError", {
  field: Schema.String,
  line: Schema.optional(Schema.Int),
  message: Schema.String,
}) {}

export const storyDocError = (field: string, detail: string, line?: number): StoryDocError =>
  line === undefined
    ? new StoryDocError({ field, message: `${field}: ${detail}` })
    : new StoryDocError({ field, line, message: `${field} (line ${line}): ${detail}` })

/** An edit named a criterion (by 0-based index or exact text) that is not there, or is there twice. */
export class CriterionNotFound extends Schema.TaggedError<CriterionNotFound>()("CriterionNotFound", {
  criterion: Schema.Union(Schema.Number, Schema.String),
  message: Schema.String,
}) {}
