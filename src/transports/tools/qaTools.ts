// src/transports/tools/qaTools.ts — request_qa, approve_qa, reject_qa: the QA verdicts a QA agent (or a
// person) gives, and a coder's request to be reviewed. Every move goes through Store.apply and transition.
import { Clock, Effect, Schema } from "effect"
import type { StoryId } from "../../domain/StoryId.js"
import { describeStage } from "../../domain/transition.js"
import { Agents } from "../../actors/Scheduler.js"
import { Project } from "../../layers/Project.js"
import { Store } from "../../layers/Store.js"
import { requireId, stageView, StoryIdParam } from "./itemAccess.js"
import { baseBranch, commitsAheadOf, retryLimitOf } from "./pipelineTools.js"
import { defineTool, ToolFailure } from "./Tool.js"
import { runProjectCommand } from "./gateTool.js"

const VerdictOutput = Schema.Struct({
  story_id: Schema.String,
  stage: Schema.Unknown,
  next: Schema.String,
})

const inQa = (id: StoryId, what: string) =>
  Effect.gen(function* () {
    const item = yield* (yield* Store).get(id)
    if (item.stage._tag !== "Qa") {
      return yield* new ToolFailure({
        message: `cannot ${what} ${id}: it is in ${describeStage(item.stage)}, and QA verdicts apply only to items in QA`,
      })
    }
    return item
  })

const branchReady = (id: StoryId) =>
  Effect.gen(function* () {
    const project = yield* Project
    const base = yield* baseBranch(project.root)
    return yield* commitsAheadOf(project.root, id, base).pipe(
      Effect.mapError((why) => new ToolFailure({ message: `cannot approve ${id}: ${why}` })),
    )
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
  run: ({ story_id, notes }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      yield* inQa(id, "approve")
      const facts = yield* branchReady(id)
      const store = yield* Store
      const after = yield* store.apply(id, {
        _tag: "QaApproved",
        ...facts,
        at: yield* Clock.currentTimeMillis,
      })
      if (notes !== undefined && notes.trim() !== "") yield* Effect.logInfo(`QA approved ${id}: ${notes}`)
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
  run: ({ story_id, notes }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      yield* inQa(id, "reject")
      const store = yield* Store
      const retryLimit = yield* retryLimitOf(id)
      const after = yield* store.apply(id, {
        _tag: "QaRejected",
        notes,
        retryLimit,
        at: yield* Clock.currentTimeMillis,
      })
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
      const store = yield* Store
      const item = yield* store.get(id)
      if (item.stage._tag !== "Coding") {
        return yield* new ToolFailure({
          message: `cannot request QA for ${id}: it is in ${describeStage(item.stage)}; QA is requested for items in Coding`,
        })
      }
      const agents = yield* Agents
      const running = yield* agents.handle(id)
      if (running._tag === "Some") {
        return yield* new ToolFailure({
          message: `cannot request QA for ${id} while the coder ${running.value.agent} runs on it: let it finish (wait_for_agent) or stop_agent first`,
        })
      }
      const facts = yield* branchReady(id).pipe(
        Effect.mapError(
          (e) => new ToolFailure({ message: e.message.replace("cannot approve", "cannot request QA for") }),
        ),
      )
      const tests = yield* runProjectCommand(id, "test", context).pipe(
        Effect.map((r) => ({ passed: r.passed, exit_code: r.exit_code, output_tail: r.output_tail })),
        Effect.catchIf(
          (e) => e.message.startsWith("no test command"),
          () => Effect.succeed(null),
        ),
      )
      if (tests !== null && !tests.passed)
        return { story_id: id, moved: false, stage: stageView(item.stage), tests }
      const after = yield* store.apply(id, {
        _tag: "GatesPassed",
        ...facts,
        // Anything but "none" moves to QA; who reviews (agent or person) is read from the item there.
        qa: "agent",
        at: yield* Clock.currentTimeMillis,
      })
      return { story_id: id, moved: true, stage: stageView(after.stage), tests }
    }),
})

export const qaTools = [requestQa, approveQa, rejectQa] as const
