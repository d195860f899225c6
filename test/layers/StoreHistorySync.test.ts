// test/layers/StoreHistorySync.test.ts — the items' history between two real Stores (temp SQLite files), as
// the sync session passes it: a move on either shows in the other's history with its reason and who, durably;
// entries recorded on both at once converge to the same newest 200; a delete takes the history everywhere;
// bytes that are not an update are refused and change nothing.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { join } from "node:path"
import * as Y from "yjs"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { historyLimit } from "../../src/domain/History.js"
import type { StoreShape } from "../../src/layers/Store.js"
import { openStore, story } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"

/** Sends `to` what it lacks of `from`, history and state taken in one turn, the history applied first. */
const catchUp = (from: StoreShape, to: StoreShape) =>
  Effect.gen(function* () {
    const wanted = { history: yield* to.historyStateVector, state: yield* to.stateVector }
    const diffs = yield* from.catchUp(wanted.state, wanted.history)
    yield* to.applyRemoteHistory(diffs.history!, from.nodeId)
    yield* to.applyRemote(diffs.state, from.nodeId)
  })

const both = (a: StoreShape, b: StoreShape) => Effect.zipRight(catchUp(a, b), catchUp(b, a))

/** The keys of the history document `store` would send a new peer. */
const historyKeys = (store: StoreShape) =>
  Effect.map(store.historyDiff(Y.encodeStateVector(new Y.Doc())), (update) => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, update)
    return [...doc.getMap("history").keys()].sort()
  })

describe("Store history sync", () => {
  it.scoped("a move on either replica shows in the other's history with its reason and who asked", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const main = yield* openStore(join(dir, "main.db"))
      const worker = yield* openStore(join(dir, "worker.db"))
      const item = yield* main.create({ ...story("Add login"), by: "mcp:claude" })
      yield* catchUp(main, worker)
      expect((yield* worker.history(item.id)).map((e) => [e.event, e.by])).toEqual([
        ["Created", "mcp:claude"],
      ])

      yield* worker.apply(item.id, { _tag: "Start", at: 10 }, { by: "server" })
      yield* worker.apply(
        item.id,
        { _tag: "AgentStarted", node: NodeId.make(worker.nodeId), agent: "coder-1", role: "coder", at: 11 },
        { by: "agent:coder-1" },
      )
      yield* catchUp(worker, main)
      yield* main.apply(item.id, { _tag: "Block", why: "needs the API key", at: 12 }, { by: "ui" })
      yield* catchUp(main, worker)

      const expected = [
        ["Created", undefined, "mcp:claude"],
        ["Start", undefined, "server"],
        ["AgentStarted", "coder coder-1", "agent:coder-1"],
        ["Block", "needs the API key", "ui"],
      ]
      const shown = (store: StoreShape) =>
        Effect.map(store.history(item.id), (entries) => entries.map((e) => [e.event, e.reason, e.by]))
      expect(yield* shown(main)).toEqual(expected)
      expect(yield* shown(worker)).toEqual(expected)
      // Nothing new: a second catch-up sends no entry twice.
      yield* both(main, worker)
      expect(yield* shown(worker)).toEqual(expected)
    }),
  )

  it.effect("what a peer sent is on disk: a restart reads it without the peer", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const workerDb = join(dir, "worker.db")
      const id = yield* Effect.scoped(
        Effect.gen(function* () {
          const main = yield* openStore(join(dir, "main.db"))
          const worker = yield* openStore(workerDb)
          const item = yield* main.create(story("Durable"))
          yield* main.apply(item.id, { _tag: "Start", at: 5 }, { by: "mcp:x", reason: "now" })
          yield* catchUp(main, worker)
          return item.id
        }),
      )
      const entries = yield* Effect.scoped(Effect.flatMap(openStore(workerDb), (w) => w.history(id)))
      expect(entries.map((e) => [e.event, e.by])).toEqual([
        ["Created", undefined],
        ["Start", "mcp:x"],
      ])
    }).pipe(Effect.scoped),
  )

  it.scoped(
    "entries recorded on both at once converge to the same newest entries, never more than the cap",
    () =>
      Effect.gen(function* () {
        const dir = yield* scopedTempDir
        const a = yield* openStore(join(dir, "a.db"))
        const b = yield* openStore(join(dir, "b.db"))
        const item = yield* a.create(story("Flaky"))
        let at = 1
        const round = (store: StoreShape, who: string) =>
          Effect.gen(function* () {
            yield* store.apply(item.id, { _tag: "Block", why: `${who} ${at}`, at: at++ })
            yield* store.apply(item.id, { _tag: "Unblock", at: at++ }, { by: who })
          })
        for (let i = 0; i < historyLimit / 2 - 5; i++) yield* round(a, "a")
        yield* both(a, b)
        // Apart: each trims its own list as it sees it; together they hold more than the cap.
        for (let i = 0; i < 15; i++) yield* round(a, "a")
        for (let i = 0; i < 12; i++) yield* round(b, "b")
        yield* both(a, b)
        const fromA = yield* a.history(item.id)
        const fromB = yield* b.history(item.id)
        expect(fromA).toHaveLength(historyLimit)
        expect(fromB).toEqual(fromA)
        // Every entry written apart is among the newest: only older ones went.
        const apart = fromA.filter((e) => e.at > 2 * (historyLimit / 2 - 5))
        expect(apart).toHaveLength(2 * (15 + 12))
        // The next local write trims again, and the replicas still agree.
        yield* round(b, "b")
        yield* both(a, b)
        expect(yield* a.history(item.id)).toEqual(yield* b.history(item.id))
        expect((yield* b.history(item.id)).at(-1)).toMatchObject({ event: "Unblock", by: "b" })
      }),
  )

  it.scoped("an item deleted on one replica loses its history on the other, which kept writing", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const main = yield* openStore(join(dir, "main.db"))
      const worker = yield* openStore(join(dir, "worker.db"))
      const doomed = yield* main.create(story("Doomed"))
      const kept = yield* main.create(story("Kept"))
      yield* catchUp(main, worker)
      // The worker moves it while the main node deletes it: the delete wins on both.
      yield* worker.apply(doomed.id, { _tag: "Start", at: 3 }, { by: "server" })
      yield* main.delete(doomed.id)
      yield* both(main, worker)
      for (const store of [main, worker]) {
        const gone = yield* Effect.either(store.history(doomed.id))
        expect(Either.isLeft(gone) && gone.left._tag).toBe("ItemNotFound")
        expect(yield* historyKeys(store)).toEqual([kept.id])
      }
    }),
  )

  it.scoped("bytes that are not a history update are refused, and the history stays as it was", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const main = yield* openStore(join(dir, "main.db"))
      const worker = yield* openStore(join(dir, "worker.db"))
      const item = yield* main.create(story("Keep"))
      yield* catchUp(main, worker)
      const before = yield* worker.historyStateVector
      const refused = yield* Effect.flip(
        worker.applyRemoteHistory(new Uint8Array([200, 1, 2, 3, 4]), "node-x"),
      )
      expect(refused._tag).toBe("SyncUpdateRejected")
      expect(yield* worker.historyStateVector).toEqual(before)
      expect((yield* worker.history(item.id)).map((e) => e.event)).toEqual(["Created"])
      // The next good update applies as if nothing had happened.
      yield* main.apply(item.id, { _tag: "Start", at: 9 })
      yield* catchUp(main, worker)
      expect((yield* worker.history(item.id)).map((e) => e.event)).toEqual(["Created", "Start"])
    }),
  )
})
