// src/domain/History.ts — an item's history: one entry per stage move (and creation, blocks, resets, agent
// starts and exits), with the reason and who asked. Store records them; doors (UI, MCP status) show them.
import { Schema } from "effect"
import type { PipelineEvent, PipelineEventTag } from "./PipelineEvent.js"
import type { WorkItem } from "./WorkItem.js"
import { Millis } from "./WorkItem.js"

export const HistoryEntry = Schema.Struct({
  at: Millis,
  /** The pipeline event's tag ("Block", "QaApproved", "Merged"…) or "Created". */
  event: Schema.String,
  from: Schema.optional(Schema.String),
  to: Schema.String,
  reason: Schema.optional(Schema.String),
  /** Who asked: "mcp:<client>", "ui", "agent:<name>", "server"… when known. */
  by: Schema.optional(Schema.String),
})
export type HistoryEntry = typeof HistoryEntry.Type

/** The newest entries an item keeps; older ones are dropped as new ones come. */
export const historyLimit = 200

/** Who asked for a change and why, as the command layer or an actor knows it. */
export interface Asked {
  readonly by?: string | undefined
  /** A person's reason for a move whose event carries none (an abandon, an unblock). */
  readonly reason?: string | undefined
}

/** Events recorded even when the stage stays: they say why an item is where it is, or who worked on it. */
const alwaysRecorded: ReadonlySet<PipelineEventTag> = new Set([
  "GatesFailed",
  "Block",
  "Unblock",
  "Reset",
  "AgentStarted",
  "AgentExited",
  "AgentStopped",
])

/** The reason an event carries itself, if any. */
const reasonOf = (event: PipelineEvent): string | undefined => {
  switch (event._tag) {
    case "Block":
    case "GatesFailed":
    case "MergeFailed":
      return event.why
    case "QaRejected":
      return event.notes
    case "Supersede":
      return event.by
    case "AgentStarted":
      return `${event.role} ${event.agent}`
    case "AgentExited":
      return event.outcome
    default:
      return undefined
  }
}

const withOptional = (
  entry: { readonly at: number; readonly event: string; readonly to: string },
  optional: {
    readonly from?: string | undefined
    readonly reason?: string | undefined
    readonly by?: string | undefined
  },
): HistoryEntry => ({
  ...entry,
  ...(optional.from === undefined ? {} : { from: optional.from }),
  ...(optional.reason === undefined || optional.reason.trim() === "" ? {} : { reason: optional.reason }),
  ...(optional.by === undefined ? {} : { by: optional.by }),
})

/** The entry an applied event leaves, or undefined when it is not history (a heartbeat, a cleared mark). */
export const historyEntryOf = (
  before: WorkItem,
  after: WorkItem,
  event: PipelineEvent,
  asked: Asked = {},
): HistoryEntry | undefined => {
  if (before.stage._tag === after.stage._tag && !alwaysRecorded.has(event._tag)) return undefined
  return withOptional(
    { at: event.at, event: event._tag, to: after.stage._tag },
    { from: before.stage._tag, reason: reasonOf(event) ?? asked.reason, by: asked.by },
  )
}

/** The first entry of a new item. */
export const createdEntry = (item: WorkItem, asked: Asked = {}): HistoryEntry =>
  withOptional({ at: item.createdAt, event: "Created", to: item.stage._tag }, asked)
