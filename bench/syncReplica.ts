// bench/syncReplica.ts — replication over /crdt-sync on loopback, main node and worker in one process with
// real Stores on SQLite files and a real handshake: a fresh worker's initial sync of 10,000 items (vs the
// same bytes through in-memory Yjs), and update propagation main -> worker, one write at a time, p50/p99
// (vs the main node's own durable write).
import { Context, Effect, Layer, Logger, LogLevel, Option, Queue, Stream } from "effect"
import { createServer } from "node:http"
import { join } from "node:path"
import * as Y from "yjs"
import { NodeId } from "../src/domain/ExecutionState.js"
import { makeNodeIdentity, nodeKeyPath } from "../src/layers/NodeKeys.js"
import { NodeAdmissionLive } from "../src/layers/NodeTrust.js"
import { nodesDbPath, openTrustDb } from "../src/layers/nodeTrustDb.js"
import { ReplicaLive } from "../src/layers/Replica.js"
import { Store, StoreOnDisk } from "../src/layers/Store.js"
import { NodeIdentity } from "../src/protocol/nodeHandshake.js"
import { PeerActor, PeerActorLive } from "../src/transports/sync/PeerActor.js"
import { SyncServer, SyncServerLive } from "../src/transports/sync/SyncServer.js"
import { emit, millisSince, peakRssMiB, percentile, scratchDir } from "./measure.js"

const items = Number(process.env["HUSKIES_SYNC_ITEMS"] ?? 10_000)
const writes = Number(process.env["HUSKIES_SYNC_WRITES"] ?? 500)

const node = (root: string) =>
  Effect.gen(function* () {
    const ctx = yield* Layer.build(StoreOnDisk(join(root, ".huskies", "huskies.db")))
    const store = Context.get(ctx, Store)
    const identity = yield* makeNodeIdentity(nodeKeyPath(root), NodeId.make(store.nodeId))
    return { store, identity }
  })

const main = (root: string) =>
  Effect.gen(function* () {
    const { store, identity } = yield* node(root)
    const ctx = yield* Layer.build(
      SyncServerLive().pipe(
        Layer.provide(ReplicaLive),
        Layer.provide(NodeAdmissionLive(nodesDbPath(root))),
        Layer.provide(Layer.succeed(NodeIdentity, identity)),
        Layer.provide(Layer.succeed(Store, store)),
      ),
    )
    const server = Context.get(ctx, SyncServer)
    const http = createServer()
    http.on("upgrade", server.route)
    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        http.listen(0, "127.0.0.1", () => {
          const address = http.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      }),
      () =>
        Effect.sync(() => {
          http.closeAllConnections()
          http.close()
        }),
    )
    const trust = yield* openTrustDb(nodesDbPath(root))
    const token = (yield* trust.createToken("worker", Date.now(), 3_600_000)).token
    return { store, url: `ws://127.0.0.1:${port}`, token }
  })

const story = (n: number) => ({
  kind: "story" as const,
  name: `Item ${n}`,
  content: `---\nname: Item ${n}\n---\n## User Story\nAs a user I want item ${n}.\n`,
})

const program = Effect.gen(function* () {
  const { dir, cleanup } = scratchDir()
  yield* Effect.addFinalizer(() => Effect.sync(cleanup))
  const primary = yield* main(join(dir, "main"))
  const seedStart = process.hrtime.bigint()
  for (let n = 1; n <= items; n++) yield* primary.store.create(story(n))
  const seedMs = millisSince(seedStart)

  // Baseline: the same document through in-memory Yjs (encode on one side, apply on the other).
  const rawStart = process.hrtime.bigint()
  const update = yield* primary.store.diff()
  Y.applyUpdate(new Y.Doc(), update)
  const rawMs = millisSince(rawStart)

  // A fresh worker: from dialing to its replica holding every item, durable.
  const worker = yield* node(join(dir, "worker"))
  const events = yield* worker.store.subscribe
  const syncStart = process.hrtime.bigint()
  const ctx = yield* Layer.build(
    PeerActorLive({ rendezvous: primary.url, joinToken: primary.token }).pipe(
      Layer.provide(ReplicaLive),
      Layer.provide(Layer.succeed(NodeIdentity, worker.identity)),
      Layer.provide(Layer.succeed(Store, worker.store)),
    ),
  )
  const peer = Context.get(ctx, PeerActor)
  yield* peer.changes.changes.pipe(
    Stream.filter((s) => s.lastSyncAt !== undefined),
    Stream.runHead,
  )
  const initialSyncMs = millisSince(syncStart)
  const replicated = (yield* worker.store.list).items.length
  yield* Queue.takeAll(events)

  // Propagation: one write on main at a time, timed to the worker's event for it.
  const target = (yield* primary.store.list).items[0]
  if (target === undefined) return yield* Effect.dieMessage("no items")
  const propagation: Array<number> = []
  const local: Array<number> = []
  for (let n = 0; n < writes; n++) {
    const start = process.hrtime.bigint()
    yield* primary.store.editContent(target.id, { _tag: "Splice", index: 0, deleteCount: 0, insert: "x" })
    local.push(millisSince(start))
    for (;;) {
      const event = yield* Queue.take(events)
      if (event._tag === "ContentChanged" && event.id === target.id) break
    }
    propagation.push(millisSince(start))
  }
  const sortedProp = [...propagation].sort((a, b) => a - b)
  const sortedLocal = [...local].sort((a, b) => a - b)
  const content = yield* worker.store.content(target.id)
  const round = (ms: number) => Math.round(ms * 100) / 100
  emit({
    scenario: "sync",
    metrics: {
      items,
      replicated,
      seedMs: round(seedMs),
      updateBytes: update.length,
      initialSyncMs: round(initialSyncMs),
      rawYjsMs: round(rawMs),
      writes,
      propagationP50Ms: round(percentile(sortedProp, 50)),
      propagationP99Ms: round(percentile(sortedProp, 99)),
      localWriteP50Ms: round(percentile(sortedLocal, 50)),
      localWriteP99Ms: round(percentile(sortedLocal, 99)),
      correct: replicated === items && content.startsWith("x".repeat(writes)),
      connected: Option.isSome(Option.fromNullable((yield* peer.status).connectedAt)),
      peakRssMiB: peakRssMiB(),
    },
  })
})

Effect.runPromise(Effect.scoped(program).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))).then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  },
)
