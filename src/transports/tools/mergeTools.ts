// src/transports/tools/mergeTools.ts — the merge queue over MCP: merge_agent_work (blocks until the attempt
// ends), get_merge_status, list_merge_queue, report_merge_failure, and accept_story (a person's QA approval).
// Merges and verdicts are Pipeline commands; the queue's state is read from the PipelineView.
import { Effect, Option, Schema } from "effect"
import { MergesOff, Pipeline } from "../../actors/Pipeline.js"
import { ActivityView, PipelineView } from "../../actors/PipelineView.js"
import type { MergeJob } from "../../domain/MergeJob.js"
import { projectConfig, withProgress } from "./gateTool.js"
import { requireId, stageView, StoryIdParam } from "./itemAccess.js"
import { defineTool } from "./Tool.js"

/** The merge queue's state, or MergesOff when this server runs none. */
const queue = Effect.flatMap(ActivityView, (view) =>
  Option.match(view.merges, { onNone: () => new MergesOff(), onSome: Effect.succeed }),
)

const JobView = Schema.Struct({
  story_id: Schema.String,
  state: Schema.Literal("queued", "running", "fixing"),
  /** 0 = next (or running); jobs waiting for a mergemaster's fix have none. */
  position: Schema.NullOr(Schema.Number),
  failed_attempts: Schema.Number,
  enqueued_at: Schema.Number,
  last_failure: Schema.NullOr(Schema.String),
  /** A queued job that waits alone, keeping its place (its branch could not be fetched): why, since when. */
  waiting: Schema.NullOr(Schema.Struct({ why: Schema.String, since: Schema.Number })),
})

const jobViews = (
  jobs: ReadonlyArray<MergeJob>,
  waiting: ReadonlyMap<string, { readonly why: string; readonly since: number }>,
) => {
  const inLine = jobs.filter((j) => j.state !== "fixing")
  return jobs.map((j) => ({
    story_id: j.storyId,
    state: j.state,
    position: j.state === "fixing" ? null : inLine.indexOf(j),
    failed_attempts: j.failures ?? 0,
    enqueued_at: j.enqueuedAt,
    last_failure: j.lastFailure ?? null,
    waiting: waiting.get(j.storyId) ?? null,
  }))
}

const CurrentView = Schema.NullOr(
  Schema.Struct({ story_id: Schema.String, step: Schema.String, since: Schema.Number }),
)

const currentView = (current: Option.Option<{ storyId: string; step: string; since: number }>) =>
  Option.match(current, {
    onNone: () => null,
    onSome: (c) => ({ story_id: c.storyId, step: c.step, since: c.since }),
  })

const PausedView = Schema.NullOr(Schema.Struct({ why: Schema.String, since: Schema.Number }))

const pausedView = (paused: Option.Option<{ why: string; since: number }>) =>
  Option.match(paused, { onNone: () => null, onSome: (p) => ({ why: p.why, since: p.since }) })

export const mergeAgentWork = defineTool({
  name: "merge_agent_work",
  description:
    "Merges an item in Merge: queues its merge (or joins the one already queued or running: calling again never queues a duplicate), then BLOCKS until that attempt ends, with progress notifications meanwhile (queue position, squash, gates, base update); never poll. The feature branch is squash-merged onto the base tip (in a merge workspace when the project has a test command, which then runs on the result), and the base moves only if the gates pass. Returns merged with the commit (the item is Done), or why it failed and what happens next. A mergemaster calls it after committing its fix on the feature branch.",
  input: { story_id: StoryIdParam },
  output: Schema.Struct({
    story_id: Schema.String,
    merged: Schema.Boolean,
    merge_commit: Schema.NullOr(Schema.String),
    why: Schema.NullOr(Schema.String),
    next: Schema.String,
    stage: Schema.Unknown,
  }),
  run: ({ story_id }, context) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      let step = 0
      const result = yield* withProgress(
        context,
        `${id}: merge`,
        (yield* Pipeline).merge(id, (message) => context.progress(++step, undefined, `${id}: ${message}`)),
      )
      const item =
        result._tag === "Merged" ? result.item : (result.item ?? (yield* (yield* PipelineView).get(id)))
      return {
        story_id: id,
        merged: result._tag === "Merged",
        merge_commit: result._tag === "Merged" ? result.commit : null,
        why: result._tag === "Failed" ? result.why : null,
        next: result._tag === "Merged" ? "nothing: it is Done" : result.next,
        stage: stageView(item.stage),
      }
    }),
})

export const getMergeStatus = defineTool({
  name: "get_merge_status",
  description:
    "Where an item's merge is: its stage, its merge job (queued with its position, and why it waits if its branch could not be fetched; running with the current step; or fixing: waiting for a mergemaster's fix), the merge attempts used so far (attempts: failed ones, 0 without a job) out of the limit ([merge] attempts, attempts_limit), and the last failure. Does not block; to wait for a merge, call merge_agent_work instead of polling this.",
  input: { story_id: StoryIdParam },
  output: Schema.Struct({
    story_id: Schema.String,
    stage: Schema.Unknown,
    job: Schema.NullOr(JobView),
    /** Failed merge attempts of the current job (0 without one): what counts towards the limit. */
    attempts: Schema.Number,
    /** [merge] attempts: how many an item gets before it is archived as MergeFailed. */
    attempts_limit: Schema.Number,
    current: CurrentView,
    paused: PausedView,
  }),
  run: ({ story_id }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const item = yield* (yield* PipelineView).get(id)
      const merges = yield* queue
      const job = jobViews(yield* merges.jobs, yield* merges.waiting).find((j) => j.story_id === id) ?? null
      const current = Option.filter(yield* merges.current, (c) => c.storyId === id)
      return {
        story_id: id,
        stage: stageView(item.stage),
        job,
        attempts: job?.failed_attempts ?? 0,
        attempts_limit: (yield* projectConfig).project.merge.attempts,
        current: currentView(current),
        paused: pausedView(yield* merges.paused),
      }
    }),
})

/**
 * The merge queue oldest first, what the running merge does now, and why merges wait if they do.
 * list_merge_queue returns it; the chat command `queue` writes it out.
 */
export const mergeQueueView = Effect.gen(function* () {
  const merges = yield* queue
  return {
    running: currentView(yield* merges.current),
    paused: pausedView(yield* merges.paused),
    jobs: jobViews(yield* merges.jobs, yield* merges.waiting),
  }
})

export type MergeQueueView = Effect.Effect.Success<typeof mergeQueueView>

export const listMergeQueue = defineTool({
  name: "list_merge_queue",
  description:
    "The project's merge queue, oldest first: each job's item, state (queued, running, fixing), position, failed attempts and why it waits alone, if it does (waiting: its branch could not be fetched from the nodes' remote; the jobs behind it go on); what the running merge is doing now; and why merges wait, if they do (paused: e.g. the base branch is checked out with uncommitted changes). Merges run one at a time. Does not block.",
  input: {},
  output: Schema.Struct({ running: CurrentView, paused: PausedView, jobs: Schema.Array(JobView) }),
  run: () => mergeQueueView,
})

export const reportMergeFailure = defineTool({
  name: "report_merge_failure",
  description:
    "Gives up on the merge of an item in Merge: it is archived as MergeFailed with the reason (and the last merge attempt's output), and the base branch is left as it is. A mergemaster calls it when it cannot fix the branch; a person can unblock the item later.",
  input: {
    story_id: StoryIdParam,
    reason: Schema.NonEmptyTrimmedString.annotations({
      description: "why it cannot be merged, and what a person should look at",
    }),
  },
  output: Schema.Struct({ story_id: Schema.String, stage: Schema.Unknown }),
  run: ({ story_id, reason }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const after = yield* (yield* Pipeline).reportMergeFailure(id, reason)
      return { story_id: id, stage: stageView(after.stage) }
    }),
})

export const acceptStory = defineTool({
  name: "accept_story",
  people: true,
  description:
    "A person's QA approval of an item in QA (items with qa: human wait for it): it moves to Merge, and the merge queue squash-merges it. Refused if its feature branch has no commits ahead of the base branch. Does not block; merge_agent_work waits for the merge.",
  input: {
    story_id: StoryIdParam,
    notes: Schema.optional(Schema.String.annotations({ description: "what was checked (logged)" })),
  },
  output: Schema.Struct({ story_id: Schema.String, stage: Schema.Unknown, next: Schema.String }),
  run: ({ story_id, notes }, context) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const after = yield* (yield* Pipeline).humanQa(id, "approve", context.caller ?? "mcp", notes)
      return { story_id: id, stage: stageView(after.stage), next: "the merge queue merges it" }
    }),
})

export const mergeTools = [
  mergeAgentWork,
  getMergeStatus,
  listMergeQueue,
  reportMergeFailure,
  acceptStory,
] as const
