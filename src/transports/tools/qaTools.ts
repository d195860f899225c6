// src/transports/tools/qaTools.ts — request_qa, approve_qa, reject_qa: the QA verdicts a QA agent (or a
// person) gives, and a coder's request to be reviewed. Each is one Pipeline command.
import { Effect, Schema } from "effect"
import { Pipeline } from "../../actors/Pipeline.js"
import { withProgress } from "./gateTool.js"
import { requireId, stageView, StoryIdParam } from "./itemAccess.js"
import { defineTool } from "./Tool.js"

const VerdictOutput = Schema.Struct({
  story_id: Schema.String,
  stage: Schema.Unknown,
  next: Schema.String,
})

export const approveQa = defineTool({
  name: "approve_qa",
  description:
    "Approves the QA of an item in QA: it moves to Merge, where the merge queue squash-merges its feature branch. Refused if the branch has no commits ahead of the base branch. Does not block. A QA agent calls this once, then exits.",
  input: {
    story_id: StoryIdParam,
    notes: Schema.optional(Schema.String.annotations({ description: "what was checked (logged)" })),
  },
  output: VerdictOutput,
  run: ({ story_id, notes }, context) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const after = yield* (yield* Pipeline).approveQa(id, "agent", notes, context.caller)
      return { story_id: id, stage: stageView(after.stage), next: "the merge queue merges it" }
    }),
})

export const rejectQa = defineTool({
  name: "reject_qa",
  description:
    "Rejects the QA of an item in QA: it goes back to Coding, and the notes become the next coder's instructions (they are put in its prompt). Say exactly what is missing or wrong. A rejection counts as a failed attempt: past the item's retry limit it is archived as Blocked instead. Does not block. A QA agent calls this once, then exits.",
  input: {
    story_id: StoryIdParam,
    notes: Schema.NonEmptyTrimmedString.annotations({
      description: "what is missing or wrong, for the next coder",
    }),
  },
  output: VerdictOutput,
  run: ({ story_id, notes }, context) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const { after, retryLimit } = yield* (yield* Pipeline).rejectQa(id, notes, context.caller)
      const next =
        after.stage._tag === "Coding"
          ? "a coder works on it again with these notes"
          : `it has failed ${after.attempts} times, more than its retry limit of ${retryLimit}: it is archived as Blocked`
      return { story_id: id, stage: stageView(after.stage), next }
    }),
})

export const requestQa = defineTool({
  name: "request_qa",
  description:
    "Asks for the QA of an item in Coding whose work is committed: runs the project's test gates in its worktree (BLOCKS until they finish and returns their result, with progress notifications meanwhile; never poll) and, if they pass and the feature branch has commits, moves it to QA. QA is done by the QA agent, or by a person when the item's qa is human. Refused while a coder runs on the item.",
  input: { story_id: StoryIdParam },
  output: Schema.Struct({
    story_id: Schema.String,
    moved: Schema.Boolean,
    stage: Schema.Unknown,
    tests: Schema.NullOr(
      Schema.Struct({
        passed: Schema.Boolean,
        exit_code: Schema.NullOr(Schema.Number),
        output_tail: Schema.String,
      }),
    ),
  }),
  run: ({ story_id }, context) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const { moved, item, tests } = yield* withProgress(
        context,
        `${id}: tests`,
        (yield* Pipeline).requestQa(id, context.caller),
      )
      return {
        story_id: id,
        moved,
        stage: stageView(item.stage),
        tests:
          tests === undefined
            ? null
            : { passed: tests.passed, exit_code: tests.exitCode, output_tail: tests.tail },
      }
    }),
})

export const qaTools = [requestQa, approveQa, rejectQa] as const
