// test/layers/SessionLog.test.ts — session logs on disk: numbered per agent, never reused (not even by two
// runs opening at once), start and end markers, readable after the writer is gone (which writes nothing more),
// torn lines tolerated, and a line that is not an entry logged as a tagged error and skipped; the rest reads.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { appendFileSync } from "node:fs"
import { LogsLive } from "../../src/layers/Logs.js"
import { listSessionLogs, openSessionLog, readSessionLog, SessionLog } from "../../src/layers/SessionLog.js"
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
      expect((yield* (yield* SessionLog).list(dir, id)).map((f) => `${f.agent}-${f.session}`)).toEqual([
        "coder-1-1",
        "coder-1-2",
        "qa-1",
      ])
      const entries = readSessionLog(first.path)
      expect(entries.map((e) => e["type"])).toEqual(["session_start", "text", "session_end"])
      expect(entries[2]?.["exit"]).toBe("Success")
      // A torn last line (a crash mid-write, or a writer still writing) is left out.
      appendFileSync(first.path, '{"type":"torn')
      expect(readSessionLog(first.path).map((e) => e["type"])).toEqual([
        "session_start",
        "text",
        "session_end",
      ])
      expect(readSessionLog(first.path, 2).length).toBe(2)
      const refused = yield* Effect.flip(Effect.scoped(openSessionLog(dir, id, "../escape")))
      expect(refused._tag).toBe("SessionLogError")
    }).pipe(Effect.scoped),
  )

  it.effect(
    "lines appended in a burst from several fibers all reach the file, in order, before it closes",
    () =>
      Effect.gen(function* () {
        const dir = yield* scopedTempDir
        const log = yield* Effect.scoped(
          Effect.gen(function* () {
            const log = yield* openSessionLog(dir, "4_story_burst", "coder-1")
            yield* Effect.forEach(
              [0, 1, 2, 3],
              (fiber) =>
                Effect.forEach(
                  Array.from({ length: 250 }, (_, i) => i),
                  (i) => log.append({ type: "text", fiber, i }),
                ),
              { concurrency: "unbounded" },
            )
            return log
          }),
        )
        const entries = readSessionLog(log.path)
        expect(entries.length).toBe(1002)
        expect(entries[0]?.["type"]).toBe("session_start")
        expect(entries[1001]?.["type"]).toBe("session_end")
        for (const fiber of [0, 1, 2, 3]) {
          const seen = entries.filter((e) => e["fiber"] === fiber).map((e) => e["i"])
          expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => i))
        }
      }).pipe(Effect.scoped),
  )

  it.effect(
    "entries appended together are one write; an append after the log closed fails and writes nothing",
    () =>
      Effect.gen(function* () {
        const dir = yield* scopedTempDir
        const log = yield* Effect.scoped(
          Effect.gen(function* () {
            const log = yield* openSessionLog(dir, "6_story_late", "coder-1")
            yield* log.appendAll([
              { type: "text", i: 1 },
              { type: "text", i: 2 },
            ])
            return log
          }),
        )
        const late = yield* Effect.flip(log.append({ type: "text", i: 3 }))
        expect(late._tag).toBe("SessionLogError")
        expect(late.message).toContain("the session has ended")
        expect(readSessionLog(log.path).map((e) => e["i"] ?? e["type"])).toEqual([
          "session_start",
          1,
          2,
          "session_end",
        ])
      }).pipe(Effect.scoped),
  )

  it.effect("two runs of one agent opening at once get two sessions", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const id = "4_story_race"
      const sessions = yield* Effect.all(
        [0, 1, 2].map(() => Effect.map(openSessionLog(dir, id, "coder-1"), (log) => log.session)),
        { concurrency: "unbounded" },
      )
      expect([...sessions].sort()).toEqual([1, 2, 3])
    }).pipe(Effect.scoped),
  )

  it.effect("a line that is not an entry is logged as a tagged error and skipped; the rest still reads", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const id = "5_story_bad_line"
      const path = yield* Effect.scoped(
        Effect.gen(function* () {
          const log = yield* openSessionLog(dir, id, "coder-1")
          yield* log.append({ type: "text", text: "before" })
          return log.path
        }),
      )
      appendFileSync(path, '{"no type":1}\nnot json\n{"type":"text","text":"after"}\n{"type":"to')
      const lines: Array<string> = []
      const entries = yield* (yield* SessionLog)
        .read(path)
        .pipe(Effect.provide(LogsLive({ write: (line) => void lines.push(line) })))
      expect(entries.map((e) => e.type)).toEqual(["session_start", "text", "session_end", "text"])
      expect(entries.at(-1)?.["text"]).toBe("after")
      expect(lines).toHaveLength(2)
      expect(lines[0]).toContain(`session log line at ${path}:4`)
      expect(lines[0]).toContain('["type"]')
      expect(lines[1]).toContain(`session log line at ${path}:5`)
      for (const line of lines) {
        expect(line).toContain("WARN")
        expect(line).toContain('error="UnreadableRecord"')
      }
      // The blocking reader keeps the bad lines in place, so a person reading the log sees them.
      expect(readSessionLog(path).map((e) => e["type"])).toEqual([
        "session_start",
        "text",
        "session_end",
        "unreadable_line",
        "unreadable_line",
        "text",
      ])
    }).pipe(Effect.scoped),
  )
})
