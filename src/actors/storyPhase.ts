// src/actors/storyPhase.ts — what a story actor's work is doing now (starting, waiting for an agent, running
// one, running the gates), as its work reports it and its Status answer gives it. Used by StoryActor, its
// work (storyWork, mergemaster) and the Scheduler's views.
import { Predicate, Schema } from "effect"
import { AgentRole } from "../domain/Stage.js"
import type { AgentHandle } from "./agentContract.js"

/** A running agent's handle: local to this process, so only its shape is checked. */
const Handle = Schema.declare(
  (u: unknown): u is AgentHandle =>
    Predicate.hasProperty(u, "role") &&
    Predicate.hasProperty(u, "stop") &&
    Predicate.hasProperty(u, "result"),
  { identifier: "AgentHandle" },
)

export const StoryPhase = Schema.Union(
  Schema.TaggedStruct("Starting", {}),
  Schema.TaggedStruct("WaitingForAgent", { role: AgentRole, since: Schema.Number }),
  Schema.TaggedStruct("Running", { handle: Handle }),
  Schema.TaggedStruct("Gates", { command: Schema.String, since: Schema.Number }),
)
export type StoryPhase = typeof StoryPhase.Type
