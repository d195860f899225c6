// src/transports/nodes/nodeClient.ts — a worker node's RPC connection to the main node (/rpc/node): attaches
// with its ticket, sends its agents' output (nodeOutbox.ts) and its Status, and obeys the main node's
// commands (StopAgent through the local command layer, FetchLog from the local session logs). Reconnects
// with backoff and resumes output from the last acknowledged line. Started by `huskies agent`.
import * as Socket from "@effect/platform/Socket"
import { RpcClient, type RpcClientError, RpcSerialization } from "@effect/rpc"
import { Cause, Duration, Effect, Exit, Layer, Option, Queue, Schema, Stream } from "effect"
import { readFile } from "node:fs/promises"
import { cpus, loadavg } from "node:os"
import { WebSocket } from "ws"
import { Pipeline } from "../../actors/Pipeline.js"
import { ActivityView, PipelineView } from "../../actors/PipelineView.js"
import type { NodeId } from "../../domain/ExecutionState.js"
import { Project } from "../../layers/Project.js"
import { latestSessionLog, listSessionLogs } from "../../layers/SessionLog.js"
import {
  type FetchLog,
  type LogReply,
  NodeRefused,
  nodeProtocolVersion,
  nodeRpcPath,
  NodeRpcs,
  ProtocolUnsupported,
  type StopAgent,
  statusEveryMillis,
} from "../../protocol/nodeRpcs.js"
import { readableEntry } from "../rpc/terminal.js"
import { makeNodeOutbox, type NodeOutbox } from "./nodeOutbox.js"

export interface NodeClientOptions {
  /** The main node's URL: http(s)://host:port or ws(s)://host:port. */
  readonly url: string
  /** This node's id (its Store's nodeId). */
  readonly node: NodeId
  /**
   * The credential for /rpc/node, asked for before each connection: the ticket of the current sync
   * connection's Welcome (waiting until there is one), or the server's token.
   */
  readonly credential: Effect.Effect<string>
  readonly label?: string
  readonly version?: string
  /** How often Status is sent (default `statusEveryMillis`). */
  readonly statusEveryMillis?: number
}

/** What the client uses on the worker: the command layer, the views and the project's root. */
export type NodeClientEnv = Pipeline | PipelineView | ActivityView | Project

/** Lines a FetchLog answer carries at most (the newest); bytes of log read at most. */
const logReplyLines = 5_000
const logReplyBytes = 4 * 1024 * 1024
const backoffStart = Duration.millis(500)
const backoffMax = Duration.seconds(5)

type Rpc = RpcClient.FromGroup<typeof NodeRpcs, RpcClientError.RpcClientError>

/** A WebSocket to `wsUrl` carrying `credential` as a bearer token (Node's own WebSocket cannot send one). */
export const bearerSocket = (wsUrl: string, credential: string): Layer.Layer<Socket.Socket> =>
  Layer.scoped(Socket.Socket, Socket.makeWebSocket(wsUrl)).pipe(
    Layer.provide(
      Layer.succeed(
        Socket.WebSocketConstructor,
        (target, protocols) =>
          new WebSocket(target, protocols, {
            headers: { authorization: `Bearer ${credential}` },
          }) as unknown as globalThis.WebSocket,
      ),
    ),
  )

/** Where a node's RPC socket connects, given the main node's URL. */
export const nodeRpcUrl = (url: string): string =>
  `${url.replace(/^http/, "ws").replace(/\/$/, "")}${nodeRpcPath}`

const readLog = (root: string, command: typeof FetchLog.Type) =>
  Effect.promise(async (): Promise<LogReply> => {
    const files = listSessionLogs(root, command.storyId).filter(
      (f) => f.agent === command.agent && (command.session === undefined || f.session === command.session),
    )
    const chosen = latestSessionLog(files)
    if (chosen === undefined)
      return {
        requestId: command.requestId,
        lines: [],
        truncated: false,
        problem:
          `${command.storyId} has no session ${command.session ?? ""} of ${command.agent} on this node`.replace(
            "  ",
            " ",
          ),
      }
    const text = await readFile(chosen.path, "utf8")
    const cut = text.length > logReplyBytes
    const tail = cut ? text.slice(text.indexOf("\n", text.length - logReplyBytes) + 1) : text
    const lines = tail.split("\n").flatMap(readableEntry)
    return {
      requestId: command.requestId,
      session: chosen.session,
      lines: lines.slice(-logReplyLines),
      truncated: cut || lines.length > logReplyLines,
    }
  })

const obey = (client: Rpc, root: string) => (command: typeof StopAgent.Type | typeof FetchLog.Type) =>
  Effect.gen(function* () {
    if (command._tag === "FetchLog") return yield* client.LogReply(yield* readLog(root, command))
    const pipeline = yield* Pipeline
    const reply = yield* pipeline.stopAgent(command.storyId, command.by ?? "main node").pipe(
      Effect.map((stopped) => ({
        requestId: command.requestId,
        stopped: stopped.stopped,
        ...(stopped.result !== undefined && stopped.result.outcome !== "rateLimited"
          ? { outcome: stopped.result.outcome }
          : {}),
      })),
      Effect.catchAll((e) =>
        Effect.succeed({ requestId: command.requestId, stopped: false, problem: e.message }),
      ),
    )
    yield* client.StopReply(reply)
  })

/** One connection: attach, then commands, status and output until any of them fails. */
const session = (options: NodeClientOptions, outbox: NodeOutbox, onAttached: Effect.Effect<void>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const credential = yield* options.credential
      const protocol = yield* Layer.build(
        RpcClient.layerProtocolSocket({ retryTransientErrors: false }).pipe(
          Layer.provide(bearerSocket(nodeRpcUrl(options.url), credential)),
          Layer.provide(RpcSerialization.layerNdjson),
        ),
      )
      const client: Rpc = yield* RpcClient.make(NodeRpcs).pipe(Effect.provide(protocol))
      const attached = yield* client
        .Attach({
          protocol: nodeProtocolVersion,
          node: options.node,
          ...(options.label === undefined ? {} : { label: options.label }),
          ...(options.version === undefined ? {} : { version: options.version }),
        })
        .pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "attach timed out" as const }))
      yield* outbox.resume(attached)
      yield* onAttached
      yield* Effect.logInfo(`attached to main node ${attached.main}`)
      const root = (yield* Project).root
      const activity = yield* ActivityView
      const commands = client.Commands().pipe(Stream.runForEach(obey(client, root)))
      const sendStatus = Effect.gen(function* () {
        const configured = yield* activity.agents.configured
        const busy = yield* activity.agents.busy
        const cores = Math.max(1, cpus().length)
        yield* client.Status({
          slots: { total: configured.length, busy: busy.length },
          running: yield* outbox.running,
          load: (loadavg()[0] ?? 0) / cores,
          version: options.version ?? "unknown",
          at: yield* Effect.clockWith((c) => c.currentTimeMillis),
        })
      })
      const status = Effect.forever(
        Effect.zipRight(
          sendStatus,
          Effect.raceFirst(
            Queue.take(outbox.changed),
            Effect.sleep(options.statusEveryMillis ?? statusEveryMillis).pipe(
              Effect.zipRight(outbox.discover),
            ),
          ),
        ),
      )
      const output = Effect.forever(
        Effect.gen(function* () {
          const batch = yield* outbox.nextBatch
          if (Option.isNone(batch)) return yield* Queue.take(outbox.added)
          const { acked } = yield* client.Output(batch.value)
          yield* outbox.acknowledged(batch.value, acked)
        }),
      )
      // The commands stream ends only with the connection: that (or any failure) ends this session.
      return yield* Effect.raceAll([
        Effect.zipRight(commands, Effect.fail("the main node ended the command stream" as const)),
        status,
        output,
      ])
    }),
  )

/** Errors a retry cannot cure: the worker stops with them. */
export type NodeClientFatal = ProtocolUnsupported | NodeRefused

const isFatal = (e: unknown): e is NodeClientFatal =>
  Schema.is(ProtocolUnsupported)(e) || Schema.is(NodeRefused)(e)

/**
 * Runs the client until interrupted; fails only when the main node refuses this node for good (another
 * protocol version, a ticket of another node). Follows the local agents meanwhile, so output produced
 * while cut off is sent once connected.
 */
export const runNodeClient = (options: NodeClientOptions) =>
  Effect.gen(function* () {
    const outbox = yield* makeNodeOutbox
    const pipeline = yield* PipelineView
    // Follow agents as they start (the status tick catches any this misses).
    yield* pipeline.changes.pipe(
      Stream.filter(
        (e) => e._tag === "ItemChanged" && e.event._tag === "AgentStarted" && e.event.node === options.node,
      ),
      Stream.runForEach((e) => (e._tag === "ItemChanged" ? outbox.agentStarted(e.after.id) : Effect.void)),
      Effect.forkScoped,
    )
    yield* outbox.discover
    let delay = backoffStart
    const attachedNow = Effect.sync(() => {
      delay = backoffStart
    })
    for (;;) {
      const ended = yield* Effect.exit(session(options, outbox, attachedNow))
      // A defect in one connection (a socket library's throw) ends that connection, not the worker's link:
      // it is logged with its cause and the next connection starts afresh.
      if (Exit.isFailure(ended) && Cause.isDie(ended.cause))
        yield* Effect.logError("main node connection failed unexpectedly", ended.cause)
      const failure = Exit.isFailure(ended) ? Cause.failureOption(ended.cause) : Option.none()
      const error: unknown = Option.getOrElse(failure, (): unknown => "the connection ended")
      if (isFatal(error)) {
        yield* Effect.logError(error.message)
        return yield* Effect.fail(error)
      }
      yield* Effect.logWarning(
        `main node connection lost (${describe(error)}); retrying in ${Duration.format(delay)}`,
      )
      yield* Effect.sleep(delay)
      delay = Duration.min(Duration.times(delay, 2), backoffMax)
    }
  }).pipe(Effect.annotateLogs({ component: "node-client" }))

const describe = (error: unknown): string =>
  typeof error === "string" ? error : error instanceof Error ? error.message : String(error)

/** The client as a layer: runs for the layer's life; a fatal refusal is logged and ends it. */
export const NodeClientLive = (options: NodeClientOptions) =>
  Layer.scopedDiscard(Effect.forkScoped(Effect.scoped(runNodeClient(options))))
