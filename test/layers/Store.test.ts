// test/layers/Store.test.ts — the Store on a real SQLite file: durability across restarts and kill -9,
// failed persistence leaves memory equal to disk, compaction keeps state, bad data is a ProjectionError.
import { StoryId } from "../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect, Either } from "effect"
import { join } from "node:path"
import * as Y from "yjs"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { Persistence } from "../../src/layers/Persistence.js"
import { Store } from "../../src/layers/Store.js"
import { story, withStore } from "../support/store.js"
import { killWriterMidBurst, reopenStore } from "../support/killedWriter.js"
import { scopedTempDir, tempDir } from "../support/tempDir.js"

describe("Store", () => {
  it.effect("keeps every acknowledged write across a restart", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const db = join(dir, "huskies.db")
      const created = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const a = yield* store.create(story("Add login"))
          const b = yield* store.create({
            kind: "bug",
            name: "Crash on save!",
            content: "---\nname: x\n---\n",
          })
          yield* store.apply(a.id, { _tag: "Start", at: 10 })
          yield* store.editContent(b.id, { _tag: "Replace", text: "---\nname: y\n---\nmore\n" })
          return [a.id, b.id]
        }),
      )
      expect(created).toEqual(["1_story_add_login", "2_bug_crash_on_save"])
      const after = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          return {
            a: yield* store.get(created[0]!),
            content: yield* store.content(created[1]!),
            next: yield* store.create(story("third")),
          }
        }),
      )
      expect(after.a.stage).toEqual({ _tag: "Coding" })
      expect(after.a.updatedAt).toBe(10)
      expect(after.content).toBe("---\nname: y\n---\nmore\n")
      expect(after.next.id).toBe("3_story_third")
    }).pipe(Effect.scoped),
  )

  it.effect("rejects an illegal move with the legal ones and writes nothing", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      yield* withStore(
        join(dir, "huskies.db"),
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("x"))
          const error = yield* Effect.flip(
            store.apply(item.id, { _tag: "Merged", mergeCommit: "abcdef1", mergedAt: 1, at: 1 }),
          )
          expect(error._tag).toBe("TransitionError")
          expect(error.message).toContain("legal from Backlog: Start")
          expect((yield* store.get(item.id)).stage).toEqual({ _tag: "Backlog" })
          const missing = yield* Effect.flip(
            store.apply(StoryId.make("99_story_nope"), { _tag: "Start", at: 1 }),
          )
          expect(missing._tag).toBe("ItemNotFound")
        }),
      )
    }).pipe(Effect.scoped),
  )

  it.effect("a write that cannot be persisted fails and leaves memory equal to disk", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const db = join(dir, "huskies.db")
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("durable"))
          // A real SQLite failure: a second connection makes every append abort, as a full disk would.
          const other = new Database(db)
          other.exec(
            "CREATE TRIGGER no_space BEFORE INSERT ON updates BEGIN SELECT RAISE(ABORT, 'disk full'); END",
          )
          const error = yield* Effect.flip(store.apply(item.id, { _tag: "Start", at: 5 }))
          expect(error._tag).toBe("PersistError")
          expect(error.message).toContain("disk full")
          expect((yield* store.get(item.id)).stage).toEqual({ _tag: "Backlog" })
          const failedCreate = yield* Effect.flip(store.create(story("lost")))
          expect(failedCreate._tag).toBe("PersistError")
          expect((yield* store.list).items.map((i) => i.id)).toEqual([item.id])
          other.exec("DROP TRIGGER no_space")
          other.close()
          yield* store.apply(item.id, { _tag: "Start", at: 6 })
          expect((yield* store.get(item.id)).stage).toEqual({ _tag: "Coding" })
        }),
      )
      const reopened = yield* withStore(
        db,
        Effect.flatMap(Store, (s) => s.list),
      )
      expect(reopened.items.map((i) => [i.id, i.stage._tag])).toEqual([["1_story_durable", "Coding"]])
    }).pipe(Effect.scoped),
  )

  it.effect("compaction keeps the state identical, before and after a restart", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const db = join(dir, "huskies.db")
      const before = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          for (let i = 0; i < 30; i++) {
            const item = yield* store.create(story(`item ${i}`))
            if (i % 2 === 0) yield* store.apply(item.id, { _tag: "Start", at: i })
            yield* store.editContent(item.id, { _tag: "Splice", index: 0, deleteCount: 3, insert: `${i}` })
          }
          yield* store.delete(StoryId.make("5_story_item_4"))
          const dump = yield* store.dump()
          yield* store.compact
          expect(yield* store.dump()).toEqual(dump)
          return dump
        }),
        7,
      )
      const raw = new Database(db, { readonly: true })
      const rows = raw.prepare("SELECT COUNT(*) AS n FROM updates").get() as { n: number }
      const snaps = raw.prepare("SELECT COUNT(*) AS n FROM snapshots").get() as { n: number }
      raw.close()
      expect(rows.n).toBe(0)
      expect(snaps.n).toBe(1)
      const after = yield* withStore(
        db,
        Effect.flatMap(Store, (s) => s.dump()),
      )
      expect(after).toEqual(before)
    }).pipe(Effect.scoped),
  )

  it.effect("undecodable stored data is a ProjectionError, not a crash", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const db = join(dir, "huskies.db")
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          yield* store.create(story("good"))
          // Another writer (say, a newer peer) stored a stage this version cannot read.
          const foreign = new Y.Doc()
          const fields = new Y.Map<unknown>()
          foreign.getMap("items").set("7_story_odd", fields)
          fields.set("kind", "story")
          fields.set("stage", { _tag: "Shipped" })
          fields.set("attempts", 0)
          fields.set("createdAt", 1)
          fields.set("updatedAt", 1)
          yield* Effect.flatMap(Persistence, (p) => p.append(Y.encodeStateAsUpdate(foreign)))
        }),
      )
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const { items, errors } = yield* store.list
          expect(items.map((i) => i.id)).toEqual(["1_story_good"])
          expect(errors).toHaveLength(1)
          expect(errors[0]!.path).toBe("items/7_story_odd")
          expect(errors[0]!.message).toContain("stage")
          const got = yield* Effect.either(store.get(StoryId.make("7_story_odd")))
          expect(Either.isLeft(got) && got.left._tag).toBe("ProjectionError")
          const dump = yield* store.dump()
          expect(dump["projectionErrors"]).toHaveLength(1)
          // Numbers stay unique next to the foreign item.
          expect((yield* store.create(story("next"))).id).toBe("8_story_next")
        }),
      )
    }).pipe(Effect.scoped),
  )

  it.effect("delete removes the item from every map, is idempotent and never frees its number", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const db = join(dir, "huskies.db")
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("doomed"))
          yield* store.apply(item.id, { _tag: "Start", at: 1 })
          yield* store.apply(item.id, {
            _tag: "AgentStarted",
            node: NodeId.make("n1"),
            agent: "coder-1",
            role: "coder",
            at: 2,
          })
          const report = yield* store.delete(item.id)
          expect(report).toEqual({
            id: item.id,
            item: true,
            content: true,
            execution: ["n1"],
            claim: false,
            mergeJob: false,
            timers: [],
            decisions: [],
          })
          expect((yield* store.delete(item.id)).item).toBe(false)
        }),
      )
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          expect((yield* store.list).items).toEqual([])
          expect((yield* Effect.flip(store.content(StoryId.make("1_story_doomed"))))._tag).toBe(
            "ItemNotFound",
          )
          expect((yield* store.create(story("after"))).id).toBe("2_story_after")
        }),
      )
    }).pipe(Effect.scoped),
  )

  it.effect("a Replace computed from stale content is refused, never overwriting the newer edit", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      yield* withStore(
        join(dir, "huskies.db"),
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("cas"))
          const read = yield* store.content(item.id)
          yield* store.editContent(item.id, { _tag: "Replace", text: `${read}first\n`, expected: read })
          const conflict = yield* Effect.flip(
            store.editContent(item.id, { _tag: "Replace", text: `${read}second\n`, expected: read }),
          )
          expect(conflict._tag).toBe("ContentConflict")
          expect(yield* store.content(item.id)).toBe(`${read}first\n`)
        }),
      )
    }).pipe(Effect.scoped),
  )

  it.effect("publishes committed changes on the event bus", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      yield* withStore(
        join(dir, "huskies.db"),
        Effect.gen(function* () {
          const store = yield* Store
          const sub = yield* store.subscribe
          const item = yield* store.create(story("seen"))
          yield* store.apply(item.id, { _tag: "Start", at: 3 })
          yield* Effect.flip(store.apply(item.id, { _tag: "Start", at: 4 }))
          const job = { storyId: item.id, state: "queued", enqueuedAt: 5 } as const
          yield* store.setMergeJob(job)
          yield* store.clearMergeJob(item.id)
          // Clearing what is not there changes nothing, so it says nothing.
          yield* store.clearMergeJob(item.id)
          yield* store.delete(item.id)
          const seen = yield* sub.takeAll
          expect([...seen].map((e) => e._tag)).toEqual([
            "ItemCreated",
            "ItemChanged",
            "MergeJobChanged",
            "MergeJobChanged",
            "ItemDeleted",
          ])
        }),
      )
    }).pipe(Effect.scoped),
  )
})

describe("Store durability under SIGKILL", () => {
  it("a writer killed mid-burst loses none of the writes it acknowledged", async () => {
    const { dir, cleanup } = tempDir()
    try {
      const db = join(dir, "huskies.db")
      const acked = await killWriterMidBurst(db)
      expect(acked.length).toBeGreaterThanOrEqual(300)
      const state = await reopenStore(db, acked, { compactEvery: 10_000 })
      expect(state.errors).toEqual([])
      const byId = new Map(state.items.map((i) => [i.id as string, i]))
      for (const id of acked) expect(byId.get(id)?.stage).toEqual({ _tag: "Coding" })
      state.contents.forEach((c, i) => expect(c.startsWith(`edit ${i}\n`)).toBe(true))
    } finally {
      cleanup()
    }
  }, 40_000)
})
