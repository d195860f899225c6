// test/layers/Logs.test.ts — structured log lines (level, time, component) and the bounded ring.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { LogBuffer, LogRing, LogsLive, queryLogs, withComponent } from "../../src/layers/Logs.js"

describe("Logs", () => {
  it.effect("writes level, time and component and keeps entries for queries", () => {
    const lines: Array<string> = []
    return Effect.gen(function* () {
      yield* Effect.logInfo("store opened").pipe(Effect.annotateLogs("items", 3), withComponent("store"))
      yield* Effect.logWarning("slow write").pipe(withComponent("store"))
      yield* Effect.logDebug("hidden below the minimum level")
      yield* Effect.logError("boom").pipe(withComponent("merge"))
      const buffer = yield* LogBuffer
      const all = yield* buffer.query({})
      expect(all.map((e) => [e.level, e.component, e.message])).toEqual([
        ["INFO", "store", "store opened"],
        ["WARN", "store", "slow write"],
        ["ERROR", "merge", "boom"],
      ])
      expect(all[0]?.fields).toEqual({ items: 3 })
      expect((yield* buffer.query({ level: "Warning" })).map((e) => e.message)).toEqual([
        "slow write",
        "boom",
      ])
      expect((yield* buffer.query({ text: "MERGE" })).map((e) => e.message)).toEqual(["boom"])
      expect((yield* buffer.query({ limit: 1 })).map((e) => e.message)).toEqual(["boom"])
      expect(lines[0]).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO +\[store\] store opened items=3\n$/,
      )
    }).pipe(Effect.provide(LogsLive({ write: (l) => lines.push(l) })))
  })

  it("the ring keeps only the newest entries", () => {
    const ring = new LogRing(3)
    for (let i = 0; i < 10; i++) {
      ring.push({ time: i, level: "INFO", component: "t", message: `m${i}`, fields: {} })
    }
    expect(ring.toArray().map((e) => e.message)).toEqual(["m7", "m8", "m9"])
    expect(queryLogs(ring, { limit: 2 }).map((e) => e.message)).toEqual(["m8", "m9"])
  })
})
