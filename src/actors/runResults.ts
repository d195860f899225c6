// src/actors/runResults.ts — the last agent run of each item, kept by its own small actor (a child of serve's
// tree, started by the Scheduler): story actors tell it when a run ends (their work, not the Scheduler, ends
// runs), the Scheduler tells it an item was deleted, and `awaitRun` asks it. Only messages, no shared state.
import { Deferred, Effect, Option, Schema, type Scope } from "effect"
import * as Actor from "./Actor.js"
import type { AgentRunResult } from "./agentContract.js"
import { StoryId } from "../domain/StoryId.js"

const Result = Schema.declare((u: unknown): u is AgentRunResult => typeof u === "object" && u !== null)

export const RunEnded = Schema.TaggedStruct("RunEnded", { storyId: StoryId, result: Result })
export const Forget = Schema.TaggedStruct("Forget", { storyId: StoryId })
export const Last = Schema.TaggedStruct("Last", {
  storyId: StoryId,
  reply: Actor.Reply<Option.Option<AgentRunResult>>(),
})
export const RunResultsMsg = Schema.Union(RunEnded, Forget, Last)
export type RunResultsMsg = typeof RunResultsMsg.Type

export interface RunResults {
  readonly ended: (storyId: StoryId, result: AgentRunResult) => Effect.Effect<void>
  readonly forget: (storyId: StoryId) => Effect.Effect<void>
  /** The item's last run since this server started, None if none ended here. */
  readonly last: (storyId: StoryId) => Effect.Effect<Option.Option<AgentRunResult>>
}

/** The actor; restarted (by serve's tree) it starts empty: the runs since then are what it knows. */
export const runResultsActor = Actor.make<RunResultsMsg, ReadonlyMap<StoryId, AgentRunResult>>({
  mailboxSize: 256,
  init: Effect.succeed(new Map()),
  receive: (results, msg) => {
    switch (msg._tag) {
      case "RunEnded":
        return Effect.succeed(new Map(results).set(msg.storyId, msg.result))
      case "Forget": {
        if (!results.has(msg.storyId)) return Effect.succeed(results)
        const next = new Map(results)
        next.delete(msg.storyId)
        return Effect.succeed(next)
      }
      case "Last":
        return Effect.as(Deferred.succeed(msg.reply, Option.fromNullable(results.get(msg.storyId))), results)
    }
  },
})

/** The API over the actor's ref (the Scheduler starts it under serve's tree). */
export const runResultsOf = (ref: Actor.ActorRef<RunResultsMsg>): RunResults => {
  // ActorStopped only once the server's scope is closing (or in the moment of a restart): nothing is left
  // to record or answer then.
  const quiet =
    <A>(fallback: A) =>
    (e: Effect.Effect<A, Actor.ActorStopped>) =>
      Effect.catchTag(e, "ActorStopped", () => Effect.succeed(fallback))
  return {
    ended: (storyId, result) => quiet<void>(undefined)(ref.tell({ _tag: "RunEnded", storyId, result })),
    forget: (storyId) => quiet<void>(undefined)(ref.tell({ _tag: "Forget", storyId })),
    last: (storyId) =>
      quiet(Option.none<AgentRunResult>())(
        ref.ask<Option.Option<AgentRunResult>>((reply) => ({ _tag: "Last", storyId, reply })),
      ),
  }
}

/** Spawned in the caller's scope; ends with it (messages then are dropped: the server is stopping). */
export const makeRunResults: Effect.Effect<RunResults, never, Scope.Scope> = Effect.map(
  Actor.spawn(runResultsActor, { key: "run-results" }),
  runResultsOf,
)
