// src/layers/RemoteNodes.ts — the main node's picture of its attached worker nodes: who is connected, each
// node's last Status, an output ring per remote agent session (capped like a local agent's tail) that the
// live terminal streams, and the commands sent down to a node (stop an agent, fetch a log) with their
// replies. Fed by the node RPC handlers (src/transports/rpc/nodeRpcServer.ts); read by ActivityView,
// Pipeline.stopAgent and the UI's terminal. Local only: nothing here enters the document.
import { Context, Effect, Layer, Option, Queue, Stream } from "effect"
import type { NodeId, Outcome } from "../domain/ExecutionState.js"
import type { StoryId } from "../domain/StoryId.js"
import type {
  Attached,
  LogReply,
  NodeCommand,
  NodeStatus,
  OutputBatch,
  RemoteAgent,
  SessionKey,
  StopReply,
} from "../protocol/nodeRpcs.js"
import type { TerminalChunk } from "../protocol/uiRpcs.js"
import { makeAsker, NodeUnreachable } from "./remoteAsk.js"

export { NodeUnreachable }

/** Lines and bytes a remote session's ring keeps (the same bounds as a local agent's output tail). */
export const ringMaxLines = 2000
export const ringMaxBytes = 1024 * 1024
/** Ended sessions kept for their terminal, per node; the oldest go first. */
const endedSessionsKept = 50

export interface NodeView {
  readonly node: NodeId
  readonly label: string
  readonly version: string | undefined
  readonly connected: boolean
  readonly attachedAt: number
  readonly status: NodeStatus | undefined
}

export type RemoteAgentView = RemoteAgent & { readonly node: NodeId }

/** One attached connection (the RPC client id): its node and the commands waiting for it. */
export interface NodeAttachment {
  readonly clientId: number
  readonly node: NodeId
  readonly commands: Queue.Queue<NodeCommand>
}

export interface RemoteNodesShape {
  // the node RPC handlers
  readonly attach: (
    clientId: number,
    info: {
      readonly node: NodeId
      readonly label?: string | undefined
      readonly version?: string | undefined
    },
    main: NodeId,
    protocol: number,
  ) => Effect.Effect<Attached>
  /** The attachment of an RPC client, if it attached. */
  readonly attachment: (clientId: number) => Effect.Effect<Option.Option<NodeAttachment>>
  /** The connection ended: its node is shown disconnected and its pending commands fail. */
  readonly detach: (clientId: number) => Effect.Effect<void>
  /** The node was revoked: its connection's attachment ends (calls on it are refused from now on). */
  readonly revoke: (node: NodeId) => Effect.Effect<void>
  readonly status: (node: NodeId, status: NodeStatus) => Effect.Effect<void>
  /** Adds a batch to its session's ring (trimming what it holds already); answers the last line held. */
  readonly output: (node: NodeId, batch: OutputBatch) => Effect.Effect<number>
  readonly stopReply: (reply: StopReply) => Effect.Effect<void>
  readonly logReply: (reply: LogReply) => Effect.Effect<void>
  // readers and commands
  readonly nodes: Effect.Effect<ReadonlyArray<NodeView>>
  /** Agents running on connected nodes, as their last Status says. */
  readonly agents: Effect.Effect<ReadonlyArray<RemoteAgentView>>
  /** The connected node running an agent on the item, if any. */
  readonly runningOn: (storyId: StoryId) => Effect.Effect<Option.Option<RemoteAgentView>>
  /** The newest matching remote session's terminal: its ring as Scrollback, then live Output, then Ended. */
  readonly terminal: (
    storyId: StoryId,
    filter?: { readonly session?: number | undefined; readonly agent?: string | undefined },
  ) => Effect.Effect<Option.Option<Stream.Stream<TerminalChunk>>>
  /** The last `lines` lines the newest session of the item on a worker sent (its live tail). */
  readonly tail: (
    storyId: StoryId,
    lines: number,
  ) => Effect.Effect<
    Option.Option<{ readonly node: NodeId; readonly key: SessionKey; readonly lines: ReadonlyArray<string> }>
  >
  readonly stop: (node: NodeId, storyId: StoryId, by?: string) => Effect.Effect<StopReply, NodeUnreachable>
  readonly fetchLog: (
    node: NodeId,
    key: { readonly storyId: StoryId; readonly agent: string; readonly session?: number | undefined },
  ) => Effect.Effect<LogReply, NodeUnreachable>
}

export class RemoteNodes extends Context.Tag("huskies/RemoteNodes")<RemoteNodes, RemoteNodesShape>() {}

interface Ring {
  readonly node: NodeId
  readonly key: SessionKey
  lines: Array<string>
  bytes: number
  /** The seq of the last line received (0: none yet). */
  lastSeq: number
  ended: { readonly outcome?: Outcome | undefined } | undefined
  readonly listeners: Set<(chunk: TerminalChunk) => void>
  touchedAt: number
}

interface NodeEntry {
  node: NodeId
  label: string
  version: string | undefined
  attachedAt: number
  clientId: number | undefined
  commands: Queue.Queue<NodeCommand> | undefined
  status: NodeStatus | undefined
}

const ringKey = (node: string, k: { storyId: string; agent: string; session: number }) =>
  `${node}\u0000${k.storyId}\u0000${k.agent}\u0000${k.session}`

const toTerminal = (lines: ReadonlyArray<string>): string => lines.map((l) => `${l}\r\n`).join("")

const makeRemoteNodes = Effect.gen(function* () {
  // Mutated only inside Effect.sync blocks, which run whole: no fiber sees a change half done.
  const nodes = new Map<NodeId, NodeEntry>()
  const byClient = new Map<number, NodeAttachment>()
  const rings = new Map<string, Ring>()
  const now = Effect.clockWith((c) => c.currentTimeMillis)

  const commandsOf = (node: NodeId) => nodes.get(node)?.commands
  const stops = makeAsker<StopReply>(commandsOf)
  const logs = makeAsker<LogReply>(commandsOf)
  const failPending = (node: NodeId, detail: string) =>
    Effect.zipRight(stops.failNode(node, detail), logs.failNode(node, detail))

  const attach: RemoteNodesShape["attach"] = (clientId, info, main, protocol) =>
    Effect.gen(function* () {
      const at = yield* now
      const commands = yield* Queue.unbounded<NodeCommand>()
      const previous = nodes.get(info.node)
      // A node that attaches again replaces its older connection (that one is dead, or soon will be).
      if (previous?.clientId !== undefined) {
        byClient.delete(previous.clientId)
        if (previous.commands !== undefined) yield* Queue.shutdown(previous.commands)
        yield* failPending(info.node, "reconnected before it answered")
      }
      const sessions = yield* Effect.sync(() => {
        nodes.set(info.node, {
          node: info.node,
          label: info.label ?? info.node,
          version: info.version,
          attachedAt: at,
          clientId,
          commands,
          status: previous?.status,
        })
        byClient.set(clientId, { clientId, node: info.node, commands })
        return [...rings.values()]
          .filter((r) => r.node === info.node)
          .map((r) => ({ ...r.key, acked: r.lastSeq }))
      })
      return { main, protocol, sessions }
    })

  const detach = (clientId: number) =>
    Effect.gen(function* () {
      const attachment = byClient.get(clientId)
      if (attachment === undefined) return
      byClient.delete(clientId)
      const entry = nodes.get(attachment.node)
      if (entry?.clientId === clientId) {
        entry.clientId = undefined
        entry.commands = undefined
        yield* failPending(attachment.node, "disconnected before it answered")
      }
      yield* Queue.shutdown(attachment.commands)
    })

  const publish = (ring: Ring, chunk: TerminalChunk) => {
    for (const listener of ring.listeners) listener(chunk)
  }

  const append = (ring: Ring, added: ReadonlyArray<string>) => {
    for (const line of added) {
      ring.lines.push(line)
      ring.bytes += Buffer.byteLength(line)
    }
    let drop = 0
    while (
      drop < ring.lines.length - 1 &&
      (ring.lines.length - drop > ringMaxLines || ring.bytes > ringMaxBytes)
    ) {
      ring.bytes -= Buffer.byteLength(ring.lines[drop] ?? "")
      drop++
    }
    if (drop > 0) ring.lines.splice(0, drop)
  }

  const forgetOldSessions = (node: NodeId) => {
    const ended = [...rings.entries()]
      .filter(([, r]) => r.node === node && r.ended !== undefined && r.listeners.size === 0)
      .sort(([, a], [, b]) => a.touchedAt - b.touchedAt)
    for (const [key] of ended.slice(0, Math.max(0, ended.length - endedSessionsKept))) rings.delete(key)
  }

  /** The session's ring, made empty when it is new; touched at `at`. */
  const ringOf = (node: NodeId, key: SessionKey, at: number): Ring => {
    const id = ringKey(node, key)
    let ring = rings.get(id)
    if (ring === undefined) {
      ring = {
        node,
        key: { storyId: key.storyId, agent: key.agent, session: key.session },
        lines: [],
        bytes: 0,
        lastSeq: 0,
        ended: undefined,
        listeners: new Set(),
        touchedAt: at,
      }
      rings.set(id, ring)
    }
    ring.touchedAt = Math.max(ring.touchedAt, at)
    return ring
  }

  const output = (node: NodeId, batch: OutputBatch) =>
    Effect.flatMap(now, (at) =>
      Effect.sync(() => {
        const ring = ringOf(node, batch, at)
        const last = batch.seq + batch.lines.length - 1
        if (last > ring.lastSeq) {
          const fresh = batch.lines.slice(Math.max(0, ring.lastSeq + 1 - batch.seq))
          // Lines the node could not keep while it was cut off: said, not hidden.
          const missed = batch.seq - ring.lastSeq - 1
          const shown = missed > 0 ? [`[… ${missed} lines of output not received …]`, ...fresh] : fresh
          append(ring, shown)
          ring.lastSeq = last
          publish(ring, { _tag: "Output", text: toTerminal(shown) })
        }
        if (batch.ended !== undefined && ring.ended === undefined) {
          ring.ended = batch.ended
          publish(ring, { _tag: "Ended", ...batch.ended })
          forgetOldSessions(node)
        }
        return ring.lastSeq
      }),
    )

  const nodeViews = Effect.sync(() =>
    [...nodes.values()].map((e): NodeView => ({
      node: e.node,
      label: e.label,
      version: e.version,
      connected: e.clientId !== undefined,
      attachedAt: e.attachedAt,
      status: e.status,
    })),
  )

  const agents = Effect.sync(() =>
    [...nodes.values()].flatMap((e) =>
      e.clientId === undefined || e.status === undefined
        ? []
        : e.status.running.map((a) => ({ ...a, node: e.node })),
    ),
  )

  const newestRing = (
    storyId: StoryId,
    filter: { readonly session?: number | undefined; readonly agent?: string | undefined },
  ): Ring | undefined =>
    [...rings.values()]
      .filter(
        (r) =>
          r.key.storyId === storyId &&
          (filter.session === undefined || r.key.session === filter.session) &&
          (filter.agent === undefined || r.key.agent === filter.agent),
      )
      .sort((a, b) => b.touchedAt - a.touchedAt || b.key.session - a.key.session)[0]

  const terminal: RemoteNodesShape["terminal"] = (storyId, filter = {}) =>
    Effect.sync(() => {
      const ring = newestRing(storyId, filter)
      if (ring === undefined) return Option.none()
      return Option.some(
        Stream.async<TerminalChunk>(
          (emit) => {
            // The scrollback and the subscription are taken in one synchronous step: no line falls between.
            if (ring.lines.length > 0) void emit.single({ _tag: "Scrollback", text: toTerminal(ring.lines) })
            if (ring.ended !== undefined) {
              void emit.single({ _tag: "Ended", ...ring.ended })
              void emit.end()
              return Effect.void
            }
            const listener = (chunk: TerminalChunk) => {
              void emit.single(chunk)
              if (chunk._tag === "Ended") void emit.end()
            }
            ring.listeners.add(listener)
            return Effect.sync(() => ring.listeners.delete(listener))
          },
          // A watcher that does not keep up loses the oldest chunks, not the server its memory.
          { bufferSize: 4096, strategy: "sliding" },
        ),
      )
    })

  return {
    attach,
    attachment: (clientId) => Effect.sync(() => Option.fromNullable(byClient.get(clientId))),
    detach,
    revoke: (node) =>
      Effect.suspend(() => {
        const clientId = nodes.get(node)?.clientId
        return clientId === undefined ? Effect.void : detach(clientId)
      }),
    status: (node, status) =>
      Effect.sync(() => {
        const entry = nodes.get(node)
        if (entry !== undefined) entry.status = status
        // A running agent's terminal can be watched before its first line arrives.
        for (const agent of status.running) ringOf(node, agent, status.at)
      }),
    output,
    stopReply: stops.settle,
    logReply: logs.settle,
    nodes: nodeViews,
    agents,
    runningOn: (storyId) =>
      Effect.map(agents, (all) => Option.fromNullable(all.find((a) => a.storyId === storyId))),
    terminal,
    tail: (storyId, lines) =>
      Effect.sync(() =>
        Option.map(Option.fromNullable(newestRing(storyId, {})), (ring) => ({
          node: ring.node,
          key: ring.key,
          lines: ring.lines.slice(-Math.max(1, lines)),
        })),
      ),
    stop: (node, storyId, by) =>
      stops.ask(node, (requestId) => ({
        _tag: "StopAgent",
        requestId,
        storyId,
        ...(by === undefined ? {} : { by }),
      })),
    fetchLog: (node, key) =>
      logs.ask(node, (requestId) => ({
        _tag: "FetchLog",
        requestId,
        storyId: key.storyId,
        agent: key.agent,
        ...(key.session === undefined ? {} : { session: key.session }),
      })),
  } satisfies RemoteNodesShape
})

/** The main node's RemoteNodes: empty until a worker attaches. */
export const RemoteNodesLive = Layer.effect(RemoteNodes, makeRemoteNodes)
