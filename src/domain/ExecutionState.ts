// src/domain/ExecutionState.ts — what a node is doing with an item right now (idle, running an agent,
// waiting out a rate limit). Kept per node, per item in the Store; changed only through transition.
import { Schema } from "effect"
import { AgentRole } from "./Stage.js"

const Millis = Schema.Int.pipe(Schema.nonNegative())

export const Outcome = Schema.Literal("succeeded", "failed", "stopped", "timedOut")
export type Outcome = typeof Outcome.Type

export const Idle = Schema.TaggedStruct("Idle", {})
export const Pending = Schema.TaggedStruct("Pending", {})
export const Running = Schema.TaggedStruct("Running", {
  agent: Schema.NonEmptyTrimmedString,
  role: AgentRole,
  startedAt: Millis,
  heartbeatAt: Millis,
})
export const RateLimited = Schema.TaggedStruct("RateLimited", { resetAt: Millis })
export const CompletedRun = Schema.TaggedStruct("Completed", { outcome: Outcome })

export const ExecutionState = Schema.Union(Idle, Pending, Running, RateLimited, CompletedRun)
export type ExecutionState = typeof ExecutionState.Type

export const NodeId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9_.:-]{1,128}$/, {
    message: () => "a node id: 1 to 128 letters, digits, `_`, `.`, `:` or `-`",
  }),
  // Node ids are record keys in the document; this one would set a prototype instead of a key.
  Schema.filter((id) => id !== "__proto__" || "`__proto__` cannot be a node id: choose another name"),
  Schema.brand("NodeId"),
)
export type NodeId = typeof NodeId.Type
