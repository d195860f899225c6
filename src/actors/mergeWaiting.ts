// src/actors/mergeWaiting.ts — the merge queue's API (MergeQueueShape), and what a caller of
// merge_agent_work waits for: the queue's news of the attempt (progress, a failure handed to the
// mergemaster) and the Store's word on the item (Done, archived, moved, deleted). Used by MergeQueue.
import { Context, Effect, type Option, Queue, Schema, type Scope } from "effect"
import type { MergeJob } from "../domain/MergeJob.js"
import { describeReason, describeStage } from "../domain/transition.js"
import type { WorkItem } from "../domain/WorkItem.js"
import type { StoreEvent } from "../layers/Store.js"
import type { StoryId } from "../domain/StoryId.js"

/** What merge_agent_work answers: the attempt's end, and what happens next. */
export type MergeResult =
  | { readonly _tag: "Merged"; readonly commit: string; readonly item: WorkItem }
  | { readonly _tag: "Failed"; readonly why: string; readonly next: string; readonly item?: WorkItem }

/**
 * The jobs that wait alone: why, since when, and when they are due again (passed over until then). Set
 * when a job's merge waits, dropped when it runs on or its job goes.
 */
export const makeWaitingJobs = Effect.sync(() => {
  type Wait = { readonly why: string; readonly since: number; readonly dueAt: number }
  let waiting: ReadonlyMap<StoryId, Wait> = new Map()
  const update = (id: StoryId, wait: Wait | undefined) => {
    const next = new Map(waiting)
    if (wait === undefined) next.delete(id)
    else next.set(id, wait)
    waiting = next
  }
  return {
    /** Why and since when, by job. */
    view: Effect.sync(
      (): ReadonlyMap<StoryId, { readonly why: string; readonly since: number }> =>
        new Map([...waiting].map(([id, w]) => [id, { why: w.why, since: w.since }])),
    ),
    /** The jobs not yet due again at `now`. */
    notDue: (now: number) =>
      Effect.sync(() => new Set([...waiting].filter(([, w]) => w.dueAt > now).map(([id]) => id))),
    /** Records that `id` waits until `dueAt`; true when it already waited for the same reason (said before). */
    set: (id: StoryId, why: string, now: number, dueAt: number) =>
      Effect.sync(() => {
        const before = waiting.get(id)
        update(id, { why, since: before?.since ?? now, dueAt })
        return before?.why === why
      }),
    /** Due again at once (asked to merge it now); it still waits, for its reason, until it runs on. */
    dueNow: (id: StoryId) =>
      Effect.sync(() => {
        const before = waiting.get(id)
        if (before !== undefined) update(id, { ...before, dueAt: 0 })
      }),
    clear: (id: StoryId) =>
      Effect.sync(() => {
        if (waiting.has(id)) update(id, undefined)
      }),
  }
})

/** The job being merged now, for get_merge_status and the board. */
export interface CurrentMerge {
  readonly storyId: StoryId
  readonly step: string
  readonly since: number
}

export class MergeRefused extends Schema.TaggedError<MergeRefused>()("MergeRefused", {
  storyId: Schema.String,
  why: Schema.String,
}) {
  override get message(): string {
    return `cannot merge ${this.storyId}: ${this.why}`
  }
}

export interface MergeQueueShape {
  /** The jobs, oldest first. */
  readonly jobs: Effect.Effect<ReadonlyArray<MergeJob>>
  readonly current: Effect.Effect<Option.Option<CurrentMerge>>
  /** Why merges wait, when they do for a reason outside any item (a dirty checkout of the base). */
  readonly paused: Effect.Effect<Option.Option<{ readonly why: string; readonly since: number }>>
  /** Jobs that wait alone, keeping their place (their branch could not be fetched): why, and since when. */
  readonly waiting: Effect.Effect<ReadonlyMap<StoryId, { readonly why: string; readonly since: number }>>
  /** Queues the item's merge, or joins the queued or running one, and waits for that attempt to end. */
  readonly merge: (
    storyId: StoryId,
    onProgress: (message: string) => Effect.Effect<void>,
  ) => Effect.Effect<MergeResult, MergeRefused>
  /** A mergemaster (or a person) gives up: the item is archived as MergeFailed with `why`. */
  readonly reportFailure: (storyId: StoryId, why: string) => Effect.Effect<WorkItem, MergeRefused>
  /** The queue's news from now on (steps, pauses, failures handed to a mergemaster, jobs cleared). */
  readonly subscribe: Effect.Effect<Queue.Dequeue<MergeNews>, never, Scope.Scope>
}

export class MergeQueue extends Context.Tag("huskies/MergeQueue")<MergeQueue, MergeQueueShape>() {}

/** What the queue tells callers waiting on a merge. */
export type MergeNews =
  | { readonly _tag: "Progress"; readonly storyId: string; readonly message: string }
  | { readonly _tag: "AttemptFailed"; readonly storyId: string; readonly why: string; readonly next: string }
  /** The item's merge waits for something outside it (a dirty checkout of the base, the database). */
  | { readonly _tag: "Paused"; readonly storyId: string; readonly why: string }
  /** The item's job is gone from the Store: its merge landed, failed or was dropped. */
  | { readonly _tag: "Cleared"; readonly storyId: string }

export const waitForNews = (
  id: StoryId,
  updates: Queue.Dequeue<MergeNews>,
  onProgress: (m: string) => Effect.Effect<void>,
) =>
  Effect.gen(function* () {
    for (;;) {
      const update = yield* Queue.take(updates)
      if (update.storyId !== id) continue
      switch (update._tag) {
        case "Progress":
          yield* onProgress(update.message)
          break
        case "Paused":
          yield* onProgress(`waiting: ${update.why}`)
          break
        case "AttemptFailed":
          return { _tag: "Failed", why: update.why, next: update.next } satisfies MergeResult as MergeResult
        case "Cleared":
          // The Store's word on the item (waitForEnd) says how it ended.
          break
      }
    }
  })

export const waitForEnd = (id: StoryId, changes: Queue.Dequeue<StoreEvent>) =>
  Effect.gen(function* () {
    for (;;) {
      const event = yield* Queue.take(changes)
      if (event._tag === "ItemDeleted" && event.id === id)
        return {
          _tag: "Failed",
          why: `${id} was deleted`,
          next: "nothing: the item is gone",
        } as MergeResult
      if (event._tag !== "ItemChanged" || event.after.id !== id || event.after.stage._tag === "Merge")
        continue
      const stage = event.after.stage
      if (stage._tag === "Done")
        return { _tag: "Merged", commit: stage.mergeCommit, item: event.after } as MergeResult
      const why =
        stage._tag === "Archived" ? describeReason(stage.reason) : `it moved to ${describeStage(stage)}`
      const next =
        stage._tag === "Archived" && stage.reason._tag === "MergeFailed"
          ? "it is archived as MergeFailed; fix the cause and move it back (unblock) to try again"
          : "nothing: it left the merge queue"
      return { _tag: "Failed", why, next, item: event.after } as MergeResult
    }
  })
