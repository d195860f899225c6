// src/domain/PipelineEvent.ts — every change that can happen to a work item's pipeline state.
// Produced by transports and actors, consumed only by the pure `transition`.
import { Schema } from "effect"
import { NodeId, Outcome } from "./ExecutionState.js"
import { AgentRole, QaMode } from "./Stage.js"
import { Millis } from "./WorkItem.js"

const Why = Schema.NonEmptyTrimmedString
const Branch = Schema.NonEmptyTrimmedString
const CommitsAhead = Schema.Int.pipe(Schema.nonNegative())

export const Start = Schema.TaggedStruct("Start", { at: Millis })
export const AgentStarted = Schema.TaggedStruct("AgentStarted", {
  node: NodeId,
  agent: Schema.NonEmptyTrimmedString,
  role: AgentRole,
  at: Millis,
})
export const Heartbeat = Schema.TaggedStruct("Heartbeat", { node: NodeId, at: Millis })
export const AgentExited = Schema.TaggedStruct("AgentExited", { node: NodeId, outcome: Outcome, at: Millis })
export const RateLimitHit = Schema.TaggedStruct("RateLimitHit", { node: NodeId, resetAt: Millis, at: Millis })
export const ExecutionCleared = Schema.TaggedStruct("ExecutionCleared", { node: NodeId, at: Millis })
/** A person stopped the node's work on the item: nothing restarts it until someone starts it again. */
export const AgentStopped = Schema.TaggedStruct("AgentStopped", { node: NodeId, at: Millis })
export const GatesPassed = Schema.TaggedStruct("GatesPassed", {
  featureBranch: Branch,
  commitsAhead: CommitsAhead,
  qa: QaMode,
  at: Millis,
})
export const GatesFailed = Schema.TaggedStruct("GatesFailed", {
  why: Why,
  retryLimit: Schema.Int.pipe(Schema.nonNegative()),
  at: Millis,
})
export const QaApproved = Schema.TaggedStruct("QaApproved", {
  featureBranch: Branch,
  commitsAhead: CommitsAhead,
  at: Millis,
})
/** Back to Coding with the notes; counts as a failed attempt, like GatesFailed, so review loops end. */
export const QaRejected = Schema.TaggedStruct("QaRejected", {
  notes: Why,
  retryLimit: Schema.Int.pipe(Schema.nonNegative()),
  at: Millis,
})
export const Merged = Schema.TaggedStruct("Merged", {
  mergeCommit: Schema.String,
  mergedAt: Millis,
  at: Millis,
})
export const MergeFailedEvent = Schema.TaggedStruct("MergeFailed", { why: Why, at: Millis })
export const Block = Schema.TaggedStruct("Block", { why: Why, at: Millis })
export const Hold = Schema.TaggedStruct("Hold", { at: Millis })
export const Unblock = Schema.TaggedStruct("Unblock", { at: Millis })
export const Abandon = Schema.TaggedStruct("Abandon", { at: Millis })
export const Supersede = Schema.TaggedStruct("Supersede", { by: Why, at: Millis })
export const Complete = Schema.TaggedStruct("Complete", { at: Millis })
export const Reset = Schema.TaggedStruct("Reset", { at: Millis })

export const PipelineEvent = Schema.Union(
  Start,
  AgentStarted,
  Heartbeat,
  AgentExited,
  RateLimitHit,
  ExecutionCleared,
  AgentStopped,
  GatesPassed,
  GatesFailed,
  QaApproved,
  QaRejected,
  Merged,
  MergeFailedEvent,
  Block,
  Hold,
  Unblock,
  Abandon,
  Supersede,
  Complete,
  Reset,
)
export type PipelineEvent = typeof PipelineEvent.Type
export type PipelineEventTag = PipelineEvent["_tag"]
