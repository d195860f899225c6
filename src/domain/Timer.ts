// src/domain/Timer.ts — a timer on a work item, kept in the Store's `timers` map: start an item at a
// time (schedule_start), or retry an agent when a rate limit resets. Written by Store, fired by Scheduler.
import { Schema } from "effect"
import { type StageTag, stageTags } from "./Stage.js"
import { StoryId } from "./StoryId.js"

const Millis = Schema.Int.pipe(Schema.nonNegative())
const StageName = Schema.Literal(...(stageTags as [StageTag, ...Array<StageTag>]))

/** `start`: move the item out of Backlog at `at`; `retry`: run the item's agent again at `at`. */
export const TimerKind = Schema.Literal("start", "retry")
export type TimerKind = typeof TimerKind.Type

export const Timer = Schema.Struct({
  id: Schema.String,
  storyId: StoryId,
  kind: TimerKind,
  /**
   * The stage the item was in when the timer was set. A timer only ever acts on an item still in
   * that stage: moving the item deletes it (in the same write), and firing checks again.
   */
  stage: StageName,
  at: Millis,
  createdAt: Millis,
  /** Why the timer exists, for list_timers and the board ("rate limited (429)", "scheduled by ..."). */
  note: Schema.String,
})
export type Timer = typeof Timer.Type

/** One timer per item and kind: setting it again moves it. */
export const timerId = (storyId: string, kind: TimerKind): string => `${storyId}:${kind}`

/** The stage a timer of each kind may be set in. */
export const timerStages: Readonly<Record<TimerKind, ReadonlyArray<StageTag>>> = {
  start: ["Backlog"],
  retry: ["Coding", "Qa", "Merge"],
}
