// src/actors/StoryActor.ts — the actor of one active work item on this node: runs its work (storyWork's
// pipeline loop, or one mergemaster session) in its own Scope, keeps its phase, answers Status, and decides
// itself whether its work goes on when the item moves. Supervised by storyActors.ts; a defect in its work
// crashes it, and the supervisor restarts it (the work then re-reads the item from the Store).
import { Cause, Deferred, Effect, Exit, Fiber, Option, Ref, Schema, type Scope } from "effect"
import type { StageTag } from "../domain/Stage.js"
import type { Store } from "../layers/Store.js"
import * as Actor from "./Actor.js"
import type { AgentRunResult } from "./agentContract.js"
import { StoryPhase } from "./storyPhase.js"
import type { StoryId } from "../domain/StoryId.js"

export { StoryPhase } from "./storyPhase.js"
export { retryPrompt } from "./storyWork.js"

const StageTagSchema = Schema.Literal("Backlog", "Coding", "Qa", "Merge", "Done", "Archived")

/** The item moved: `cause` is the PipelineEvent that moved it, which says whose move it was. */
export const StageChanged = Schema.TaggedStruct("StageChanged", {
  stage: StageTagSchema,
  cause: Schema.String,
  /** Where it is now, in words (for the reason a stopped agent is given). */
  where: Schema.String,
})
/** A person stops the work: the running agent is stopped with `why`, and its result is the answer. */
export const Stop = Schema.TaggedStruct("Stop", {
  why: Schema.String,
  reply: Actor.Reply<Option.Option<AgentRunResult>>(),
})
/** What the work is doing now. */
export const Status = Schema.TaggedStruct("Status", { reply: Actor.Reply<StoryPhase>() })
/** From the actor's own work: its phase changed. */
export const PhaseChanged = Schema.TaggedStruct("PhaseChanged", { phase: StoryPhase })
/** From the actor's own work: it ended, by itself (None) or by a defect. */
export const WorkEnded = Schema.TaggedStruct("WorkEnded", {
  failure: Schema.OptionFromSelf(Schema.CauseFromSelf({ error: Schema.Unknown, defect: Schema.Unknown })),
})

export const StoryMsg = Schema.Union(StageChanged, Stop, Status, PhaseChanged, WorkEnded)
export type StoryMsg = typeof StoryMsg.Type

/**
 * Moves that come out of the item's own work: its gates, and its agents' own verdicts (approve_qa,
 * reject_qa). The work's own loop follows them. Every other move is a person's (move_story, block, hold)
 * and ends the work at once, except for the merge's ends below.
 */
const workMoves: ReadonlySet<string> = new Set([
  "AgentStarted",
  "GatesPassed",
  "GatesFailed",
  "QaApproved",
  "QaRejected",
])

/** Whether an actor in `phase` still has work on an item that moved to `stage` by `cause` (else it stops). */
export const keepsWorking = (phase: StoryPhase, stage: StageTag, cause: string): boolean => {
  // A merge lands or fails while the mergemaster's own call (merge_agent_work, report_merge_failure) waits
  // for it: that call is answered, and the session ends by itself after its last turn.
  if (cause === "Merged" || cause === "MergeFailed") return phase._tag === "Running"
  if (workMoves.has(cause)) return true
  const role =
    phase._tag === "Running" ? phase.handle.role : phase._tag === "WaitingForAgent" ? phase.role : undefined
  // A mergemaster works while the item is in Merge; once it is merged or failed it has no work left.
  if (role === "mergemaster") return stage === "Merge"
  const mismatch = phase._tag === "Running" && (phase.handle.role === "coder") !== (stage === "Coding")
  return (stage === "Coding" || stage === "Qa") && !mismatch
}

export type StoryWork = (
  setPhase: (phase: StoryPhase) => Effect.Effect<void>,
  restart: number,
) => Effect.Effect<void, never, Scope.Scope>

export interface StoryActorOptions {
  readonly storyId: StoryId
  /**
   * The work, re-run from its start by a restart (`restart` counts them: 0 the first time); it reports
   * what it does through `setPhase`.
   */
  readonly work: StoryWork
  /** Where the result of an agent this actor stops goes (kept for wait_for_agent after the actor ends). */
  readonly onRunEnded: (result: AgentRunResult) => Effect.Effect<void>
  readonly store: Store["Type"]
}

interface State {
  readonly phase: StoryPhase
  readonly work: Fiber.RuntimeFiber<void>
}

/** How long a restarted actor waits before its work runs again: 0.25 s, doubling, at most 8 s. */
const restartDelayMillis = (restart: number) => Math.min(8000, 250 * 2 ** (restart - 1))

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

/** The actor's spec; its restart count lives with it, so each incarnation knows whether it is a restart. */
export const storyActor = (
  options: StoryActorOptions,
): Effect.Effect<Actor.ActorSpec<StoryMsg, State, unknown, Scope.Scope>> =>
  Effect.map(Ref.make(0), (incarnations) => {
    const { storyId: id, store } = options

    /** An agent's run that ended because its item moved, not because a person stopped it: no stop mark. */
    const clearStopMark = Effect.gen(function* () {
      const item = yield* Effect.option(store.get(id))
      const exec = Option.getOrUndefined(item)?.execution[store.nodeId]
      if (exec?._tag === "Completed" && exec.outcome === "stopped")
        yield* (
          store
            .apply(id, { _tag: "ExecutionCleared", node: store.nodeId, at: yield* now })
            // The item moved or went meanwhile: whoever did that decides what it shows now.
            .pipe(Effect.catchAll((e) => Effect.logInfo(`${id}: stop mark kept: ${e.message}`)))
        )
    })

    // A crashed incarnation's agent was stopped when its Scope closed; that was no person's stop.
    const afterCrash = (restart: number) =>
      Effect.logWarning(`${id}: its story actor restarts (restart ${restart})`).pipe(
        Effect.zipRight(Effect.sleep(restartDelayMillis(restart))),
        Effect.zipRight(clearStopMark),
      )

    const endWork = (state: State) => Fiber.interrupt(state.work).pipe(Effect.asVoid)

    const onStageChanged = (state: State, msg: typeof StageChanged.Type) =>
      Effect.gen(function* () {
        if (keepsWorking(state.phase, msg.stage, msg.cause)) return state
        const why = `${id} moved to ${msg.where}: its work here is over`
        yield* Effect.logInfo(`${why}; stopping it`)
        // The agent first, so its result (kept for wait_for_agent) says why it ended.
        if (state.phase._tag === "Running") yield* options.onRunEnded(yield* state.phase.handle.stop(why))
        yield* endWork(state)
        yield* clearStopMark
        return Actor.stopped
      })

    const onStop = (state: State, msg: typeof Stop.Type) =>
      Effect.gen(function* () {
        const result =
          state.phase._tag === "Running"
            ? Option.some(yield* state.phase.handle.stop(msg.why))
            : Option.none<AgentRunResult>()
        if (Option.isSome(result)) yield* options.onRunEnded(result.value)
        yield* endWork(state)
        yield* Deferred.succeed(msg.reply, result)
        return Actor.stopped
      })

    return Actor.make<StoryMsg, State, unknown, Scope.Scope>({
      mailboxSize: 16,
      init: (self) =>
        Effect.gen(function* () {
          const restart = yield* Ref.getAndUpdate(incarnations, (n) => n + 1)
          // Told only while the actor runs; once it ends, nobody asks for its phase.
          const tellSelf = (msg: StoryMsg) =>
            self.tell(msg).pipe(Effect.catchTag("ActorStopped", () => Effect.void))
          const work = yield* (restart === 0 ? Effect.void : afterCrash(restart)).pipe(
            Effect.zipRight(options.work((phase) => tellSelf({ _tag: "PhaseChanged", phase }), restart)),
            Effect.exit,
            Effect.flatMap((exit) =>
              tellSelf({
                _tag: "WorkEnded",
                failure: Exit.isSuccess(exit) ? Option.none() : Option.some(exit.cause),
              }),
            ),
            Effect.forkScoped,
          )
          return { phase: { _tag: "Starting" } as const, work }
        }).pipe(Effect.annotateLogs({ storyId: id })),
      receive: (state, msg) => {
        switch (msg._tag) {
          case "PhaseChanged":
            return Effect.succeed({ ...state, phase: msg.phase })
          case "Status":
            return Effect.as(Deferred.succeed(msg.reply, state.phase), state)
          case "StageChanged":
            return onStageChanged(state, msg)
          case "Stop":
            return onStop(state, msg)
          case "WorkEnded":
            return Option.match(msg.failure, {
              onNone: () => Effect.succeed(Actor.stopped),
              // A bug in the work: the actor crashes, and its supervisor restarts it from the Store.
              onSome: (cause) =>
                Effect.logError(`${id}: its story actor crashed`, cause).pipe(
                  Effect.zipRight(Effect.failCause(cause)),
                ),
            })
        }
      },
    })
  })

/** The first line of what crashed an actor, for a reason a person reads. */
export const crashSummary = (cause: Cause.Cause<unknown>): string => {
  const squashed = Cause.squash(cause)
  const text = squashed instanceof Error ? squashed.message : String(squashed)
  return text.split("\n")[0] ?? "an unknown defect"
}
