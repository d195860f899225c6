// test/layers/Persistence.test.ts — the database file itself: versioned migrations run once,
// a file from a newer huskies is refused with a clear error, and the node id is stable.
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { join } from "node:path"
import { latestSchemaVersion } from "../../src/layers/migrations.js"
import { Persistence, PersistenceLive } from "../../src/layers/Persistence.js"
import { scopedTempDir } from "../support/tempDir.js"

const open = (path: string) => Effect.scoped(Effect.provide(Persistence, PersistenceLive(path)))

describe("Persistence", () => {
  it.effect("migrates a new file once, keeps the node id, and is idempotent on reopen", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const path = join(dir, "nested", "huskies.db")
      const first = yield* open(path)
      const second = yield* open(path)
      expect(second.nodeId).toBe(first.nodeId)
      const db = new Database(path, { readonly: true })
      const versions = db.prepare("SELECT version FROM schema_version ORDER BY version").all()
      const journal = db.pragma("journal_mode", { simple: true })
      db.close()
      expect(versions).toEqual(Array.from({ length: latestSchemaVersion }, (_, i) => ({ version: i + 1 })))
      expect(journal).toBe("wal")
    }).pipe(Effect.scoped),
  )

  it.effect("refuses a database written by a newer huskies, naming both versions", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const path = join(dir, "huskies.db")
      yield* open(path)
      const db = new Database(path)
      db.prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', 0)").run(
        latestSchemaVersion + 1,
      )
      db.close()
      const error = yield* Effect.flip(open(path))
      expect(error._tag).toBe("PersistError")
      expect(error.message).toContain(`schema version ${latestSchemaVersion + 1}`)
      expect(error.message).toContain("upgrade huskies")
    }).pipe(Effect.scoped),
  )

  it.effect("appends return increasing sequence numbers and load returns them after a snapshot", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const path = join(dir, "huskies.db")
      yield* Effect.scoped(
        Effect.provide(
          Effect.gen(function* () {
            const p = yield* Persistence
            const a = yield* p.append(new Uint8Array([1]))
            const b = yield* p.append(new Uint8Array([2]))
            expect(b).toBe(a + 1)
            yield* p.compact(new Uint8Array([9, 9]), b)
            yield* p.append(new Uint8Array([3]))
            const state = yield* p.load
            expect([...(state.snapshot ?? [])]).toEqual([9, 9])
            expect(state.snapshotSeq).toBe(b)
            expect(state.tail.map((u) => [...u])).toEqual([[3]])
            expect(state.lastSeq).toBe(b + 1)
          }),
          PersistenceLive(path),
        ),
      )
    }).pipe(Effect.scoped),
  )
})
