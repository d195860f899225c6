// src/protocol/uiRpcs.ts — the web UI's live API: one @effect/rpc group over one WebSocket (/rpc),
// with the Schema types the server uses. The browser imports this file (so it may import only effect,
// @effect/rpc and src/domain); the server implements it in src/transports/rpc. Reads are a board
// snapshot followed by its changes (resumable by sequence number) and on-demand item details; every
// write is one command of the command layer, refused with its message as MCP shows it.
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { Decision, DecisionId, Verdict } from "../domain/Decision.js"
import { ExecutionState, Outcome } from "../domain/ExecutionState.js"
import { HistoryEntry } from "../domain/History.js"
import { MergeJob } from "../domain/MergeJob.js"
import { AgentRole, Stage } from "../domain/Stage.js"
import { ItemKind, StoryId } from "../domain/StoryId.js"
import { Timer } from "../domain/Timer.js"
import { Millis, WorkItem } from "../domain/WorkItem.js"

/** Bumped when a message changes shape; a client of another version is told to reload. */
export const uiProtocolVersion = 1

// ------------------------------------------------------------------------------------------ the board

/** An item as a board card shows it, computed on the server (the browser never parses markdown). */
export const Card = Schema.Struct({
  id: StoryId,
  /** The number alone, as people type it ("503"). */
  number: Schema.Int,
  kind: ItemKind,
  name: Schema.String,
  stage: Stage,
  criteria: Schema.Struct({ done: Schema.Int, total: Schema.Int }),
  dependsOn: Schema.Array(Schema.Struct({ id: Schema.String, met: Schema.Boolean })),
  /** This server's execution of the item, per node (Running carries the agent's name). */
  execution: Schema.Record({ key: Schema.String, value: ExecutionState }),
  /** The agent named in the item's front matter, if any. */
  assignedAgent: Schema.optional(Schema.String),
  costUsd: Schema.Number,
  timers: Schema.Array(Timer),
  attempts: Schema.Int,
  feedback: Schema.optional(Schema.String),
  createdAt: Millis,
  updatedAt: Millis,
})
export type Card = typeof Card.Type

/** Done and Archived are paged (newest first); the other columns are sent whole. */
export const pagedStages = ["Done", "Archived"] as const
export const PagedStage = Schema.Literal(...pagedStages)
export type PagedStage = typeof PagedStage.Type

/** Where a client is in the server's change sequence: `epoch` changes when the server restarts. */
export const Cursor = Schema.Struct({ epoch: Schema.String, seq: Schema.Int })
export type Cursor = typeof Cursor.Type

/** The merge being run now and the step it is on (for the merge queue page). */
export const MergeCurrent = Schema.Struct({ storyId: StoryId, step: Schema.String, since: Millis })
export type MergeCurrent = typeof MergeCurrent.Type
/** Why merges wait for something outside any item (a dirty checkout of the base), and since when. */
export const MergePaused = Schema.Struct({ why: Schema.String, since: Millis })
export type MergePaused = typeof MergePaused.Type

/** A queued job that waits alone, keeping its place (its branch could not be fetched): why, since when. */
export const MergeWaiting = Schema.Struct({ storyId: StoryId, why: Schema.String, since: Millis })
export type MergeWaiting = typeof MergeWaiting.Type

export const Snapshot = Schema.TaggedStruct("Snapshot", {
  cursor: Cursor,
  version: Schema.Int,
  nodeId: Schema.String,
  project: Schema.String,
  /** Every card not in Done/Archived, plus the newest page of each of those two. */
  cards: Schema.Array(Card),
  /** How many items each paged column holds in all. */
  totals: Schema.Struct({ Done: Schema.Int, Archived: Schema.Int }),
  decisions: Schema.Array(Decision),
  mergeQueue: Schema.Array(MergeJob),
  /** Absent when no merge runs (or the server does not say). */
  mergeCurrent: Schema.optional(MergeCurrent),
  /** Absent when merges are not paused. */
  mergePaused: Schema.optional(MergePaused),
  /** Absent when no job waits alone. */
  mergeWaiting: Schema.optional(Schema.Array(MergeWaiting)),
})
export type Snapshot = typeof Snapshot.Type

/** A card that appeared or changed (a paged column's card too: the client keeps the newest). */
export const CardChanged = Schema.TaggedStruct("CardChanged", { cursor: Cursor, card: Card })
export const CardRemoved = Schema.TaggedStruct("CardRemoved", { cursor: Cursor, id: StoryId })
/** A decision opened or answered: the decision as it now is. */
export const DecisionChanged = Schema.TaggedStruct("DecisionChanged", { cursor: Cursor, decision: Decision })
/** The queue as it now is: its jobs, the merge running and its step, why merges wait if they do, and the
 * jobs that wait alone. */
export const MergeQueueChanged = Schema.TaggedStruct("MergeQueueChanged", {
  cursor: Cursor,
  jobs: Schema.Array(MergeJob),
  mergeCurrent: Schema.optional(MergeCurrent),
  mergePaused: Schema.optional(MergePaused),
  mergeWaiting: Schema.optional(Schema.Array(MergeWaiting)),
})
/** Sent once after the Snapshot or the replay of a resume: the client is caught up and live from here. */
export const Live = Schema.TaggedStruct("Live", { cursor: Cursor })
/**
 * A Board subscription sends a Snapshot (first time, or when the resume cursor is too old or of another
 * epoch) or the messages after the resume cursor, then Live, then every change as it happens.
 */
export const BoardMessage = Schema.Union(
  Snapshot,
  CardChanged,
  CardRemoved,
  DecisionChanged,
  MergeQueueChanged,
  Live,
)
export type BoardMessage = typeof BoardMessage.Type

// ------------------------------------------------------------------------------------------- an item

/** One entry of an item's history, as the Store records it. */
export { HistoryEntry }

export const SessionSummary = Schema.Struct({
  /** The session's number within the item (1, 2…), as its log file names it. */
  session: Schema.Int,
  agent: Schema.String,
  role: Schema.String,
  startedAt: Schema.optional(Millis),
  outcome: Schema.optional(Outcome),
  running: Schema.Boolean,
  inputTokens: Schema.Int,
  outputTokens: Schema.Int,
  costUsd: Schema.NullOr(Schema.Number),
})
export type SessionSummary = typeof SessionSummary.Type

export const GateResult = Schema.Struct({
  name: Schema.String,
  passed: Schema.Boolean,
  at: Millis,
  output: Schema.String,
})
export type GateResult = typeof GateResult.Type

export const ItemDetail = Schema.Struct({
  item: WorkItem,
  card: Card,
  /** The item's markdown as stored (front matter and sections). */
  content: Schema.String,
  history: Schema.Array(HistoryEntry),
  sessions: Schema.Array(SessionSummary),
  gates: Schema.Array(GateResult),
  mergeJob: Schema.optional(MergeJob),
  mergeCommit: Schema.optional(Schema.String),
})
export type ItemDetail = typeof ItemDetail.Type

/** An agent's terminal: what was written before the subscription, then what it writes, then its end. */
export const TerminalChunk = Schema.Union(
  Schema.TaggedStruct("Scrollback", { text: Schema.String }),
  Schema.TaggedStruct("Output", { text: Schema.String }),
  Schema.TaggedStruct("Ended", { outcome: Schema.optional(Outcome) }),
)
export type TerminalChunk = typeof TerminalChunk.Type

export const AgentRow = Schema.Struct({
  name: Schema.String,
  /** The stage whose work it takes; "chat": the chat assistant, never given an item. */
  role: Schema.optional(Schema.Literal(...AgentRole.literals, "chat")),
  runtime: Schema.String,
  node: Schema.String,
  /** The item it works on, when busy. */
  storyId: Schema.optional(StoryId),
  status: Schema.String,
})
export type AgentRow = typeof AgentRow.Type

export const CostRow = Schema.Struct({
  key: Schema.String,
  runs: Schema.Int,
  inputTokens: Schema.Int,
  outputTokens: Schema.Int,
  costUsd: Schema.Number,
})
export const CostReport = Schema.Struct({
  group: Schema.Literal("item", "agent", "model", "day"),
  rows: Schema.Array(CostRow),
  totalUsd: Schema.Number,
})
export type CostReport = typeof CostReport.Type

export const LogLine = Schema.Struct({
  time: Millis,
  level: Schema.String,
  component: Schema.String,
  message: Schema.String,
})
export type LogLine = typeof LogLine.Type

export const Settings = Schema.Struct({
  projectToml: Schema.String,
  agentsToml: Schema.String,
  /** The config problem in force (the last good config is used meanwhile), if any. */
  problem: Schema.optional(Schema.String),
})
export type Settings = typeof Settings.Type

// -------------------------------------------------------------------------------------------- errors

/** The command layer (or a read) refused: `message` says what was asked and what to do instead. */
export class Refused extends Schema.TaggedError<Refused>()("Refused", { message: Schema.String }) {}

/** The page was built for another protocol version than the server speaks: it must reload. */
export class VersionMismatch extends Schema.TaggedError<VersionMismatch>()("VersionMismatch", {
  client: Schema.Int,
  server: Schema.Int,
}) {
  override get message(): string {
    return `this page speaks version ${this.client} of the board protocol and the server ${this.server}: reload the page`
  }
}

// ------------------------------------------------------------------------------------------ the group

const ok = Schema.Struct({ message: Schema.String })

export class UiRpcs extends RpcGroup.make(
  // reads
  Rpc.make("Board", {
    payload: { resume: Schema.optional(Cursor), version: Schema.Int },
    success: BoardMessage,
    error: Schema.Union(Refused, VersionMismatch),
    stream: true,
  }),
  Rpc.make("Page", {
    /**
     * Cards updated before `before`, newest first. Several cards can share one `updatedAt`: with the last
     * card's id as `beforeId` too, the page continues right after that card (same time, smaller id).
     */
    payload: {
      stage: PagedStage,
      before: Schema.optional(Millis),
      beforeId: Schema.optional(StoryId),
      limit: Schema.Int,
    },
    success: Schema.Array(Card),
    error: Refused,
  }),
  Rpc.make("Item", { payload: { id: StoryId }, success: ItemDetail, error: Refused }),
  Rpc.make("Terminal", {
    /** `agent` picks among sessions of the same number run by different agents (SessionSummary.agent). */
    payload: { id: StoryId, session: Schema.optional(Schema.Int), agent: Schema.optional(Schema.String) },
    success: TerminalChunk,
    error: Refused,
    stream: true,
  }),
  Rpc.make("Agents", { success: Schema.Array(AgentRow), error: Refused }),
  Rpc.make("Cost", {
    payload: { group: Schema.Literal("item", "agent", "model", "day"), storyId: Schema.optional(StoryId) },
    success: CostReport,
    error: Refused,
  }),
  Rpc.make("Logs", {
    payload: { level: Schema.optional(Schema.String), text: Schema.optional(Schema.String) },
    success: LogLine,
    error: Refused,
    stream: true,
  }),
  Rpc.make("Settings", { success: Settings, error: Refused }),
  // writes: each one command of the command layer
  Rpc.make("Create", {
    payload: {
      kind: ItemKind,
      name: Schema.String,
      criteria: Schema.Array(Schema.String),
      dependsOn: Schema.Array(Schema.Int),
      description: Schema.optional(Schema.String),
    },
    success: Schema.Struct({ id: StoryId, message: Schema.String }),
    error: Refused,
  }),
  Rpc.make("Edit", {
    payload: { id: StoryId, content: Schema.String, expected: Schema.optional(Schema.String) },
    success: ok,
    error: Refused,
  }),
  Rpc.make("CheckCriterion", {
    payload: { id: StoryId, index: Schema.Int, done: Schema.Boolean },
    success: ok,
    error: Refused,
  }),
  Rpc.make("Move", {
    payload: { id: StoryId, to: Schema.String, reason: Schema.optional(Schema.String) },
    success: ok,
    error: Refused,
  }),
  Rpc.make("Block", { payload: { id: StoryId, reason: Schema.String }, success: ok, error: Refused }),
  Rpc.make("Unblock", { payload: { id: StoryId }, success: ok, error: Refused }),
  Rpc.make("Delete", { payload: { id: StoryId }, success: ok, error: Refused }),
  Rpc.make("StartAgent", {
    payload: { id: StoryId, agent: Schema.optional(Schema.String) },
    success: ok,
    error: Refused,
  }),
  Rpc.make("StopAgent", { payload: { id: StoryId }, success: ok, error: Refused }),
  Rpc.make("Schedule", { payload: { id: StoryId, at: Millis }, success: ok, error: Refused }),
  Rpc.make("Answer", {
    payload: { id: DecisionId, verdict: Verdict, note: Schema.optional(Schema.String) },
    success: ok,
    error: Refused,
  }),
  /** A chat command line ("move 12 done", "start 12 coder-1"), parsed by the parser the chat bots use. */
  Rpc.make("Command", { payload: { text: Schema.String }, success: ok, error: Refused }),
) {}
