// test/layers/Outbox.test.ts — the chat outbox's own records on a real SQLite file: prompts recorded before
// their send, an outbox from before that (its `prompts` table) carried over, and the adapters' memories
// bounded to the newest entries per kind.
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Context, Effect, Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { keepMemories, Outbox, OutboxLive } from "../../src/layers/Outbox.js"

const outboxPath = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "huskies-outbox-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
).pipe(Effect.map((dir) => join(dir, "outbox.db")))

const open = (path: string) =>
  Effect.map(Layer.build(OutboxLive(path).pipe(Layer.orDie)), (c) => Context.get(c, Outbox))

describe("Outbox", () => {
  it.scoped("a prompt is recorded once before its send, then gets its message; a restart keeps both", () =>
    Effect.gen(function* () {
      const path = yield* outboxPath
      const outbox = yield* open(path)
      expect(yield* outbox.recordPrompt("slack", "dec-1", "C-ops")).toBe(true)
      expect(yield* outbox.recordPrompt("slack", "dec-1", "C-ops")).toBe(false)
      expect(yield* outbox.prompt("slack", "dec-1")).toEqual({ room: "C-ops", messageId: undefined })
      yield* outbox.setPrompt("slack", "dec-1", { room: "C-ops", messageId: "171.1" })
      const again = yield* Effect.scoped(open(path).pipe(Effect.flatMap((o) => o.prompt("slack", "dec-1"))))
      expect(again).toEqual({ room: "C-ops", messageId: "171.1" })
      expect(yield* outbox.prompt("matrix", "dec-1")).toBeUndefined()
    }),
  )

  it.scoped("an outbox written before prompts were recorded ahead of their send keeps its sent prompts", () =>
    Effect.gen(function* () {
      const path = yield* outboxPath
      const old = new Database(path)
      old.exec(`CREATE TABLE prompts (
        platform TEXT NOT NULL, decision TEXT NOT NULL, room TEXT NOT NULL, message_id TEXT NOT NULL,
        PRIMARY KEY (platform, decision));
        INSERT INTO prompts VALUES ('matrix', 'dec-9', '!ops:x', '$ev9');`)
      old.close()
      const outbox = yield* open(path)
      expect(yield* outbox.prompt("matrix", "dec-9")).toEqual({ room: "!ops:x", messageId: "$ev9" })
      expect(yield* outbox.recordPrompt("matrix", "dec-9", "!ops:x")).toBe(false)
      const tables = new Database(path, { readonly: true })
      const names = tables.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
      tables.close()
      expect(names).not.toContainEqual({ name: "prompts" })
    }),
  )

  it.scoped("memories: per platform and kind, the newest kept past the bound, forgotten on request", () =>
    Effect.gen(function* () {
      const outbox = yield* open(yield* outboxPath)
      for (let i = 0; i < keepMemories + 5; i++)
        yield* outbox.memorise("whatsapp", "sent", `n${i}`, `wamid.${i}`)
      yield* outbox.memorise("whatsapp", "window", "n0", "1700000000000")
      expect(yield* outbox.recall("whatsapp", "sent", "n4")).toBeUndefined()
      expect(yield* outbox.recall("whatsapp", "sent", "n5")).toBe("wamid.5")
      expect(yield* outbox.recall("whatsapp", "sent", `n${keepMemories + 4}`)).toBe(
        `wamid.${keepMemories + 4}`,
      )
      // Another kind and another platform have bounds of their own.
      expect(yield* outbox.recall("whatsapp", "window", "n0")).toBe("1700000000000")
      expect(yield* outbox.recall("matrix", "sent", "n5")).toBeUndefined()
      yield* outbox.memorise("whatsapp", "sent", "n5", undefined)
      expect(yield* outbox.recall("whatsapp", "sent", "n5")).toBeUndefined()
    }),
  )
})
