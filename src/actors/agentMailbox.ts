// src/actors/agentMailbox.ts — the agent actor's mailbox: Stop, Input, Status and Output, served one at a
// time by an actor that lives as long as its run's owner; the AgentHandle its callers get is a client of
// it. AgentActor spawns it over the run it supervises.
import { Deferred, Effect, Schema, type Scope } from "effect"
import * as Actor from "./Actor.js"
import type { AgentHandle, AgentRunResult, AgentStatus } from "./agentContract.js"
import type { AgentRole } from "../domain/Stage.js"
import type { StoryId } from "../domain/StoryId.js"

/** Stop the agent with `reason`; the answer is its result once its process tree is gone. */
export const Stop = Schema.TaggedStruct("Stop", {
  reason: Schema.String,
  reply: Actor.Reply<AgentRunResult>(),
})
/** Type `text` into the agent's terminal. */
export const Input = Schema.TaggedStruct("Input", { text: Schema.String, reply: Actor.Reply<void>() })
export const Status = Schema.TaggedStruct("Status", { reply: Actor.Reply<AgentStatus>() })
/** The last `lines` readable lines of its output. */
export const Output = Schema.TaggedStruct("Output", {
  lines: Schema.Number,
  reply: Actor.Reply<ReadonlyArray<string>>(),
})
export const AgentMsg = Schema.Union(Stop, Input, Status, Output)
export type AgentMsg = typeof AgentMsg.Type

/** The last `lines` of `all` (none for zero or less). */
export const lastLines = (all: ReadonlyArray<string>, lines: number): ReadonlyArray<string> => {
  const count = Math.floor(lines)
  return count <= 0 ? [] : all.slice(-count)
}

/** What the supervised run offers its actor. */
export interface AgentRun {
  readonly storyId: StoryId
  readonly agent: string
  readonly role: AgentRole
  readonly status: Effect.Effect<AgentStatus>
  readonly output: (lines: number) => Effect.Effect<ReadonlyArray<string>>
  readonly write: (text: string) => Effect.Effect<void>
  /** Asks for the kill; the run's own supervisor carries it out (at most once). */
  readonly requestStop: (reason: string) => Effect.Effect<void>
  readonly result: Effect.Effect<AgentRunResult>
}

export const agentActor = (run: AgentRun) =>
  Actor.make<AgentMsg, null, never, Scope.Scope>({
    mailboxSize: 16,
    init: Effect.succeed(null),
    receive: (state, msg) => {
      switch (msg._tag) {
        case "Status":
          return Effect.as(
            Effect.flatMap(run.status, (s) => Deferred.succeed(msg.reply, s)),
            state,
          )
        case "Output":
          return Effect.as(
            Effect.flatMap(run.output(msg.lines), (l) => Deferred.succeed(msg.reply, l)),
            state,
          )
        case "Input":
          return Effect.as(
            Effect.zipRight(run.write(msg.text), Deferred.succeed(msg.reply, undefined)),
            state,
          )
        case "Stop":
          // Answered when the tree is gone, which takes up to a grace period: meanwhile the mailbox serves on.
          return run
            .requestStop(msg.reason)
            .pipe(
              Effect.zipRight(
                Effect.forkScoped(
                  Effect.flatMap(run.result, (result) => Deferred.succeed(msg.reply, result)),
                ),
              ),
              Effect.as(state),
            )
      }
    },
  })

/**
 * The handle callers hold. Once the run's owner has gone (its Scope closed), the actor is gone with it; a
 * caller still holding the handle then reads the run's last state directly, which no longer changes.
 */
export const handleOf = (ref: Actor.ActorRef<AgentMsg>, run: AgentRun): AgentHandle => ({
  storyId: run.storyId,
  agent: run.agent,
  role: run.role,
  status: ref
    .ask<AgentStatus>((reply) => ({ _tag: "Status", reply }))
    .pipe(Effect.catchTag("ActorStopped", () => run.status)),
  output: (lines = 100) =>
    ref
      .ask<ReadonlyArray<string>>((reply) => ({ _tag: "Output", lines, reply }))
      .pipe(Effect.catchTag("ActorStopped", () => run.output(lines))),
  input: (text) =>
    ref
      .ask<void>((reply) => ({ _tag: "Input", text, reply }))
      // Its terminal closed with its owner: there is nobody left to type to.
      .pipe(Effect.catchTag("ActorStopped", () => Effect.void)),
  stop: (reason) =>
    ref
      .ask<AgentRunResult>((reply) => ({ _tag: "Stop", reason, reply }))
      .pipe(Effect.catchTag("ActorStopped", () => Effect.zipRight(run.requestStop(reason), run.result))),
  result: run.result,
})
