// test/layers/SessionLog.test.ts — session logs on disk: numbered per agent, never reused, start and
// end markers, readable after the writer is gone, torn lines tolerated.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { appendFileSync } from "node:fs"
import { listSessionLogs, openSessionLog, readSessionLog } from "../../src/layers/SessionLog.js"
import { scopedTempDir } from "../support/tempDir.js"

describe("SessionLog", () => {
  it.effect("numbers sessions per agent, marks start and end, and reads back past sessions", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const id = "3_story_login"
      const first = yield* Effect.scoped(
        Effect.gen(function* () {
          const log = yield* openSessionLog(dir, id, "coder-1")
          yield* log.append({ type: "text", text: "working" })
          return log
        }),
      )
      const second = yield* Effect.scoped(
        Effect.flatMap(openSessionLog(dir, id, "coder-1"), (log) =>
          Effect.as(log.append({ type: "text" }), log),
        ),
      )
      yield* Effect.scoped(openSessionLog(dir, id, "qa"))
      expect([first.session, second.session]).toEqual([1, 2])
      expect(listSessionLogs(dir, id).map((f) => `${f.agent}-${f.session}`)).toEqual([
        "coder-1-1",
        "coder-1-2",
        "qa-1",
      ])
      const entries = readSessionLog(first.path)
      expect(entries.map((e) => e["type"])).toEqual(["session_start", "text", "session_end"])
      expect(entries[2]?.["exit"]).toBe("Success")
      appendFileSync(first.path, '{"type":"torn')
      expect(readSessionLog(first.path).at(-1)).toMatchObject({ type: "unreadable_line" })
      expect(readSessionLog(first.path, 2).length).toBe(2)
      const refused = yield* Effect.flip(Effect.scoped(openSessionLog(dir, id, "../escape")))
      expect(refused._tag).toBe("SessionLogError")
    }).pipe(Effect.scoped),
  )
})
