// test/transports/sync/HistorySync.test.ts — the items' history over /crdt-sync between real Stores over real
// WebSockets on 127.0.0.1: a move made on a worker shows in the main node's history (and another worker's)
// with its reason and who, and the reverse; a worker that was offline catches up both ways; a y-websocket
// client attached read-only is never sent the history.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Queue } from "effect"
import { join } from "node:path"
import { WebSocket } from "ws"
import * as Y from "yjs"
import type { StoryId } from "../../../src/domain/StoryId.js"
import type { StoreEvent, StoreShape } from "../../../src/layers/Store.js"
import { messageHistory } from "../../../src/transports/sync/frames.js"
import { story } from "../../support/store.js"
import { scopedTempDir } from "../../support/tempDir.js"
import { eventWhere, openNode, startMain, startWorker, statusWhere } from "./syncHarness.js"

/** The item's history as [event, reason, by]. */
const shown = (store: StoreShape, id: StoryId) =>
  Effect.map(store.history(id), (entries) => entries.map((e) => [e.event, e.reason, e.by]))

/** The items that have a history on `store`, as it would send them to a new peer. */
const historyKeys = (store: StoreShape) =>
  Effect.map(store.historyDiff(Y.encodeStateVector(new Y.Doc())), (update) => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, update)
    return [...doc.getMap("history").keys()].sort()
  })

/** Waits for the replicated change that brings `id` to `stage` (its history comes before it on the wire). */
const changed = (events: Queue.Dequeue<StoreEvent>, id: StoryId, stage: string) =>
  eventWhere(
    events,
    (e) =>
      e._tag === "ItemChanged" &&
      e.event._tag === "Replicated" &&
      e.after.id === id &&
      e.after.stage._tag === stage,
  )

describe("/crdt-sync: the items' history", () => {
  it.scopedLive(
    "a move on a worker shows in the main node's history and another worker's, and the reverse",
    () =>
      Effect.gen(function* () {
        const main = yield* startMain(yield* scopedTempDir)
        const one = yield* startWorker(yield* scopedTempDir, main.url, { joinToken: yield* main.token() })
        const two = yield* startWorker(yield* scopedTempDir, main.url, { joinToken: yield* main.token() })
        yield* statusWhere(one.peer, (s) => s.connected && s.lastSyncAt !== undefined)
        yield* statusWhere(two.peer, (s) => s.connected && s.lastSyncAt !== undefined)
        const mainEvents = yield* main.store.subscribe
        const oneEvents = yield* one.store.subscribe
        const twoEvents = yield* two.store.subscribe

        const item = yield* main.store.create({ ...story("Add login"), by: "mcp:claude" })
        yield* eventWhere(oneEvents, (e) => e._tag === "ItemCreated" && e.item.id === item.id)
        yield* one.store.apply(item.id, { _tag: "Start", at: 10 }, { by: "server" })
        yield* one.store.apply(
          item.id,
          { _tag: "Block", why: "the API key is missing", at: 11 },
          { by: "agent:coder-1" },
        )
        yield* changed(mainEvents, item.id, "Archived")
        yield* changed(twoEvents, item.id, "Archived")
        const onWorker = [
          ["Created", undefined, "mcp:claude"],
          ["Start", undefined, "server"],
          ["Block", "the API key is missing", "agent:coder-1"],
        ]
        expect(yield* shown(main.store, item.id)).toEqual(onWorker)
        expect(yield* shown(two.store, item.id)).toEqual(onWorker)

        // The reverse: a person unblocks it on the main node, with a reason.
        yield* main.store.apply(item.id, { _tag: "Unblock", at: 12 }, { by: "ui", reason: "key added" })
        yield* changed(oneEvents, item.id, "Backlog")
        const all = [...onWorker, ["Unblock", "key added", "ui"]]
        expect(yield* shown(one.store, item.id)).toEqual(all)
        yield* changed(twoEvents, item.id, "Backlog")
        expect(yield* shown(two.store, item.id)).toEqual(all)
      }),
  )

  it.scopedLive(
    "a worker that was offline catches up both ways, and a delete takes the history everywhere",
    () =>
      Effect.gen(function* () {
        const main = yield* startMain(yield* scopedTempDir)
        const workerRoot = yield* scopedTempDir
        const workerDb = join(workerRoot, ".huskies", "huskies.db")
        const token = yield* main.token()
        const item = yield* main.store.create(story("Long lived"))
        const doomed = yield* main.store.create(story("Doomed"))
        yield* Effect.scoped(
          Effect.gen(function* () {
            const worker = yield* startWorker(workerRoot, main.url, { joinToken: token })
            yield* statusWhere(worker.peer, (s) => s.connected && s.lastSyncAt !== undefined)
            expect((yield* shown(worker.store, item.id)).map(([event]) => event)).toEqual(["Created"])
          }),
        )
        // Apart: the main node moves one item and deletes the other; the worker, on its own, moves the first.
        yield* main.store.apply(item.id, { _tag: "Block", why: "waits for design", at: 20 }, { by: "mcp:x" })
        yield* main.store.delete(doomed.id)
        yield* Effect.scoped(
          Effect.gen(function* () {
            const { store } = yield* openNode(workerRoot, workerDb)
            yield* store.apply(doomed.id, { _tag: "Start", at: 21 }, { by: "server" })
            yield* store.apply(doomed.id, { _tag: "Block", why: "stuck", at: 22 }, { by: "agent:coder-1" })
          }),
        )
        const mainFeed = yield* main.store.subscribeUpdates
        // Back, without a token: the two sides exchange what the other lacks.
        const worker = yield* startWorker(workerRoot, main.url, {})
        yield* statusWhere(worker.peer, (s) => s.connected && s.lastSyncAt !== undefined)
        expect(yield* shown(worker.store, item.id)).toEqual([
          ["Created", undefined, undefined],
          ["Block", "waits for design", "mcp:x"],
        ])
        // The worker's history written apart reaches the main node (where the item's is deleted)...
        for (;;) {
          const committed = yield* Queue.take(mainFeed).pipe(Effect.timeout("10 seconds"))
          if (committed.history !== undefined && committed.origin._tag === "Peer") break
        }
        // ...and both hold the same history, without the deleted item's.
        expect(yield* main.store.historyStateVector).toEqual(yield* worker.store.historyStateVector)
        expect(yield* historyKeys(main.store)).toEqual([item.id])
        expect(yield* historyKeys(worker.store)).toEqual([item.id])
      }),
  )

  it.scopedLive("a y-websocket client attached read-only is never sent the history", () =>
    Effect.gen(function* () {
      const main = yield* startMain(yield* scopedTempDir)
      const item = yield* main.store.create(story("Watched"))
      const frames = yield* Queue.unbounded<Uint8Array>()
      const viewer = yield* Effect.acquireRelease(
        Effect.async<WebSocket>((resume) => {
          const ws = new WebSocket(`${main.url}/crdt-sync`)
          ws.on("message", (data, isBinary) => {
            if (isBinary) Queue.unsafeOffer(frames, new Uint8Array(data as Buffer))
          })
          ws.once("open", () => resume(Effect.succeed(ws)))
          ws.once("error", (e) => resume(Effect.die(e)))
        }),
        (ws) => Effect.sync(() => ws.terminate()),
      )
      // Its sync step 1 (an empty state vector), as y-websocket sends on open.
      viewer.send(new Uint8Array([0, 0, 1, 0]))
      // A move with an entry, then a node that asks for the history: only the node is sent it.
      yield* main.store.apply(item.id, { _tag: "Start", at: 1 }, { by: "ui" })
      const worker = yield* startWorker(yield* scopedTempDir, main.url, { joinToken: yield* main.token() })
      yield* statusWhere(worker.peer, (s) => s.connected && s.lastSyncAt !== undefined)
      expect((yield* shown(worker.store, item.id)).map(([event]) => event)).toEqual(["Created", "Start"])
      yield* main.store.apply(item.id, { _tag: "Block", why: "later", at: 2 })
      // A commit's history would go out before its update: every frame up to the Block's update is checked.
      const seen: Array<number> = []
      for (let updates = 0; updates < 2;) {
        const frame = yield* Queue.take(frames).pipe(Effect.timeout("10 seconds"))
        seen.push(frame[0]!)
        if (frame[0] === 0 && frame[1] === 2) updates++
      }
      expect(seen.filter((type) => type === messageHistory)).toEqual([])
      expect(seen).toContain(0)
    }),
  )
})
