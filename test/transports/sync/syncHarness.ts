// test/transports/sync/syncHarness.ts — main node and workers in one process over WebSockets on 127.0.0.1:
// real Stores on temp SQLite files, node keys, nodes.db, /crdt-sync behind a listener a test can cut; each
// node under a supervision tree of its own, as serve runs them (its connections children of `sync`/`sync-peer`).
// Used by the sync tests (the sync bench, built without test/, starts its own nodes).
import { Context, Effect, Layer, Option, Queue, Stream, type Scope } from "effect"
import { createServer, type Server } from "node:http"
import type { Duplex } from "node:stream"
import { join } from "node:path"
import { ServeTree, ServeTreeLive } from "../../../src/actors/rootSupervisor.js"
import { NodeId } from "../../../src/domain/ExecutionState.js"
import { makeNodeIdentity, nodeKeyPath } from "../../../src/layers/NodeKeys.js"
import { NodeAdmissionLive } from "../../../src/layers/NodeTrust.js"
import { nodesDbPath, openTrustDb } from "../../../src/layers/nodeTrustDb.js"
import { ReplicaLive } from "../../../src/layers/Replica.js"
import { Store, type StoreEvent, type StoreShape } from "../../../src/layers/Store.js"
import { NodeIdentity, type NodeRole } from "../../../src/protocol/nodeHandshake.js"
import {
  PeerActor,
  PeerActorLive,
  type PeerActorOptions,
  type PeerStatus,
} from "../../../src/transports/sync/PeerActor.js"
import {
  SyncServer,
  SyncServerLive,
  type SyncServerOptions,
} from "../../../src/transports/sync/SyncServer.js"
import { storeLayer } from "../../support/store.js"
import { listenScoped } from "../../support/listen.js"

const hour = 60 * 60 * 1000

/** A Store on `dbPath` with its NodeIdentity (key under `root`), open until the scope closes. */
export const openNode = (root: string, dbPath = join(root, ".huskies", "huskies.db")) =>
  Effect.gen(function* () {
    const ctx = yield* Layer.build(storeLayer(dbPath))
    const store = Context.get(ctx, Store)
    const identity = yield* makeNodeIdentity(nodeKeyPath(root), NodeId.make(store.nodeId))
    return { root, dbPath, store, identity, ctx }
  })

export interface MainNode {
  readonly store: StoreShape
  readonly url: string
  readonly server: Context.Tag.Service<SyncServer>
  /** The main node's supervision tree: `sync` and its connections. */
  readonly tree: Context.Tag.Service<ServeTree>
  /** A one-time join token for a node of `role`. */
  readonly token: (role?: NodeRole) => Effect.Effect<string, unknown>
  /** Revokes a node in nodes.db, as `huskies node revoke` does from another process. */
  readonly revoke: (node: string) => Effect.Effect<unknown, unknown>
  /** Destroys every open /crdt-sync socket (a network cut); the listener stays up. */
  readonly cut: Effect.Effect<number>
}

export const startMain = (root: string, options: SyncServerOptions = {}) =>
  Effect.gen(function* () {
    const node = yield* openNode(root)
    const ctx = yield* Layer.build(
      SyncServerLive(options).pipe(
        Layer.provideMerge(ServeTreeLive()),
        Layer.provide(ReplicaLive),
        Layer.provide(NodeAdmissionLive(nodesDbPath(root), { pollEvery: "50 millis" })),
        Layer.provide(Layer.succeed(NodeIdentity, node.identity)),
        Layer.provide(Layer.succeed(Store, node.store)),
      ),
    )
    const server = Context.get(ctx, SyncServer)
    const sockets = new Set<Duplex>()
    const http: Server = createServer((_, res) => res.writeHead(404).end())
    http.on("upgrade", (req, socket, head) => {
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
      server.route(req, socket, head)
    })
    const port = yield* listenScoped(http, sockets)
    const trust = yield* openTrustDb(nodesDbPath(root))
    return {
      store: node.store,
      url: `ws://127.0.0.1:${port}`,
      server,
      tree: Context.get(ctx, ServeTree),
      token: (role: NodeRole = "worker") =>
        Effect.map(trust.createToken(role, Date.now(), hour), (made) => made.token),
      revoke: (node: string) => trust.revoke(node, Date.now()),
      cut: Effect.sync(() => {
        const n = sockets.size
        for (const socket of sockets) socket.destroy()
        return n
      }),
    } satisfies MainNode
  })

export interface WorkerNode {
  readonly store: StoreShape
  readonly peer: Context.Tag.Service<PeerActor>
  /** The worker's supervision tree: its PeerActor's loop is `sync-peer`. */
  readonly tree: Context.Tag.Service<ServeTree>
}

/** A worker on `root` dialing `main` with `options` (a token is needed the first time). */
export const startWorker = (
  root: string,
  rendezvous: string,
  options: Omit<PeerActorOptions, "rendezvous"> = {},
  dbPath?: string,
): Effect.Effect<WorkerNode, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const node = yield* openNode(root, dbPath)
    const ctx = yield* Layer.build(
      PeerActorLive({ backoffMillis: { first: 50, max: 400 }, ...options, rendezvous }).pipe(
        Layer.provideMerge(ServeTreeLive()),
        Layer.provide(ReplicaLive),
        Layer.provide(Layer.succeed(NodeIdentity, node.identity)),
        Layer.provide(Layer.succeed(Store, node.store)),
      ),
    )
    return { store: node.store, peer: Context.get(ctx, PeerActor), tree: Context.get(ctx, ServeTree) }
  })

/** Waits (by events, at most `millis`) until the peer's status satisfies `ok`. */
export const statusWhere = (peer: WorkerNode["peer"], ok: (s: PeerStatus) => boolean, millis = 10_000) =>
  peer.changes.changes.pipe(
    Stream.filter(ok),
    Stream.runHead,
    Effect.map(Option.getOrThrow),
    Effect.timeoutFail({ duration: millis, onTimeout: () => new Error("peer status never matched") }),
  )

/** Waits (by events, at most `millis`) for an event of `events` that satisfies `ok`. */
export const eventWhere = (
  events: Queue.Dequeue<StoreEvent>,
  ok: (e: StoreEvent) => boolean,
  millis = 10_000,
) =>
  Effect.gen(function* () {
    for (;;) {
      const event = yield* Queue.take(events)
      if (ok(event)) return event
    }
  }).pipe(Effect.timeoutFail({ duration: millis, onTimeout: () => new Error("event never came") }))
