// src/actors/mergeActor.ts — the merge actor's mailbox and loop: one fiber takes the queue's messages
// (queue a job, drop one, look again after a pause or a job's wait, the running merge ended) one at a
// time, so job writes never race each other, and runs one merge at a time in a child fiber that tells it
// when it ends; and the loop that tells it of items entering and leaving Merge. Built by MergeQueue, which
// gives it the job operations and the merge itself and starts both under serve's tree.
import { Deferred, Effect, Option, Queue, Schema, type Scope } from "effect"
import type { MergeJob } from "../domain/MergeJob.js"
import * as Actor from "./Actor.js"
import { StoryId } from "../domain/StoryId.js"
import type { StoreEvent } from "../layers/storeTypes.js"

/**
 * How a merge run ended: over (landed, failed, or waiting for a fix), `paused` (merges wait: a cause that
 * is no item's, such as a config file that cannot be read) or `waiting` (this item waits: its branch
 * could not be fetched; the jobs behind it go on).
 */
export const RunOutcome = Schema.Literal("over", "paused", "waiting")
export type RunOutcome = typeof RunOutcome.Type

/** The merge actor's mailbox: jobs to queue or drop, a look again after a pause or a wait, its merge's end. */
export const MergeMessage = Schema.Union(
  Schema.TaggedStruct("Enqueue", { storyId: StoryId, now: Schema.Boolean, reply: Actor.Reply<void>() }),
  Schema.TaggedStruct("Drop", { storyId: StoryId }),
  Schema.TaggedStruct("Wake", {}),
  Schema.TaggedStruct("Ended", { storyId: StoryId, outcome: RunOutcome }),
)
export type MergeMessage = typeof MergeMessage.Type

/** The item being merged now, if any. */
interface MergeActorState {
  readonly running: string | undefined
}

const idle: MergeActorState = { running: undefined }

export interface MergeActorContext {
  /** The actor's own ref (for its merge fiber and timers to message it). */
  readonly self: Effect.Effect<Actor.ActorRef<MergeMessage>>
  readonly enqueue: (storyId: StoryId, options: { readonly now?: boolean }) => Effect.Effect<void>
  readonly dropIdleJob: (storyId: StoryId) => Effect.Effect<void>
  /** The job whose merge is next, if any (a job waiting alone is passed over until it is due again). */
  readonly nextJob: Effect.Effect<Option.Option<MergeJob>>
  /** Runs the job's merge to its end. */
  readonly runJob: (job: MergeJob) => Effect.Effect<RunOutcome>
  readonly pauseRetryMillis: number
}

/** The merge actor; it looks at the queue when it starts, and again on every start after a crash. */
export const mergeActor = (ctx: MergeActorContext) => {
  const { enqueue, dropIdleJob, nextJob, runJob, pauseRetryMillis } = ctx
  // Messages to itself fail only once it has stopped (the server is stopping): nobody is left to tell.
  const tellSelf = (msg: MergeMessage) =>
    Effect.flatMap(ctx.self, (self) => self.tell(msg)).pipe(
      Effect.catchTag("ActorStopped", () => Effect.void),
    )

  /** Runs the next job's merge in a fiber of the actor, which hears of its end (Ended). */
  const startNext = Effect.gen(function* () {
    const next = yield* nextJob
    if (Option.isNone(next)) return idle
    const storyId = next.value.storyId
    yield* runJob(next.value).pipe(
      Effect.flatMap((outcome) => tellSelf({ _tag: "Ended", storyId, outcome })),
      Effect.forkScoped,
    )
    return { running: storyId } satisfies MergeActorState
  })

  const receive = (
    state: MergeActorState,
    msg: MergeMessage,
  ): Effect.Effect<MergeActorState, never, Scope.Scope> =>
    Effect.gen(function* () {
      switch (msg._tag) {
        case "Enqueue":
          yield* enqueue(msg.storyId, { now: msg.now })
          yield* Deferred.succeed(msg.reply, undefined)
          break
        case "Drop":
          // The merge running now sees the move itself, before the base moves.
          if (state.running !== msg.storyId) yield* dropIdleJob(msg.storyId)
          return state
        case "Ended":
          if (msg.outcome === "over") break
          // Not the item's fault: the queue looks again later (or when asked to merge). A pause holds every
          // merge until then; a job that waits alone is passed over until then, and the next one starts now.
          yield* tellSelf({ _tag: "Wake" }).pipe(Effect.delay(pauseRetryMillis), Effect.forkScoped)
          if (msg.outcome === "paused") return idle
          break
        case "Wake":
          break
      }
      const ready = msg._tag === "Ended" ? idle : state
      return ready.running === undefined ? yield* startNext : ready
    }).pipe(
      // The queue outlives any one message: a defect here is logged, and the state stays as it was.
      Effect.catchAllCause((cause) =>
        Effect.as(Effect.logError(`the merge queue could not handle ${msg._tag}`, cause), state),
      ),
    )

  return Actor.make<MergeMessage, MergeActorState, never, Scope.Scope>({
    // Its jobs are in the Store, so a restarted actor finds its queue where the last one left it.
    init: (self) =>
      self.tell({ _tag: "Wake" }).pipe(
        // Its own mailbox, open and empty while it starts: an ActorStopped here would be a bug.
        Effect.orDie,
        Effect.as(idle),
      ),
    receive,
    mailboxSize: 1024,
  })
}

/** Queues the merge of each item that enters Merge; drops the job of one a person moved out of it. */
export const followMoves = (
  changes: Queue.Dequeue<StoreEvent>,
  enqueue: (storyId: StoryId) => Effect.Effect<void>,
  self: Actor.ActorRef<MergeMessage>,
) =>
  Effect.forever(
    Effect.flatMap(Queue.take(changes), (event) => {
      if (event._tag !== "ItemChanged") return Effect.void
      const [was, is] = [event.before.stage._tag, event.after.stage._tag]
      const storyId = event.after.id
      if (is === "Merge" && was !== "Merge") return enqueue(storyId)
      // Moved out by a person: a job waiting its turn or a fix has nothing left to do.
      if (was === "Merge" && is !== "Merge")
        return self.tell({ _tag: "Drop", storyId }).pipe(Effect.catchTag("ActorStopped", () => Effect.void))
      return Effect.void
    }),
  )
