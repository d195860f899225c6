// test/transports/sync/SyncServer.test.ts — /crdt-sync between two real Stores over real WebSockets on
// 127.0.0.1: writes on either side reach the other durably with their events; a cut connection reconnects
// and resyncs what both sides wrote during the gap; a y-websocket client attaches read-only; a refused
// handshake exchanges no document byte; the replica survives closing and reopening its file.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Queue, Stream } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import * as decoding from "lib0/decoding"
import * as encoding from "lib0/encoding"
import { WebSocket } from "ws"
import * as syncProtocol from "y-protocols/sync"
import * as Y from "yjs"
import { NodeId } from "../../../src/domain/ExecutionState.js"
import { answerChallenge, makeNodeIdentity, nodeKeyPath } from "../../../src/layers/NodeKeys.js"
import { refusedCloseCode } from "../../../src/protocol/nodeHandshake.js"
import { scopedTempDir } from "../../support/tempDir.js"
import { eventWhere, openNode, startMain, startWorker, statusWhere } from "./syncHarness.js"

const story = (name: string) => ({ kind: "story" as const, name, content: `---\nname: ${name}\n---\n` })

/** A raw WebSocket, closed when the scope closes; every frame it receives is kept and queued. */
const rawSocket = (url: string) =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<string | Uint8Array>()
    const frames: Array<string | Uint8Array> = []
    const { ws, closed } = yield* Effect.acquireRelease(
      Effect.async<{ ws: WebSocket; closed: Promise<number> }>((resume) => {
        const ws = new WebSocket(url)
        const closed = new Promise<number>((done) => ws.on("close", (code) => done(code)))
        ws.on("message", (data, isBinary) => {
          const frame = isBinary ? new Uint8Array(data as Buffer) : (data as Buffer).toString("utf8")
          frames.push(frame)
          Queue.unsafeOffer(queue, frame)
        })
        ws.once("open", () => resume(Effect.succeed({ ws, closed })))
        ws.once("error", (e) => resume(Effect.die(e)))
      }),
      ({ ws }) => Effect.sync(() => ws.terminate()),
    )
    const next = Queue.take(queue).pipe(
      Effect.timeoutFail({ duration: 5_000, onTimeout: () => new Error("no frame") }),
    )
    return { ws, frames, closed, next }
  })

/** Lines of a child's stdout as they come, queued. */
const lines = (child: ChildProcess) =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<string>()
    let rest = ""
    child.stdout?.on("data", (chunk: Buffer) => {
      const parts = (rest + chunk.toString("utf8")).split("\n")
      rest = parts.pop() ?? ""
      for (const line of parts) Queue.unsafeOffer(queue, line)
    })
    return queue
  })

describe("/crdt-sync", () => {
  it.scopedLive(
    "a worker killed -9 while updates stream in keeps every one it acknowledged",
    () =>
      Effect.gen(function* () {
        const main = yield* startMain(yield* scopedTempDir)
        const workerRoot = yield* scopedTempDir
        for (let n = 0; n < 5; n++) yield* main.store.create(story(`Before ${n}`))
        const token = yield* main.token()
        const child = yield* Effect.acquireRelease(
          Effect.sync(() =>
            spawn(
              process.execPath,
              ["--import", "tsx", "test/transports/sync/workerProcess.ts", workerRoot, main.url, token],
              { stdio: ["ignore", "pipe", "inherit"] },
            ),
          ),
          (c) => Effect.sync(() => c.kill("SIGKILL")),
        )
        const acked = new Set<string>()
        const out = yield* lines(child)
        const take = Effect.map(
          Queue.take(out).pipe(
            Effect.timeoutFail({ duration: 20_000, onTimeout: () => new Error("no line") }),
          ),
          (line) => {
            if (line.startsWith("got ")) acked.add(line.slice(4))
          },
        )
        while (acked.size < 5) yield* take
        // Stream more while it runs, and kill it mid-stream.
        const streaming = yield* Effect.fork(
          Effect.forEach(
            Array.from({ length: 200 }, (_, n) => n),
            (n) => main.store.create(story(`During ${n}`)),
            {
              discard: true,
            },
          ),
        )
        while (acked.size < 40) yield* take
        child.kill("SIGKILL")
        yield* Effect.promise(() => new Promise((done) => child.once("exit", done)))
        yield* Fiber.join(streaming)
        // Every item it acknowledged is in its file; nothing it held is lost.
        const kept = yield* Effect.scoped(Effect.flatMap(openNode(workerRoot), ({ store }) => store.list))
        const ids = new Set(kept.items.map((i) => i.id as string))
        expect([...acked].filter((id) => !ids.has(id))).toEqual([])
        expect(kept.errors).toEqual([])
        expect(acked.size).toBeGreaterThanOrEqual(40)
      }),
    60_000,
  )

  it.scopedLive("a write on either side reaches the other durably and fires its events there", () =>
    Effect.gen(function* () {
      const main = yield* startMain(yield* scopedTempDir)
      const workerRoot = yield* scopedTempDir
      const workerDb = join(workerRoot, ".huskies", "huskies.db")
      const fromMain = yield* main.store.create(story("Filed on main"))
      const token = yield* main.token()
      const synced = yield* Effect.scoped(
        Effect.gen(function* () {
          const worker = yield* startWorker(workerRoot, main.url, { joinToken: token, label: "box-2" })
          const workerEvents = yield* worker.store.subscribe
          const mainEvents = yield* main.store.subscribe
          const status = yield* statusWhere(worker.peer, (s) => s.connected && s.lastSyncAt !== undefined)
          expect(status.ticket).toMatch(/^[A-Za-z0-9_-]+$/)
          expect(status.role).toBe("worker")
          expect((yield* worker.store.get(fromMain.id)).stage._tag).toBe("Backlog")

          // main -> worker, live: a move fires ItemChanged (Replicated) on the worker.
          yield* main.store.apply(fromMain.id, { _tag: "Start", at: 100 })
          const moved = yield* eventWhere(workerEvents, (e) => e._tag === "ItemChanged")
          expect(moved._tag === "ItemChanged" && [moved.before.stage._tag, moved.after.stage._tag]).toEqual([
            "Backlog",
            "Coding",
          ])

          // worker -> main: its write is applied on main like a local one.
          const fromWorker = yield* worker.store.create(story("Filed on the worker"))
          const created = yield* eventWhere(
            mainEvents,
            (e) => e._tag === "ItemCreated" && e.item.id === fromWorker.id,
          )
          expect(created._tag).toBe("ItemCreated")
          expect(yield* main.store.content(fromWorker.id)).toBe("---\nname: Filed on the worker\n---\n")
          const online = yield* main.server.online
          expect(online.map((p) => [p.node, p.label, p.role])).toEqual([
            [worker.store.nodeId, "box-2", "worker"],
          ])
          // Awareness: each side sees who is online, as each says it is.
          const seen = (states: ReadonlyArray<Record<string, unknown>>) =>
            states.map((s) => `${String(s["role"])}:${String(s["label"])}`).sort()
          const everyone = ["main:" + main.store.nodeId, "worker:box-2"].sort()
          expect(seen(yield* main.server.presence)).toEqual(everyone)
          expect(seen(yield* worker.peer.presence)).toEqual(everyone)
          return fromWorker.id
        }),
      )
      // The worker's replica survives its file being closed and reopened, without the main node.
      const reopened = yield* Effect.scoped(
        Effect.flatMap(openNode(workerRoot, workerDb), ({ store }) =>
          Effect.all([store.get(fromMain.id), store.get(synced)]),
        ),
      )
      expect(reopened.map((i) => i.stage._tag)).toEqual(["Coding", "Backlog"])
    }),
  )

  it.scopedLive("a cut connection reconnects and resyncs what both sides wrote during the gap", () =>
    Effect.gen(function* () {
      const main = yield* startMain(yield* scopedTempDir, { idleMillis: 2_000, keepAliveMillis: 200 })
      const worker = yield* startWorker(yield* scopedTempDir, main.url, {
        joinToken: yield* main.token(),
        // Back after 0.5 to 1 s: long enough for the writes below to land in the gap.
        backoffMillis: { first: 1_000, max: 1_000 },
      })
      yield* statusWhere(worker.peer, (s) => s.connected && s.lastSyncAt !== undefined)
      const mainEvents = yield* main.store.subscribe
      const workerEvents = yield* worker.store.subscribe

      // Cut, then write on both sides before the worker is back.
      const before = (yield* worker.peer.status).connectedAt
      expect(yield* main.cut).toBe(1)
      const gap = yield* statusWhere(worker.peer, (s) => !s.connected)
      // The ticket for /rpc lives only as long as the sync connection that got it.
      expect(gap.ticket).toBeUndefined()
      const onMain = yield* main.store.create(story("During the gap, main"))
      const onWorker = yield* worker.store.create(story("During the gap, worker"))
      // Its write waits for the resync, and its status says since when.
      yield* statusWhere(worker.peer, (s) => !s.connected && s.unsentSince !== undefined)

      yield* statusWhere(worker.peer, (s) => s.connected && s.connectedAt !== before)
      yield* eventWhere(mainEvents, (e) => e._tag === "ItemCreated" && e.item.id === onWorker.id)
      yield* eventWhere(workerEvents, (e) => e._tag === "ItemCreated" && e.item.id === onMain.id)
      expect((yield* worker.peer.status).unsentSince).toBeUndefined()
      const ids = (list: { items: ReadonlyArray<{ id: string }> }) => list.items.map((i) => i.id).sort()
      expect(ids(yield* main.store.list)).toEqual(ids(yield* worker.store.list))
      expect(ids(yield* main.store.list)).toHaveLength(2)
      expect(yield* main.store.diff()).toEqual(yield* worker.store.diff())
    }),
  )

  it.scopedLive("a worker's write reaches the other workers through the main node", () =>
    Effect.gen(function* () {
      const main = yield* startMain(yield* scopedTempDir)
      const one = yield* startWorker(yield* scopedTempDir, main.url, { joinToken: yield* main.token() })
      const two = yield* startWorker(yield* scopedTempDir, main.url, { joinToken: yield* main.token() })
      yield* statusWhere(one.peer, (s) => s.connected && s.lastSyncAt !== undefined)
      yield* statusWhere(two.peer, (s) => s.connected && s.lastSyncAt !== undefined)
      const twoEvents = yield* two.store.subscribe
      const item = yield* one.store.create(story("From worker one"))
      yield* eventWhere(twoEvents, (e) => e._tag === "ItemCreated" && e.item.id === item.id)
      yield* one.store.apply(item.id, { _tag: "Start", at: 7 })
      const moved = yield* eventWhere(twoEvents, (e) => e._tag === "ItemChanged" && e.after.id === item.id)
      // Relayed by the main node: the change names the main node as the peer it came from.
      expect(moved._tag === "ItemChanged" && moved.event).toEqual({
        _tag: "Replicated",
        from: main.store.nodeId,
      })
      expect((yield* main.store.get(item.id)).stage._tag).toBe("Coding")
    }),
  )

  it.scopedLive("a y-websocket client attaches read-only: it gets the document, its writes are dropped", () =>
    Effect.gen(function* () {
      const main = yield* startMain(yield* scopedTempDir)
      const item = yield* main.store.create(story("Visible to viewers"))
      const viewer = yield* rawSocket(`${main.url}/crdt-sync`)
      const doc = new Y.Doc()
      // As y-websocket does on open: send sync step 1, answer the server's step 1, apply its step 2.
      const send = (write: (e: encoding.Encoder) => void) => {
        const encoder = encoding.createEncoder()
        write(encoder)
        viewer.ws.send(encoding.toUint8Array(encoder))
      }
      send((e) => {
        encoding.writeVarUint(e, 0)
        syncProtocol.writeSyncStep1(e, doc)
      })
      /** Handles the next frame as y-websocket does; returns the sync message type it carried. */
      const handleNext = Effect.gen(function* () {
        const frame = yield* viewer.next
        if (typeof frame === "string") return -1
        const decoder = decoding.createDecoder(frame)
        if (decoding.readVarUint(decoder) !== 0) return -1
        const reply = encoding.createEncoder()
        encoding.writeVarUint(reply, 0)
        const type = syncProtocol.readSyncMessage(decoder, reply, doc, "server")
        if (encoding.length(reply) > 1) viewer.ws.send(encoding.toUint8Array(reply))
        return type
      })
      while (!doc.getMap("items").has(item.id)) yield* handleNext
      expect(doc.getMap("items").has(item.id)).toBe(true)

      // Its own write goes out as an update, as y-websocket sends it; the main node drops it.
      const before = yield* main.store.stateVector
      const mainFeed = yield* main.store.subscribeUpdates
      doc.on("update", (update: Uint8Array, origin: unknown) => {
        if (origin === "server") return
        send((e) => {
          encoding.writeVarUint(e, 0)
          syncProtocol.writeUpdate(e, update)
        })
      })
      doc.getMap("items").delete(item.id)
      // The server reads frames in order: once it answers this step 1, it has handled the update before it.
      send((e) => {
        encoding.writeVarUint(e, 0)
        syncProtocol.writeSyncStep1(e, doc)
      })
      let type = -1
      while (type !== syncProtocol.messageYjsSyncStep2) type = yield* handleNext
      expect(yield* main.store.stateVector).toEqual(before)
      expect((yield* main.store.get(item.id)).id).toBe(item.id)
      expect(Option.isNone(yield* Queue.poll(mainFeed))).toBe(true)
    }),
  )

  it.scopedLive("a refused handshake exchanges no document byte and changes nothing on the main node", () =>
    Effect.gen(function* () {
      const main = yield* startMain(yield* scopedTempDir)
      yield* main.store.create(story("Secret"))
      const before = yield* main.store.stateVector
      const stranger = yield* makeNodeIdentity(
        nodeKeyPath(yield* scopedTempDir),
        NodeId.make("node-stranger"),
      )
      const raw = yield* rawSocket(`${main.url}/crdt-sync?peer=node`)
      const challenge = yield* raw.next
      const hello = answerChallenge(stranger, JSON.parse(String(challenge)), { joinToken: "hkj_not-a-token" })
      raw.ws.send(JSON.stringify(hello))
      const code = yield* Effect.promise(() => raw.closed)
      expect(code).toBe(refusedCloseCode)
      expect(raw.frames.every((f) => typeof f === "string")).toBe(true)
      const refusal = JSON.parse(raw.frames.at(-1) as string)
      expect(refusal._tag).toBe("Refusal")
      expect(yield* main.store.stateVector).toEqual(before)
      expect(yield* main.server.online).toEqual([])
    }),
  )

  it.scopedLive("a revoked node is cut off at once and stops; a read-only node's writes never land", () =>
    Effect.gen(function* () {
      const main = yield* startMain(yield* scopedTempDir)
      const viewer = yield* startWorker(yield* scopedTempDir, main.url, {
        joinToken: yield* main.token("read-only"),
      })
      const worker = yield* startWorker(yield* scopedTempDir, main.url, { joinToken: yield* main.token() })
      yield* statusWhere(viewer.peer, (s) => s.connected && s.lastSyncAt !== undefined)
      yield* statusWhere(worker.peer, (s) => s.connected && s.lastSyncAt !== undefined)
      expect((yield* viewer.peer.status).role).toBe("read-only")

      // The read-only node replicates main's writes; its own never reach main (nor, through main, the worker).
      const viewerEvents = yield* viewer.store.subscribe
      const fromMain = yield* main.store.create(story("For everyone"))
      yield* eventWhere(viewerEvents, (e) => e._tag === "ItemCreated" && e.item.id === fromMain.id)
      const before = yield* main.store.stateVector
      yield* viewer.store.create(story("From a read-only node"))
      // A later write of main reaching the viewer shows the viewer's earlier frames were handled by then.
      yield* main.store.apply(fromMain.id, { _tag: "Start", at: 5 })
      yield* eventWhere(viewerEvents, (e) => e._tag === "ItemChanged" && e.after.id === fromMain.id)
      expect((yield* main.store.list).items.map((i) => i.id)).toEqual([fromMain.id])
      expect(yield* main.store.stateVector).not.toEqual(before)

      // Revoked: its connection is closed with a Refusal and its actor stops, without retrying.
      yield* main.revoke(worker.store.nodeId)
      const status = yield* statusWhere(worker.peer, (s) => s.refused !== undefined)
      expect(status.refused?.reason).toBe("revoked")
      expect(status.connected).toBe(false)
      const left = yield* main.server.onlineChanges.pipe(
        Stream.filter((peers) => peers.length === 1),
        Stream.runHead,
        Effect.timeout("5 seconds"),
      )
      expect(Option.map(left, (peers) => peers.map((p) => p.node))).toEqual(
        Option.some([viewer.store.nodeId]),
      )
    }),
  )

  it.scopedLive("a worker refused by the main node stops and says why", () =>
    Effect.gen(function* () {
      const main = yield* startMain(yield* scopedTempDir)
      const worker = yield* startWorker(yield* scopedTempDir, main.url, { joinToken: "hkj_made-up" })
      const status = yield* statusWhere(worker.peer, (s) => s.refused !== undefined)
      expect(status.refused?.reason).toBe("token-unknown")
      expect(status.connected).toBe(false)
    }),
  )
})
