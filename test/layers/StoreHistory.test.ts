// test/layers/StoreHistory.test.ts — an item's history on a real SQLite file: each move recorded with its
// reason and who asked, kept across a restart, bounded to the newest entries, gone with the item.
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect, Either } from "effect"
import { join } from "node:path"
import * as Y from "yjs"
import { historyLimit } from "../../src/domain/History.js"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { StoryId } from "../../src/domain/StoryId.js"
import { Persistence } from "../../src/layers/Persistence.js"
import { Store } from "../../src/layers/Store.js"
import { story, withStore } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"

const node = NodeId.make("node-a")

describe("Store history", () => {
  it.effect("records each move with its reason and who asked, and keeps it across a restart", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      const id = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create({ ...story("Add login"), by: "mcp:claude" })
          yield* store.apply(item.id, { _tag: "Start", at: 10 }, { by: "server" })
          yield* store.apply(
            item.id,
            { _tag: "AgentStarted", node, agent: "coder-1", role: "coder", at: 11 },
            {
              by: "agent:coder-1",
            },
          )
          // Not history: a heartbeat leaves no entry.
          yield* store.apply(item.id, { _tag: "Heartbeat", node, at: 12 })
          yield* store.apply(
            item.id,
            { _tag: "AgentExited", node, outcome: "failed", at: 13 },
            { by: "agent:coder-1" },
          )
          yield* store.apply(item.id, { _tag: "GatesFailed", why: "tests fail", retryLimit: 3, at: 14 })
          yield* store.apply(
            item.id,
            { _tag: "Block", why: "waits for the API key", at: 15 },
            { by: "mcp:x" },
          )
          // The event carries no reason: the person's is kept.
          yield* store.apply(item.id, { _tag: "Unblock", at: 16 }, { by: "ui:ann", reason: "key arrived" })
          yield* store.apply(item.id, { _tag: "Supersede", by: "7_story_login_v2", at: 17 })
          return item.id
        }),
      )
      const expected = [
        { event: "Created", to: "Backlog", by: "mcp:claude" },
        { at: 10, event: "Start", from: "Backlog", to: "Coding", by: "server" },
        {
          at: 11,
          event: "AgentStarted",
          from: "Coding",
          to: "Coding",
          reason: "coder coder-1",
          by: "agent:coder-1",
        },
        { at: 13, event: "AgentExited", from: "Coding", to: "Coding", reason: "failed", by: "agent:coder-1" },
        { at: 14, event: "GatesFailed", from: "Coding", to: "Coding", reason: "tests fail" },
        {
          at: 15,
          event: "Block",
          from: "Coding",
          to: "Archived",
          reason: "waits for the API key",
          by: "mcp:x",
        },
        { at: 16, event: "Unblock", from: "Archived", to: "Backlog", reason: "key arrived", by: "ui:ann" },
        { at: 17, event: "Supersede", from: "Backlog", to: "Archived", reason: "7_story_login_v2" },
      ]
      const reopened = yield* withStore(
        db,
        Effect.flatMap(Store, (store) => store.history(id)),
      )
      expect(reopened).toHaveLength(expected.length)
      expected.forEach((entry, i) => expect(reopened[i]).toEqual({ at: reopened[i]!.at, ...entry }))
      // An entry has exactly the fields it knows: no `by` where nobody was named.
      expect(Object.keys(reopened[4]!)).not.toContain("by")
    }).pipe(Effect.scoped),
  )

  it.effect("a cleared execution mark is no history", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      const entries = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("x"))
          yield* store.apply(item.id, { _tag: "Start", at: 1 })
          yield* store.apply(item.id, { _tag: "ExecutionCleared", node, at: 2 })
          return yield* store.history(item.id)
        }),
      )
      expect(entries.map((e) => e.event)).toEqual(["Created", "Start"])
    }).pipe(Effect.scoped),
  )

  it.effect("keeps only the newest entries, also after a restart and a compaction", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      const rounds = historyLimit / 2 + 20
      const id = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("flaky"))
          for (let i = 0; i < rounds; i++) {
            yield* store.apply(item.id, { _tag: "Block", why: `round ${i}`, at: 2 * i + 1 })
            yield* store.apply(item.id, { _tag: "Unblock", at: 2 * i + 2 })
          }
          return item.id
        }),
        // Compactions along the way: what they keep is what a restart loads.
        50,
      )
      const entries = yield* withStore(
        db,
        Effect.flatMap(Store, (store) => store.history(id)),
      )
      expect(entries).toHaveLength(historyLimit)
      // 1 + 2 * rounds were written; the oldest (creation and the first rounds) went first.
      const last = entries[entries.length - 1]!
      expect(last).toMatchObject({ event: "Unblock", at: 2 * rounds })
      expect(entries[0]).toMatchObject({ at: 2 * rounds - historyLimit + 1, event: "Block" })
      expect(entries.some((e) => e.event === "Created")).toBe(false)
    }).pipe(Effect.scoped),
  )

  it.effect("compacting the state keeps entries the history has not compacted, without loading it", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      const counts = () => {
        const raw = new Database(db, { readonly: true })
        const count = (sql: string) => (raw.prepare(sql).get() as { n: number }).n
        const result = {
          beside: count("SELECT COUNT(*) AS n FROM updates WHERE history IS NOT NULL"),
          own: count("SELECT COUNT(*) AS n FROM history_updates"),
          snapshots: count("SELECT COUNT(*) AS n FROM history_snapshots"),
        }
        raw.close()
        return result
      }
      const id = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("long lived"))
          yield* store.apply(item.id, { _tag: "Start", at: 1 }, { by: "server" })
          yield* store.apply(item.id, { _tag: "AgentStarted", node, agent: "coder-1", role: "coder", at: 2 })
          return item.id
        }),
      )
      expect(counts()).toEqual({ beside: 3, own: 0, snapshots: 0 })
      // Heartbeats are no history: the state compacts every 3 writes while the history stays unloaded.
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          for (let at = 3; at < 13; at++) yield* store.apply(id, { _tag: "Heartbeat", node, at })
        }),
        3,
      )
      expect(counts()).toEqual({ beside: 0, own: 3, snapshots: 0 })
      // The history compacts too (every 2 of its writes), and everything is still there after a restart.
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          yield* store.apply(id, { _tag: "AgentExited", node, outcome: "succeeded", at: 13 })
          yield* store.apply(id, { _tag: "Block", why: "needs a decision", at: 14 })
          yield* store.apply(id, { _tag: "Unblock", at: 15 })
        }),
        2,
      )
      expect(counts().snapshots).toBe(1)
      const entries = yield* withStore(
        db,
        Effect.flatMap(Store, (store) => store.history(id)),
      )
      expect(entries.map((e) => e.event)).toEqual([
        "Created",
        "Start",
        "AgentStarted",
        "AgentExited",
        "Block",
        "Unblock",
      ])
    }).pipe(Effect.scoped),
  )

  it.effect("goes with the item: a deleted item has no history, also after a restart", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      const { id, other } = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("doomed"))
          const kept = yield* store.create(story("kept"))
          yield* store.apply(item.id, { _tag: "Start", at: 5 })
          expect(yield* store.history(item.id)).toHaveLength(2)
          yield* store.delete(item.id)
          return { id: item.id, other: kept.id }
        }),
      )
      const after = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          // What is on disk, read as a peer would: the deleted item's entries are gone from the document.
          const stored = yield* Effect.flatMap(Persistence, (p) => p.history.load)
          const raw = new Y.Doc()
          if (stored.snapshot !== undefined) Y.applyUpdate(raw, stored.snapshot)
          for (const update of stored.tail) Y.applyUpdate(raw, update)
          return {
            gone: yield* Effect.either(store.history(id)),
            other: yield* store.history(other),
            keys: [...raw.getMap("history").keys()],
          }
        }),
      )
      expect(Either.isLeft(after.gone) && after.gone.left._tag).toBe("ItemNotFound")
      expect(after.keys).toEqual([other])
      expect(after.other.map((e) => e.event)).toEqual(["Created"])
    }).pipe(Effect.scoped),
  )

  it.effect("a move whose entry cannot be saved is not saved either: state and history stay together", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      const id = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("together"))
          // A real SQLite failure of the writes that carry a history entry (as a full disk would fail them).
          const other = new Database(db)
          other.exec(
            "CREATE TRIGGER no_space BEFORE INSERT ON updates WHEN NEW.history IS NOT NULL BEGIN SELECT RAISE(ABORT, 'disk full'); END",
          )
          const error = yield* Effect.flip(store.apply(item.id, { _tag: "Start", at: 5 }, { by: "mcp:x" }))
          expect(error._tag).toBe("PersistError")
          expect((yield* store.get(item.id)).stage).toEqual({ _tag: "Backlog" })
          expect((yield* store.history(item.id)).map((e) => e.event)).toEqual(["Created"])
          other.exec("DROP TRIGGER no_space")
          other.close()
          yield* store.apply(item.id, { _tag: "Start", at: 6 }, { by: "mcp:y" })
          return item.id
        }),
      )
      const after = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          return { item: yield* store.get(id), history: yield* store.history(id) }
        }),
      )
      expect(after.item.stage).toEqual({ _tag: "Coding" })
      expect(after.history.map(({ event, by }) => [event, by])).toEqual([
        ["Created", undefined],
        ["Start", "mcp:y"],
      ])
    }).pipe(Effect.scoped),
  )

  it.effect("an entry that does not decode is a ProjectionError naming it, not a silent gap", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      yield* withStore(
        db,
        Effect.gen(function* () {
          // Another writer (say, a newer peer) stored an item with an entry this version cannot read.
          const foreign = new Y.Doc()
          const fields = new Y.Map<unknown>()
          foreign.getMap("items").set("7_story_odd", fields)
          for (const [key, value] of Object.entries({
            kind: "story",
            stage: { _tag: "Backlog" },
            attempts: 0,
          }))
            fields.set(key, value)
          fields.set("createdAt", 1)
          fields.set("updatedAt", 1)
          const history = new Y.Doc()
          const entries = new Y.Array<unknown>()
          history.getMap("history").set("7_story_odd", entries)
          entries.push([
            { at: 1, event: "Created", to: "Backlog" },
            { at: "yesterday", event: "Start", to: "Coding" },
          ])
          const persistence = yield* Persistence
          yield* persistence.append(Y.encodeStateAsUpdate(foreign))
          yield* persistence.history.append(Y.encodeStateAsUpdate(history))
        }),
      )
      const read = yield* withStore(
        db,
        Effect.flatMap(Store, (store) => Effect.either(store.history(StoryId.make("7_story_odd")))),
      )
      expect(Either.isLeft(read) && read.left._tag).toBe("ProjectionError")
      if (Either.isLeft(read) && read.left._tag === "ProjectionError") {
        expect(read.left.path).toBe("history/7_story_odd/1")
        expect(read.left.detail).toContain("at")
      }
    }).pipe(Effect.scoped),
  )
})
