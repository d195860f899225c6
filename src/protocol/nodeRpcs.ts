// src/protocol/nodeRpcs.ts — what a worker node and the main node say to each other over @effect/rpc (the
// same family, serialization and server code as the UI's uiRpcs.ts) at /rpc/node: Attach first, then a
// stream of commands down (StopAgent, FetchLog) and calls up (Output, Status, StopReply, LogReply).
// Used by src/transports/rpc/nodeRpcServer.ts (main node) and src/transports/nodes/nodeClient.ts (worker).
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { NodeId, Outcome } from "../domain/ExecutionState.js"
import { AgentRole } from "../domain/Stage.js"
import { StoryId } from "../domain/StoryId.js"
import { Millis } from "../domain/WorkItem.js"
import { nodeProtocolVersion, supportedNodeProtocols } from "./nodeHandshake.js"

export { nodeProtocolVersion, supportedNodeProtocols }

/**
 * Where a node's RPC WebSocket connects: a sibling of the UI's /rpc, served by the same RpcServer code.
 * The access guard admits it with the node's ticket (Welcome.ticket, as `Authorization: Bearer <ticket>`
 * or `?ticket=`) or with the server's own credentials.
 */
export const nodeRpcPath = "/rpc/node"

/**
 * Set on the upgrade request by the /rpc/node route (never taken from the client) when the connection was
 * admitted by a node ticket: the node id the ticket belongs to. Absent: admitted by the server's token.
 */
export const nodePrincipalHeader = "x-huskies-node"

/** How often a worker reports its Status (the main node shows a node silent for 3 periods as stale). */
export const statusEveryMillis = 5_000

// ------------------------------------------------------------------------------------------- messages

/** One agent session on a node: output, stop and logs are addressed by it. */
export const SessionKey = Schema.Struct({
  storyId: StoryId,
  agent: Schema.String,
  /** The session's number within the item (1, 2…), as its log file names it. */
  session: Schema.Int,
})
export type SessionKey = typeof SessionKey.Type

/**
 * A batch of an agent's readable output lines (what its terminal shows), worker → main. `seq` numbers the
 * first line (1 for a session's first line); a batch that repeats lines the main node holds is trimmed
 * there, so a worker resends from the last acknowledged line after a reconnect without duplicates.
 */
export const OutputBatch = Schema.Struct({
  ...SessionKey.fields,
  role: AgentRole,
  seq: Schema.Int.pipe(Schema.positive()),
  lines: Schema.Array(Schema.String),
  /** Present on the session's last batch: the run ended (with its outcome when it has one). */
  ended: Schema.optional(Schema.Struct({ outcome: Schema.optional(Outcome) })),
})
export type OutputBatch = typeof OutputBatch.Type

/** The main node's answer to a batch: the last line it holds of that session (what a resend starts after). */
export const OutputAck = Schema.Struct({ acked: Schema.Int })
export type OutputAck = typeof OutputAck.Type

/** An agent running on a node, as its Status reports it. */
export const RemoteAgent = Schema.Struct({
  ...SessionKey.fields,
  role: AgentRole,
  runtime: Schema.String,
  startedAt: Millis,
  lastOutputAt: Millis,
})
export type RemoteAgent = typeof RemoteAgent.Type

/** A worker's state, sent every `statusEveryMillis` and whenever an agent starts or ends. */
export const NodeStatus = Schema.Struct({
  /** Agent slots: how many agents it may run at once and how many run now. */
  slots: Schema.Struct({ total: Schema.Int, busy: Schema.Int }),
  running: Schema.Array(RemoteAgent),
  /** The 1-minute load average divided by the CPU count (1 = every core busy). */
  load: Schema.Number,
  /** The huskies version the node runs. */
  version: Schema.String,
  at: Millis,
})
export type NodeStatus = typeof NodeStatus.Type

/** Main → worker: stop the item's work there (as stop_agent does locally). */
export const StopAgent = Schema.TaggedStruct("StopAgent", {
  requestId: Schema.String,
  storyId: StoryId,
  /** Who asked, for the item's history ("mcp", "ui"…). */
  by: Schema.optional(Schema.String),
})
/** Main → worker: send a session log (the newest session of that agent when `session` is absent). */
export const FetchLog = Schema.TaggedStruct("FetchLog", {
  requestId: Schema.String,
  storyId: StoryId,
  agent: Schema.String,
  session: Schema.optional(Schema.Int),
})
export const NodeCommand = Schema.Union(StopAgent, FetchLog)
export type NodeCommand = typeof NodeCommand.Type

/** Worker → main: how a StopAgent ended. */
export const StopReply = Schema.Struct({
  requestId: Schema.String,
  stopped: Schema.Boolean,
  outcome: Schema.optional(Outcome),
  /** Set when the stop could not be done (the item is unknown there): what happened instead. */
  problem: Schema.optional(Schema.String),
})
export type StopReply = typeof StopReply.Type

/** Worker → main: the answer to a FetchLog. `lines` are readable lines (as a terminal shows them). */
export const LogReply = Schema.Struct({
  requestId: Schema.String,
  /** The session sent; absent with `problem`. */
  session: Schema.optional(Schema.Int),
  lines: Schema.Array(Schema.String),
  /** The beginning was left out to keep the answer bounded. */
  truncated: Schema.Boolean,
  problem: Schema.optional(Schema.String),
})
export type LogReply = typeof LogReply.Type

/** What Attach answers: the main node's id and the protocol both speak from now on. */
export const Attached = Schema.Struct({
  main: NodeId,
  protocol: Schema.Int,
  /**
   * The last output line the main node holds of each session it knows from this node (`acked`): a worker
   * resends each of its sessions after that, so nothing is lost or shown twice across a reconnect.
   */
  sessions: Schema.Array(Schema.Struct({ ...SessionKey.fields, acked: Schema.Int })),
})
export type Attached = typeof Attached.Type

// --------------------------------------------------------------------------------------------- errors

/** The worker speaks a node protocol this main node does not: which versions to run. */
export class ProtocolUnsupported extends Schema.TaggedError<ProtocolUnsupported>()("ProtocolUnsupported", {
  client: Schema.Int,
  supported: Schema.Array(Schema.Int),
}) {
  override get message(): string {
    return (
      `this node speaks node protocol ${this.client} and the main node ${this.supported.join(", ")}: ` +
      `run a huskies version that speaks one of those on the older side (upgrade order: main node first)`
    )
  }
}

/** The call was refused: not attached yet, attached as another node, or not a node's connection. */
export class NodeRefused extends Schema.TaggedError<NodeRefused>()("NodeRefused", {
  detail: Schema.String,
}) {
  override get message(): string {
    return this.detail
  }
}

// ------------------------------------------------------------------------------------------ the group

export class NodeRpcs extends RpcGroup.make(
  Rpc.make("Attach", {
    payload: {
      protocol: Schema.Int,
      node: NodeId,
      label: Schema.optional(Schema.String.pipe(Schema.maxLength(64))),
      version: Schema.optional(Schema.String.pipe(Schema.maxLength(64))),
    },
    success: Attached,
    error: Schema.Union(ProtocolUnsupported, NodeRefused),
  }),
  /** The commands for this node, for as long as the connection lives (one subscription per connection). */
  Rpc.make("Commands", { success: NodeCommand, error: NodeRefused, stream: true }),
  Rpc.make("Output", { payload: OutputBatch, success: OutputAck, error: NodeRefused }),
  Rpc.make("Status", { payload: NodeStatus, error: NodeRefused }),
  Rpc.make("StopReply", { payload: StopReply, error: NodeRefused }),
  Rpc.make("LogReply", { payload: LogReply, error: NodeRefused }),
) {}
