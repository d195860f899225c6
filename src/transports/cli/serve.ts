// src/transports/cli/serve.ts — `huskies serve [path]`: opens the project's store, starts the root of the
// supervision tree (rootSupervisor.ts) and everything beneath it, and serves HTTP until interrupted (Ctrl-C /
// SIGTERM) or until the root gives up on a crashing child; either way it releases everything it started.
import { Console, Context, Effect, Layer, Redacted, Schema } from "effect"
import { existsSync, statSync } from "node:fs"
import { resolve } from "node:path"
import { DecisionsLive, DecisionsWorkerLive } from "../../actors/Decisions.js"
import { MergeQueueLive } from "../../actors/MergeQueue.js"
import { type Pipeline, PipelineLive } from "../../actors/Pipeline.js"
import { type ActivityView, PipelineView, ViewsLive } from "../../actors/PipelineView.js"
import { AgentsLive, type SchedulerOptions } from "../../actors/Scheduler.js"
import { describeEscalation, logTree, ServeTree, ServeTreeLive } from "../../actors/rootSupervisor.js"
import { Git } from "../../layers/Git.js"
import { HuskiesConfig, HuskiesConfigLive } from "../../layers/HuskiesConfig.js"
import { ServerUrl, ServerUrlLive } from "../../layers/ServerUrl.js"
import { TestRunsLive } from "../../layers/TestRuns.js"
import type { Durability } from "../../layers/Persistence.js"
import { type Project, ProjectLive, projectPaths } from "../../layers/Project.js"
import { ProjectLock, ProjectLockLive } from "../../layers/ProjectLock.js"
import { type Store, StoreOnDisk } from "../../layers/Store.js"
import { withComponent } from "../../layers/Logs.js"
import { ChatAssistantLive } from "../../actors/chatAgents.js"
import { agentToken } from "../http/agentToken.js"
import type { AccessSettings, UpgradeRoute } from "../http/AccessGuard.js"
import { HttpLive } from "../http/HttpApp.js"
import { McpEndpointLive } from "../mcp/McpEndpoint.js"
import { UiRpcRoute, UiRpcRouteLive, uiRpcPath } from "../rpc/UiRpcServer.js"
import { NodeRpcRoute, NodeRpcRouteLive, nodeRpcPath } from "../rpc/nodeRpcServer.js"
import { SyncServer, SyncServerLive, syncPath } from "../sync/SyncServer.js"
import { MainNodeTrustLive } from "../../layers/NodeTrust.js"
import { ReplicaLive } from "../../layers/Replica.js"
import { RemoteNodesLive } from "../../layers/RemoteNodes.js"
import { PeerBarrierLive } from "../../layers/PeerBarrier.js"
import { toolRegistry } from "../tools/registry.js"
import { chatLayer } from "../chat/chatLayer.js"
import { reachableUrl } from "./mcpConfig.js"
import { tokenEnvVar } from "./serverAccess.js"

export class ProjectNotInitialised extends Schema.TaggedError<ProjectNotInitialised>()(
  "ProjectNotInitialised",
  {
    root: Schema.String,
    detail: Schema.String,
  },
) {
  override get message(): string {
    return `${this.root}: ${this.detail}`
  }
}

export interface ServeSettings {
  readonly port: number
  readonly host: string
  readonly durability: Durability
  /** Start items by themselves when dependencies are met and an agent is free (default on). */
  readonly autoAssign?: boolean
  /** Merge items in Merge into the base branch (default on; tests of the earlier stages turn it off). */
  readonly mergeQueue?: boolean
  /** Start with an empty store where one existed before (`--start-empty`): see storeFile.ts. */
  readonly startEmpty?: boolean
  /** Variables added to every agent's environment (tests point agent CLIs at a local model API). */
  readonly agentEnv?: Readonly<Record<string, string>>
  /** Allowed hosts and the token in force (resolveServerAccess); a non-loopback bind needs the token. */
  readonly access?: AccessSettings
  /** The built web app to serve at / (default: the package's dist/web; tests bring their own). */
  readonly webRoot?: string
  /** The project's config service, when the caller built it already (`serve` reads the bind settings
   * from it first); by default the server builds its own. */
  readonly config?: Layer.Layer<HuskiesConfig>
  /** A worker node (`huskies agent`, agentMode.ts): no chat and no merge queue here. */
  readonly worker?: WorkerSettings
}

/** What a worker node runs differently: the roles its scheduler takes, and its links to the main node. */
export interface WorkerSettings {
  readonly scheduler: NonNullable<SchedulerOptions["worker"]>
  /**
   * The sync peer, beneath the scheduler: it outlives the agents when the worker stops, so the claims they
   * give back reach the main node before the connection closes. Its loop is the tree's child `sync-peer`.
   */
  readonly sync: Layer.Layer<never, never, Store>
  /** Runs beside the server in place of chat: the node RPC client. */
  readonly attach: Layer.Layer<never, never, WorkerEnv>
}

/** What a worker's links to the main node may use of the server. */
export type WorkerEnv = Store | Pipeline | PipelineView | ActivityView | Project | HuskiesConfig

export const checkProject = (path: string) =>
  Effect.suspend(() => {
    const root = resolve(path)
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      return Effect.fail(new ProjectNotInitialised({ root, detail: "no such directory" }))
    }
    if (!existsSync(projectPaths(root).huskiesDir)) {
      return Effect.fail(
        new ProjectNotInitialised({
          root,
          detail: `no .huskies/ here: run \`huskies init ${path}\` first to set the project up`,
        }),
      )
    }
    return Effect.succeed(root)
  })

/**
 * Everything one project's server runs: store, MCP endpoint and HTTP listener. `onListening` gets
 * the bound URL (tests use it with port 0).
 */
export const serverLayer = (
  root: string,
  settings: ServeSettings,
  onListening: (url: string) => Effect.Effect<void> = () => Effect.void,
) => {
  const paths = projectPaths(root)
  // The lock comes first: a second server must not open the store, let alone reap the first one's agents.
  const base = Layer.mergeAll(
    StoreOnDisk(paths.dbPath, settings.durability, { startEmpty: settings.startEmpty ?? false }),
    ProjectLive(root, Date.now()),
    Git.Default,
    TestRunsLive,
    ServerUrlLive,
    RemoteNodesLive,
    // One per server: the sync sessions register their round trips, the claim keeper confirms with them.
    PeerBarrierLive,
    settings.config ?? HuskiesConfigLive(root),
    // The root of the supervision tree: the layers below start their long-lived parts under it.
    ServeTreeLive(),
  ).pipe(Layer.provideMerge(ProjectLockLive(root)))
  // Agents reach /mcp with the token in force: their MCP configs name HUSKIES_TOKEN, set here to the
  // agents' own token, good for /mcp alone and refused by the tools for people (agentToken.ts).
  const token = settings.access?.token
  const agentEnv =
    token === undefined
      ? settings.agentEnv
      : { ...settings.agentEnv, [tokenEnvVar]: agentToken(Redacted.value(token)) }
  const services = Layer.provideMerge(
    AgentsLive({
      autoAssign: settings.autoAssign ?? true,
      ...(settings.worker === undefined ? {} : { worker: settings.worker.scheduler }),
      ...(agentEnv === undefined ? {} : { agentEnv }),
    }),
    // Decisions before the actors: pending requests of a previous run are settled before any agent asks.
    Layer.provideMerge(
      settings.worker === undefined ? DecisionsLive : DecisionsWorkerLive,
      Layer.provideMerge(settings.worker === undefined ? Layer.empty : settings.worker.sync, base),
    ),
  )
  const withMerges =
    settings.mergeQueue === false || settings.worker !== undefined
      ? services
      : Layer.provideMerge(MergeQueueLive, services)
  // Transports get the command layer and the read-only view, built over the Store and the actors.
  const commands = Layer.merge(PipelineLive, ViewsLive).pipe(Layer.provideMerge(withMerges))
  const mcp = McpEndpointLive(toolRegistry).pipe(Layer.provide(commands))
  const listen = {
    port: settings.port,
    host: settings.host,
    ...(settings.access === undefined ? {} : { access: settings.access }),
    ...(settings.webRoot === undefined ? {} : { webRoot: settings.webRoot }),
  }
  // The web UI's live API: its route is handed to the listener, behind the same access guard.
  const rpc = UiRpcRouteLive().pipe(Layer.provide(commands))
  const http = (upgrades: ReadonlyMap<string, UpgradeRoute>) =>
    HttpLive({ ...listen, upgrades }, (url) =>
      Effect.gen(function* () {
        const store = yield* PipelineView
        const { items, errors } = yield* store.list
        yield* Effect.logInfo(`serving ${root}`).pipe(
          Effect.annotateLogs({
            url,
            nodeId: store.nodeId,
            items: items.length,
            projectionErrors: errors.length,
          }),
        )
        for (const e of errors) yield* Effect.logWarning(e.message)
        yield* (yield* ServerUrl).set(reachableUrl(url))
        yield* (yield* ProjectLock).recordListening(url)
        yield* logTree
        yield* onListening(url)
      }).pipe(withComponent("server")),
    )
  // The worker nodes' RPCs (/rpc/node): the same server code, their own group and route.
  const nodeRpc = NodeRpcRouteLive.pipe(Layer.provide(commands))
  // The main node's /crdt-sync: nodes it admits (nodes.db, its node key) replicate the document. A worker
  // serves none: it syncs with the main node only. The admission is the server's one, for /crdt-sync, the
  // guard's tickets and /rpc/node's revocations alike (and tests reach it in the built context).
  const trust = MainNodeTrustLive(root).pipe(Layer.provide(base))
  // (Provided twice, built once: a layer is shared by reference within one build.) It starts `sync` in the
  // tree, each peer's connection a child of it that ends alone (the peer dials again).
  const sync = SyncServerLive().pipe(
    Layer.provide(ReplicaLive),
    Layer.provide(commands),
    Layer.provide(trust),
  )
  const app = Layer.unwrapEffect(
    Effect.gen(function* () {
      const ui = yield* UiRpcRoute
      const node = yield* NodeRpcRoute
      const replica = yield* Effect.serviceOption(SyncServer)
      return http(
        new Map([
          [uiRpcPath, ui.route],
          [nodeRpcPath, node.route],
          ...(replica._tag === "Some" ? [[syncPath, replica.value.route] as const] : []),
        ]),
      )
    }),
  )
  // The assistant (a chat agent per conversation) is there for the doors to find, with the agents' token.
  const chatEnv = Layer.provideMerge(ChatAssistantLive({ root, agentEnv }), commands)
  // provideMerge: tests reach the running server's Store and Agents through the built context.
  // Chat (bot.toml) beside the listener: its doors fail and restart on their own, never the server.
  const chat =
    settings.worker === undefined
      ? underTree("chat", chatLayer(root)).pipe(Layer.provide(chatEnv))
      : underTree("node-link", settings.worker.attach).pipe(Layer.provide(commands))
  return Layer.merge(app, chat).pipe(
    Layer.provide(
      settings.worker === undefined ? Layer.mergeAll(rpc, nodeRpc, sync) : Layer.merge(rpc, nodeRpc),
    ),
    Layer.provideMerge(
      settings.worker === undefined ? Layer.mergeAll(commands, mcp, trust) : Layer.merge(commands, mcp),
    ),
  )
}

/** Builds `part` in a child `key` of serve's tree, for as long as the layer that uses this lives. */
const underTree = <E, R>(key: string, part: Layer.Layer<never, E, R>) =>
  Layer.scopedDiscard(Effect.flatMap(ServeTree, (tree) => tree.layer(key, part)))

/**
 * Runs a server's layers until the fiber is interrupted (Ctrl-C, SIGTERM), or until the root of its tree
 * gives up on a child that keeps crashing: then it logs why, closes everything as a SIGTERM would, and fails
 * with the SupervisorEscalation (the process exits non-zero, for whoever runs it to restart or look).
 */
export const runServer = <E, R>(layer: Layer.Layer<ServeTree, E, R>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const tree = Context.get(yield* Layer.build(layer), ServeTree)
      yield* tree.await.pipe(Effect.tapError((e) => Effect.logError(describeEscalation(e))))
      // The root ends cleanly only when its scope closes, which interrupts this fiber first.
      return yield* Effect.never
    }),
  )

/** Runs the server for the project at `root` (runServer). */
export const serveProject = (root: string, settings: ServeSettings) =>
  runServer(
    // One plain line on stdout so scripts (and tests) can find an ephemeral port.
    serverLayer(root, settings, (url) => Console.log(`huskies listening on ${url}`)),
  )
