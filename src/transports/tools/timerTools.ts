// src/transports/tools/timerTools.ts — schedule_start, cancel_timer, list_timers: timers kept in the
// Store, so they survive restarts, and removed with the item's move or deletion. The Scheduler fires them.
// Setting and cancelling are Pipeline commands; listing reads the PipelineView.
import { Clock, Effect, Schema } from "effect"
import { Pipeline } from "../../actors/Pipeline.js"
import { PipelineView } from "../../actors/PipelineView.js"
import type { Timer } from "../../domain/Timer.js"
import { requireId, StoryIdParam } from "./itemAccess.js"
import { defineTool, ToolFailure } from "./Tool.js"

const TimerView = Schema.Struct({
  timer_id: Schema.String,
  story_id: Schema.String,
  kind: Schema.String,
  stage: Schema.String,
  at: Schema.String,
  in_seconds: Schema.Number,
  note: Schema.String,
})

const view = (timer: Timer, now: number) => ({
  timer_id: timer.id,
  story_id: timer.storyId,
  kind: timer.kind,
  stage: timer.stage,
  at: new Date(timer.at).toISOString(),
  in_seconds: Math.max(0, Math.round((timer.at - now) / 1000)),
  note: timer.note,
})

export const scheduleStart = defineTool({
  name: "schedule_start",
  description:
    "Starts a Backlog item at a given time (at, an ISO 8601 time, or in_seconds from now): until then auto-assign leaves it alone, and when the time comes huskies starts it as start_agent would (its dependencies must be met). Setting it again moves the time. The timer is removed if the item leaves Backlog or is deleted first. Does not block.",
  input: {
    story_id: StoryIdParam,
    at: Schema.optional(
      Schema.String.annotations({ description: "ISO 8601 time, e.g. 2026-11-24T09:00:00Z" }),
    ),
    in_seconds: Schema.optional(
      Schema.Number.pipe(Schema.nonNegative()).annotations({ description: "seconds from now" }),
    ),
  },
  output: TimerView,
  run: ({ story_id, at, in_seconds }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const now = yield* Clock.currentTimeMillis
      if ((at === undefined) === (in_seconds === undefined)) {
        return yield* new ToolFailure({ message: "give exactly one of at (an ISO 8601 time) or in_seconds" })
      }
      const when = at === undefined ? now + (in_seconds ?? 0) * 1000 : Date.parse(at)
      if (Number.isNaN(when)) {
        return yield* new ToolFailure({
          message: `at: ${JSON.stringify(at)} is not a time: use ISO 8601, e.g. 2026-11-24T09:00:00Z`,
        })
      }
      const timer = yield* (yield* Pipeline).scheduleStart(id, when)
      return view(timer, now)
    }),
})

export const cancelTimer = defineTool({
  name: "cancel_timer",
  description:
    "Cancels an item's timers: the one named by timer_id (as list_timers shows it), or all of the item's timers. Returns the ids cancelled (none is not an error). Does not block.",
  input: {
    story_id: StoryIdParam,
    timer_id: Schema.optional(Schema.String.annotations({ description: "e.g. 12_story_x:start" })),
  },
  output: Schema.Struct({ cancelled: Schema.Array(Schema.String) }),
  run: ({ story_id, timer_id }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const cancelled = yield* (yield* Pipeline).cancelTimers(
        id,
        timer_id === undefined ? undefined : [timer_id],
      )
      return { cancelled: [...cancelled] }
    }),
})

export const listTimers = defineTool({
  name: "list_timers",
  description:
    "Lists pending timers, soonest first: scheduled starts and rate-limit retries (kind retry: the agent restarts when its rate limit resets). Optionally for one item. Does not block.",
  input: { story_id: Schema.optional(StoryIdParam) },
  output: Schema.Struct({ timers: Schema.Array(TimerView), unreadable: Schema.Array(Schema.String) }),
  run: ({ story_id }) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const { timers, errors } = yield* (yield* PipelineView).timers
      return {
        timers: timers
          .filter((t) => story_id === undefined || t.storyId === story_id)
          .map((t) => view(t, now)),
        unreadable: errors.map((e) => e.message),
      }
    }),
})

export const timerTools = [scheduleStart, cancelTimer, listTimers] as const
