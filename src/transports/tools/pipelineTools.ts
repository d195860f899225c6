// src/transports/tools/pipelineTools.ts — move_story, block_story, unblock_story: a person's (or a chat
// LLM's) hand on the pipeline. Each decodes its input, calls the Pipeline command and encodes the move.
import { Effect, Schema } from "effect"
import { type Moved, Pipeline } from "../../actors/Pipeline.js"
import { recordsReason } from "../../domain/moveRoutes.js"
import { requireId, stageNameIn, stageNameParam, stageView, StoryIdParam } from "./itemAccess.js"
import { defineTool } from "./Tool.js"

const MoveOutput = Schema.Struct({
  story_id: Schema.String,
  from: Schema.String,
  stage: Schema.Unknown,
  event: Schema.String,
  reason_recorded: Schema.Boolean,
})

const moveResult = ({ before, after, event }: Moved) => ({
  story_id: after.id,
  from: before._tag,
  stage: stageView(after.stage),
  event: event._tag,
  reason_recorded: recordsReason(event._tag),
})

export const moveStory = defineTool({
  name: "move_story",
  description: [
    "Moves a work item to another stage and returns its new stage. Does not block.",
    "to: backlog (reset from coding/qa/merge, or revive an archived blocked/held/failed/abandoned item);",
    "coding (start from backlog, or reject from qa: reason is then required and becomes the coder's notes);",
    "qa (from coding, for human QA) and merge (from qa) need feature/story-<id> to have commits ahead of the base branch;",
    "archived (abandon; a reason of the form 'superseded by <id>' records the replacement; from done it archives as completed).",
    "done is refused: an item is Done when its merge lands on the base branch.",
    "Stage names are accepted in any case. An illegal move is refused with the moves that are legal from the item's stage.",
    "reason is kept on the item only for qa rejections and 'superseded by' (reason_recorded says whether it was); the item's history (status) keeps every move with its reason and who asked.",
  ].join(" "),
  input: {
    story_id: StoryIdParam,
    to: stageNameParam("the stage to move to"),
    reason: Schema.optional(
      Schema.String.annotations({
        description: "why; required when rejecting from qa to coding; 'superseded by <id>' when archiving",
      }),
    ),
  },
  output: MoveOutput,
  run: ({ story_id, to, reason }, context) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      return moveResult(yield* (yield* Pipeline).move(id, stageNameIn(to), reason, context.caller ?? "mcp"))
    }),
})

export const blockStory = defineTool({
  name: "block_story",
  description:
    "Blocks a work item: moves it to Archived (blocked) with the reason, stopping it from being worked on until unblock_story. Works from backlog, coding, qa and merge. Does not block the caller; returns the new stage.",
  input: {
    story_id: StoryIdParam,
    reason: Schema.NonEmptyTrimmedString.annotations({
      description: "why it is blocked; shown on the board",
    }),
  },
  output: MoveOutput,
  run: ({ story_id, reason }, context) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      return moveResult(yield* (yield* Pipeline).block(id, reason, context.caller ?? "mcp"))
    }),
})

export const unblockStory = defineTool({
  name: "unblock_story",
  description:
    "Unblocks a work item: moves it from Archived (blocked, merge failed, on review hold or abandoned) back to Backlog with its attempts reset. Superseded and completed items cannot be unblocked. Does not block; returns the new stage.",
  input: { story_id: StoryIdParam },
  output: MoveOutput,
  run: ({ story_id }, context) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      return moveResult(yield* (yield* Pipeline).unblock(id, context.caller ?? "mcp"))
    }),
})

export const pipelineTools = [moveStory, blockStory, unblockStory] as const
