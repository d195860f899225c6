// test/transports/sync/barrier.test.ts — PeerBarrier over real /crdt-sync connections: a main node and two
// workers in one process (real Stores on SQLite, WebSockets on loopback), one worker on a slow link. After
// confirm, a node has every claim the others wrote before they had its own, so both claimants of an item
// agree on its holder; a node with no connection does not wait; a connection that ends counts as done.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option, Stream } from "effect"
import * as Y from "yjs"
import { docMaps } from "../../../src/layers/docModel.js"
import { makePeerBarrier, PeerBarrier } from "../../../src/layers/PeerBarrier.js"
import type { StoreShape } from "../../../src/layers/Store.js"
import { readClaimEntries } from "../../../src/layers/storeClaims.js"
import { makeSlowLink } from "../../nodes/slowLink.js"
import { story } from "../../support/store.js"
import { scopedTempDir } from "../../support/tempDir.js"
import { eventWhere, startMain, startWorker, statusWhere } from "./syncHarness.js"

const lease = 60_000

/** The node ids that have a claim entry for `id` in `store`'s document. */
const claimants = (store: StoreShape, id: string) =>
  Effect.gen(function* () {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, yield* Effect.orDie(store.diff()))
    const entries = Either.getOrThrow(readClaimEntries(docMaps(doc), id))
    doc.destroy()
    return [...entries.keys()].sort()
  })

const withBarrier = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(makePeerBarrier, (barrier) =>
    Effect.map(Effect.provideService(effect, PeerBarrier, barrier), (node) => ({ ...node, barrier })),
  )

describe("PeerBarrier over /crdt-sync", () => {
  it.scopedLive("after confirm each claimant has the other's concurrent claim; both name one holder", () =>
    Effect.gen(function* () {
      const main = yield* withBarrier(startMain(yield* scopedTempDir))
      const slow = yield* makeSlowLink(main.url, 400)
      const fast = yield* withBarrier(
        startWorker(yield* scopedTempDir, main.url, { joinToken: yield* main.token() }),
      )
      const late = yield* withBarrier(
        startWorker(yield* scopedTempDir, slow.url, { joinToken: yield* main.token() }),
      )
      for (const w of [fast, late]) yield* statusWhere(w.peer, (s) => s.connected)
      const seen = yield* Effect.all([fast.store.subscribe, late.store.subscribe])
      const item = yield* main.store.create(story("claimed twice"))
      for (const events of seen)
        yield* eventWhere(events, (e) => e._tag === "ItemCreated" && e.item.id === item.id)

      // Within the slow link's delay: neither has the other's claim when it writes its own.
      yield* Effect.all([fast.store.claim(item.id, lease), late.store.claim(item.id, lease)])
      expect(yield* claimants(fast.store, item.id)).toHaveLength(1)
      const [heardFast, heardLate] = yield* Effect.all([fast.barrier.confirm(), late.barrier.confirm()], {
        concurrency: 2,
      })
      expect(heardFast).toEqual([main.store.nodeId])
      expect(heardLate).toEqual([main.store.nodeId])
      const both = [fast.store.nodeId, late.store.nodeId].sort()
      expect(yield* claimants(fast.store, item.id)).toEqual(both)
      expect(yield* claimants(late.store, item.id)).toEqual(both)
      const holders = yield* Effect.all([fast.store.holder(item.id), late.store.holder(item.id)])
      const names = holders.map((h) => Option.getOrThrow(h).node)
      expect(names[0]).toBe(both[0])
      expect(names[1]).toBe(both[0])
    }),
  )

  it.scopedLive("a node with no connection confirms at once; a connection that ends counts as done", () =>
    Effect.gen(function* () {
      const alone = yield* makePeerBarrier
      expect(yield* alone.confirm()).toEqual([])

      const main = yield* withBarrier(startMain(yield* scopedTempDir))
      // A worker whose answer takes at least 600 ms: the connection is cut before it comes.
      const slow = yield* makeSlowLink(main.url, 300)
      yield* startWorker(yield* scopedTempDir, slow.url, { joinToken: yield* main.token() })
      yield* main.server.onlineChanges.pipe(
        Stream.filter((online) => online.length > 0),
        Stream.runHead,
        Effect.timeout("10 seconds"),
      )
      const confirming = yield* Effect.fork(main.barrier.confirm())
      yield* Effect.sleep("100 millis")
      yield* main.cut
      expect(yield* confirming.await.pipe(Effect.flatten, Effect.timeout("5 seconds"))).toEqual([])
    }),
  )
})
