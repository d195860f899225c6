// test/layers/StoreGroupCommit.test.ts — the Store's group commit on a real SQLite file: writes in flight
// together share one transaction, each resolves only once durable with its events published in write
// order; a failed batch fails every write in it and leaves memory equal to disk; kill -9 mid-burst.
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Context, Effect, Either, Layer, Queue } from "effect"
import { join } from "node:path"
import * as Y from "yjs"
import { type AppendRow, Persistence, PersistenceLive } from "../../src/layers/Persistence.js"
import { Store, StoreLive, type StoreEvent } from "../../src/layers/Store.js"
import { killWriterMidBurst, reopenStore } from "../support/killedWriter.js"
import { story } from "../support/store.js"
import { scopedTempDir, tempDir } from "../support/tempDir.js"

/** The real Persistence, each batch it is given recorded with its size and whether SQLite took it. */
const recordingStore = (dbPath: string) => {
  const batches: Array<{ readonly rows: number; readonly saved: boolean }> = []
  const recording = Layer.effect(
    Persistence,
    Effect.map(Persistence, (real) => ({
      ...real,
      appendBatch: (rows: ReadonlyArray<AppendRow>) => {
        const result = real.appendBatch(rows)
        batches.push({ rows: rows.length, saved: Either.isRight(result) })
        return result
      },
    })),
  ).pipe(Layer.provide(PersistenceLive(dbPath)))
  return { batches, layer: StoreLive().pipe(Layer.provideMerge(recording)) }
}

/** A Store on a fresh SQLite file in a scoped temp dir, recording its batches as `recordingStore` does. */
const openRecordingStore = Effect.gen(function* () {
  const db = join(yield* scopedTempDir, "huskies.db")
  const { batches, layer } = recordingStore(db)
  return { db, batches, store: Context.get(yield* Layer.build(layer), Store) }
})

/** The state as the disk holds it, read by a connection of its own (no snapshot: nothing compacts). */
const stateOnDisk = (dbPath: string): Y.Doc => {
  const db = new Database(dbPath, { readonly: true })
  try {
    const doc = new Y.Doc()
    const rows = db.prepare("SELECT data FROM updates ORDER BY seq").all() as Array<{ data: Uint8Array }>
    for (const row of rows) Y.applyUpdate(doc, row.data)
    return doc
  } finally {
    db.close()
  }
}

const inFlight = 64

describe("Store group commit", () => {
  it.scoped(
    "writes in flight together share a transaction; each resolves durable, events in write order",
    () =>
      Effect.gen(function* () {
        const { db, batches, store } = yield* openRecordingStore
        const events = yield* store.subscribe
        const seen: Array<StoreEvent> = []
        const created = yield* Effect.all(
          Array.from({ length: inFlight }, (_, k) =>
            Effect.gen(function* () {
              const item = yield* store.create(story(`item ${k}`))
              // Resolved: the write is on disk and its event already on the bus.
              expect(stateOnDisk(db).getMap("items").has(item.id)).toBe(true)
              seen.push(...(yield* Queue.takeAll(events)))
              expect(seen.some((e) => e._tag === "ItemCreated" && e.item.id === item.id)).toBe(true)
              return item.id
            }),
          ),
          { concurrency: "unbounded" },
        )
        expect(new Set(created).size).toBe(inFlight)
        expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(inFlight)
        // They came together: far fewer transactions than writes.
        expect(batches.length).toBeLessThanOrEqual(4)
        // Item numbers are given in write order; the events follow it.
        const numbers = seen.flatMap((e) =>
          e._tag === "ItemCreated" ? [Number(e.item.id.split("_")[0])] : [],
        )
        expect(numbers).toEqual(Array.from({ length: inFlight }, (_, k) => k + 1))
      }),
  )

  it.scoped("writers that keep writing keep sharing transactions, thousands of batches on", () =>
    Effect.gen(function* () {
      const { batches, store } = yield* openRecordingStore
      const item = yield* store.create(story("typed into"))
      const before = (yield* store.content(item.id)).length
      const writers = 8
      const each = 3_000
      const edit = store.editContent(item.id, { _tag: "Splice", index: 0, deleteCount: 0, insert: "x" })
      yield* Effect.all(
        Array.from({ length: writers }, () => Effect.repeatN(edit, each - 1)),
        { concurrency: "unbounded", discard: true },
      )
      // The edits that wait together run as one Y transaction, one row: the batch's opener alone, the rest.
      expect(batches.reduce((n, b) => n + b.rows, 0)).toBeLessThanOrEqual(2 * batches.length)
      // Each writer's next write is ready as soon as its last one is durable: they go to disk together,
      // also after each writer has taken thousands of turns.
      expect(batches.length).toBeLessThanOrEqual(Math.ceil(each * 1.1))
      expect((yield* store.content(item.id)).length).toBe(before + writers * each)
    }),
  )

  it.scoped("edits of one item in one batch are one ContentChanged, published once they are on disk", () =>
    Effect.gen(function* () {
      const { db, batches, store } = yield* openRecordingStore
      const item = yield* store.create(story("typed into"))
      const other = yield* store.create(story("also typed into"))
      const events = yield* store.subscribe
      yield* Queue.takeAll(events)
      const before = batches.length
      const splice = (k: number) => ({ _tag: "Splice", index: 0, deleteCount: 0, insert: `k${k};` }) as const
      yield* Effect.all(
        Array.from({ length: inFlight }, (_, k) =>
          // One edit of the other item in the middle of them: the item's events around it are not one.
          store.editContent(k === inFlight / 2 ? other.id : item.id, splice(k)),
        ),
        { concurrency: "unbounded", discard: true },
      )
      const seen = [...(yield* Queue.takeAll(events))]
      const written = batches.slice(before)
      expect(written.reduce((n, b) => n + b.rows, 0)).toBeLessThanOrEqual(2 * written.length)
      expect(written.length).toBeLessThan(inFlight / 4)
      // Per batch: the item's edits before the other's, the other's, the item's after it.
      expect(seen.filter((e) => e._tag === "ContentChanged" && e.id === other.id)).toHaveLength(1)
      expect(seen.filter((e) => e._tag === "ContentChanged" && e.id === item.id)).toHaveLength(
        written.length + 1,
      )
      expect(stateOnDisk(db).getMap<Y.Text>("content").get(item.id)?.toString()).toBe(
        yield* store.content(item.id),
      )
    }),
  )

  it.scoped("a refused edit among edits run as one transaction changes nothing; the others all land", () =>
    Effect.gen(function* () {
      const { db, store } = yield* openRecordingStore
      const item = yield* store.create(story("shared"))
      const events = yield* store.subscribe
      yield* Queue.takeAll(events)
      const before = yield* store.content(item.id)
      // Every eighth edit is out of range: it fails its own check before it mutates anything.
      const results = yield* Effect.all(
        Array.from({ length: inFlight }, (_, k) =>
          Effect.either(
            store.editContent(item.id, {
              _tag: "Splice",
              index: k % 8 === 3 ? 1_000_000 : 0,
              deleteCount: 0,
              insert: `e${k};`,
            }),
          ),
        ),
        { concurrency: "unbounded" },
      )
      const content = yield* store.content(item.id)
      for (const [k, result] of results.entries()) {
        if (k % 8 === 3) {
          expect(Either.isLeft(result) && result.left._tag).toBe("ContentEditError")
          expect(content.includes(`e${k};`)).toBe(false)
        } else {
          expect(Either.isRight(result)).toBe(true)
          expect(content.includes(`e${k};`)).toBe(true)
        }
      }
      const landed = results.flatMap((result, k) => (Either.isRight(result) ? [`e${k};`] : []))
      expect(content.length).toBe(before.length + landed.join("").length)
      expect(stateOnDisk(db).getMap<Y.Text>("content").get(item.id)?.toString()).toBe(content)
      const seen = [...(yield* Queue.takeAll(events))]
      expect(seen.length).toBeGreaterThan(0)
      expect(seen.every((e) => e._tag === "ContentChanged" && e.id === item.id)).toBe(true)
    }),
  )

  it.scoped("a failed batch fails every write in it and leaves memory equal to disk", () =>
    Effect.gen(function* () {
      const { db, batches, store } = yield* openRecordingStore
      const item = yield* store.create(story("shared"))
      // A real SQLite failure: one write's row is refused, as a full disk would refuse it.
      const other = new Database(db)
      other.exec(
        "CREATE TRIGGER poison BEFORE INSERT ON updates WHEN instr(NEW.data, CAST('poison' AS BLOB)) > 0 BEGIN SELECT RAISE(ABORT, 'disk full'); END",
      )
      const tokens = Array.from({ length: inFlight }, (_, k) => (k === 5 ? "poison;" : `w${k};`))
      const results = yield* Effect.all(
        tokens.map((insert) =>
          Effect.either(store.editContent(item.id, { _tag: "Splice", index: 0, deleteCount: 0, insert })),
        ),
        { concurrency: "unbounded" },
      )
      const failed = tokens.filter((_, k) => Either.isLeft(results[k]!))
      for (const result of results) {
        if (Either.isLeft(result)) expect(result.left._tag).toBe("PersistError")
      }
      expect(failed).toContain("poison;")
      // Every write of a refused batch failed, not only the one whose row SQLite refused (the loop below:
      // a write failed exactly when its token is not in memory, equal to the disk).
      const refused = batches.filter((b) => !b.saved)
      expect(refused.length).toBeGreaterThan(0)
      expect(failed.length).toBeGreaterThan(1)
      const inMemory = yield* store.content(item.id)
      const onDisk = stateOnDisk(db).getMap<Y.Text>("content").get(item.id)?.toString()
      expect(inMemory).toBe(onDisk)
      for (const [k, token] of tokens.entries()) {
        expect(inMemory.includes(token)).toBe(Either.isRight(results[k]!))
      }
      other.exec("DROP TRIGGER poison")
      other.close()
      yield* store.editContent(item.id, { _tag: "Splice", index: 0, deleteCount: 0, insert: "after;" })
      expect(stateOnDisk(db).getMap<Y.Text>("content").get(item.id)?.toString()).toBe(
        yield* store.content(item.id),
      )
    }),
  )
  it.scoped("a peer is shown only what is on disk, while writes wait for their batch", () =>
    Effect.gen(function* () {
      const { db, batches, store } = yield* openRecordingStore
      const item = yield* store.create(story("shared"))
      const edits = Effect.all(
        Array.from({ length: inFlight }, (_, k) =>
          store.editContent(item.id, { _tag: "Splice", index: 0, deleteCount: 0, insert: `w${k};` }),
        ),
        { concurrency: "unbounded", discard: true },
      )
      let shownDuringWrites = 0
      const peer = Effect.gen(function* () {
        for (let round = 0; round < 16; round++) {
          const before = batches.length
          const shown = new Y.Doc()
          Y.applyUpdate(shown, yield* store.diff())
          if (batches.length > before) shownDuringWrites++
          // The disk only grows: what was shown must be there now.
          const onDisk = Y.decodeStateVector(Y.encodeStateVector(stateOnDisk(db)))
          for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(shown))) {
            expect(onDisk.get(client) ?? 0).toBeGreaterThanOrEqual(clock)
          }
          yield* Effect.yieldNow()
        }
      })
      yield* Effect.all([edits, peer], { concurrency: "unbounded", discard: true })
      // The peer came while a batch waited for the disk, and the batch went to disk first.
      expect(shownDuringWrites).toBeGreaterThan(0)
    }),
  )
})

describe("Store group commit under SIGKILL", () => {
  it("a burst of 64 writers in flight killed mid-way loses none of the writes it acknowledged", async () => {
    const { dir, cleanup } = tempDir()
    try {
      const db = join(dir, "huskies.db")
      const acked = await killWriterMidBurst(db, inFlight)
      expect(acked.length).toBeGreaterThanOrEqual(300)
      const state = await reopenStore(db, acked, { compactEvery: 50 })
      expect(state.errors).toEqual([])
      const byId = new Map(state.items.map((i) => [i.id as string, i]))
      acked.forEach((id, k) => {
        expect(byId.get(id)?.stage).toEqual({ _tag: "Coding" })
        // `n_story_burst_i` holds `edit i`.
        expect(state.contents[k]!.startsWith(`edit ${id.split("_").at(-1)}\n`)).toBe(true)
      })
    } finally {
      cleanup()
    }
  }, 40_000)
})
