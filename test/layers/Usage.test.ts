// test/layers/Usage.test.ts — the usage ledger on disk (append, read back whole or from a cursor, a torn last
// line skipped, bad lines counted) and aggregateUsage: a table of groupings and filters, and properties every report keeps.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import { appendFileSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs"
import {
  aggregateUsage,
  appendUsage,
  parseUsage,
  readUsage,
  readUsageSince,
  usageCursorStart,
  usageGroups,
  usageBeforeResume,
  usageLedgerPath,
  type UsageRecord,
} from "../../src/layers/Usage.js"
import { LogsLive } from "../../src/layers/Logs.js"
import { minusUsage } from "../../src/actors/agentOutput.js"
import { scopedTempDir } from "../support/tempDir.js"
import { usageRecord } from "../support/usage.js"

const record = usageRecord

describe("usage ledger", () => {
  it.scoped("appends one line per run and reads them back; a missing ledger is no runs", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      expect(yield* readUsage(root)).toEqual({
        path: usageLedgerPath(root),
        records: [],
        unreadableLines: 0,
        unreadable: [],
      })
      const a = record()
      const b = record({ storyId: "2_bug_b", model: null, costUsd: null })
      yield* appendUsage(root, a)
      yield* appendUsage(root, b)
      const text = readFileSync(usageLedgerPath(root), "utf8")
      expect(text.split("\n")).toHaveLength(3)
      expect(JSON.parse(text.split("\n")[0] ?? "")).toEqual(a)
      expect((yield* readUsage(root)).records).toEqual([a, b])
    }),
  )

  it.scoped("logs each unreadable line as a tagged error and skips it; a torn last line only skipped", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const path = usageLedgerPath(root)
      yield* appendUsage(root, record())
      appendFileSync(path, 'not json\n{"time":"2025-03-01T00:00:00Z","storyId":1}\n')
      yield* appendUsage(root, record({ session: 2 }))
      appendFileSync(path, '{"time":"2025-03-02T00:00:00Z","storyId":"1_st')
      const lines: Array<string> = []
      const ledger = yield* readUsage(root).pipe(
        Effect.provide(LogsLive({ write: (l) => void lines.push(l) })),
      )
      expect(ledger.records.map((r) => r.session)).toEqual([1, 2])
      expect(ledger.unreadableLines).toBe(2)
      expect(ledger.unreadable.map((e) => [e._tag, e.path, e.line])).toEqual([
        ["UnreadableRecord", path, 2],
        ["UnreadableRecord", path, 3],
      ])
      expect(ledger.unreadable[1]?.detail).toContain("storyId")
      expect(lines).toHaveLength(2)
      for (const [i, line] of [2, 3].entries()) {
        expect(lines[i]).toContain("WARN")
        expect(lines[i]).toContain(`usage ledger line at ${path}:${line}`)
        expect(lines[i]).toContain('error="UnreadableRecord"')
      }
    }),
  )

  it("counts a complete last line that does not decode", () => {
    expect(parseUsage("{}\n").unreadableLines).toBe(1)
    expect(parseUsage("{}").unreadableLines).toBe(0)
    expect(parseUsage("").records).toEqual([])
  })

  it.scoped("reads from a cursor only the whole lines appended since; a replaced ledger is read again", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const path = usageLedgerPath(root)
      const none = yield* readUsageSince(root, usageCursorStart)
      expect(none).toMatchObject({ records: [], restarted: false })
      yield* appendUsage(root, record())
      yield* appendUsage(root, record({ session: 2 }))
      const first = yield* readUsageSince(root, none.cursor)
      expect(first.records.map((r) => r.session)).toEqual([1, 2])
      expect(first.cursor.offset).toBe(statSync(path).size)
      expect(yield* readUsageSince(root, first.cursor)).toEqual({ ...first, records: [] })
      // A line still being written is left for the next read; a bad one is named by its line in the file.
      appendFileSync(path, 'not json\n{"time":"2025-03-02T00:00:00Z","storyId":"1_st')
      const lines: Array<string> = []
      const second = yield* readUsageSince(root, first.cursor).pipe(
        Effect.provide(LogsLive({ write: (l) => void lines.push(l) })),
      )
      expect(second.records).toEqual([])
      expect(lines.map((l) => l.includes(`usage ledger line at ${path}:3`))).toEqual([true])
      appendFileSync(path, 'ory_a"}\n')
      yield* appendUsage(root, record({ session: 3 }))
      const third = yield* readUsageSince(root, second.cursor).pipe(
        Effect.provide(LogsLive({ write: () => {} })),
      )
      expect(third.records.map((r) => r.session)).toEqual([3])
      expect(third.cursor.lines).toBe(5)
      // Replaced by a shorter ledger (another file): read from its start, and said so.
      writeFileSync(`${path}.new`, "")
      renameSync(`${path}.new`, path)
      yield* appendUsage(root, record({ session: 9 }))
      const again = yield* readUsageSince(root, third.cursor)
      expect(again.restarted).toBe(true)
      expect(again.records.map((r) => r.session)).toEqual([9])
    }),
  )

  it.scoped("refuses to append a record that would not read back", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const failed = yield* Effect.flip(appendUsage(root, record({ time: "yesterday" })))
      expect(failed._tag).toBe("UsageLedgerError")
      expect(existsSync(usageLedgerPath(root))).toBe(false)
    }),
  )
})

describe("aggregateUsage", () => {
  const records = [
    record(),
    record({ session: 2, time: "2025-03-01T23:59:59.999Z", costUsd: 0.25 }),
    record({ agent: "qa", role: "qa", time: "2025-03-02T00:00:00.000Z", costUsd: null }),
    record({ storyId: "2_bug_b", model: null, time: "2025-03-03T08:00:00+05:00" }),
  ]

  const table: ReadonlyArray<
    readonly [string, Parameters<typeof aggregateUsage>[1], Parameters<typeof aggregateUsage>[2], unknown]
  > = [
    ["no grouping: one row equal to the total", {}, [], [{ runs: 4, costUsd: 1.25, pricedRuns: 3 }]],
    [
      "by item",
      {},
      ["item"],
      [
        { storyId: "1_story_a", runs: 3, inputTokens: 300, costUsd: 0.75, pricedRuns: 2 },
        { storyId: "2_bug_b", runs: 1, inputTokens: 100, costUsd: 0.5, pricedRuns: 1 },
      ],
    ],
    [
      "by UTC day (an offset time falls on its UTC date)",
      {},
      ["day"],
      [
        { day: "2025-03-01", runs: 2 },
        { day: "2025-03-02", runs: 1, pricedRuns: 0, costUsd: 0 },
        { day: "2025-03-03", runs: 1 },
      ],
    ],
    [
      "by model: a null model is its own group",
      {},
      ["model"],
      [
        { model: null, runs: 1 },
        { model: "sonnet", runs: 3 },
      ],
    ],
    [
      "filtered by agent and since, grouped by agent and day",
      { agent: "coder-1", since: "2025-03-02" },
      ["agent", "day"],
      [{ agent: "coder-1", day: "2025-03-03", runs: 1 }],
    ],
    ["filtered by model", { model: "sonnet", storyId: "2_bug_b" }, ["item"], []],
  ]

  for (const [name, filters, groupBy, rows] of table) {
    it(name, () => {
      const report = aggregateUsage(records, filters, groupBy)
      expect(report.rows).toMatchObject(rows as Array<object>)
      expect(report.rows).toHaveLength((rows as Array<unknown>).length)
      for (const row of report.rows) {
        for (const key of ["storyId", "agent", "model", "day"] as const) {
          const group = key === "storyId" ? "item" : key
          expect(key in row).toBe(groupBy.includes(group))
        }
      }
    })
  }

  const arbitraryRecord = fc.record({
    time: fc
      .integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2026, 0, 1) })
      .map((ms) => new Date(ms).toISOString()),
    storyId: fc.constantFrom("1_story_a", "2_bug_b", "3_spike_c"),
    agent: fc.constantFrom("coder-1", "coder-2", "qa"),
    role: fc.constant("coder"),
    runtime: fc.constant("claude-code"),
    model: fc.constantFrom("sonnet", "opus", null),
    session: fc.nat(5),
    outcome: fc.constant("succeeded"),
    numTurns: fc.nat(50),
    inputTokens: fc.nat(1_000_000),
    outputTokens: fc.nat(1_000_000),
    cacheRead: fc.nat(1_000_000),
    cacheCreation: fc.nat(1_000_000),
    costUsd: fc.option(
      fc.integer({ min: 0, max: 10_000 }).map((c) => c / 100),
      { nil: null },
    ),
  })

  it("rows partition the matching runs: they sum to the total, and no group repeats (property)", () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryRecord, { maxLength: 40 }),
        fc.subarray([...usageGroups]),
        fc.record(
          { agent: fc.constantFrom("coder-1", "qa"), since: fc.constantFrom("2024-06-01", "2025-06-01") },
          {
            requiredKeys: [],
          },
        ),
        (rs, groupBy, filters) => {
          const report = aggregateUsage(rs, filters, groupBy)
          const matching = rs.filter(
            (r) =>
              (filters.agent === undefined || r.agent === filters.agent) &&
              (filters.since === undefined || r.time.slice(0, 10) >= filters.since),
          )
          expect(report.total.runs).toBe(matching.length)
          expect(report.total.pricedRuns).toBe(matching.filter((r) => r.costUsd !== null).length)
          const sum = (f: (row: (typeof report.rows)[number]) => number) =>
            report.rows.reduce((acc, row) => acc + f(row), 0)
          expect(sum((r) => r.runs)).toBe(report.total.runs)
          expect(sum((r) => r.inputTokens)).toBe(report.total.inputTokens)
          expect(sum((r) => r.outputTokens)).toBe(report.total.outputTokens)
          expect(sum((r) => r.cacheRead)).toBe(report.total.cacheRead)
          expect(sum((r) => r.cacheCreation)).toBe(report.total.cacheCreation)
          expect(sum((r) => r.pricedRuns)).toBe(report.total.pricedRuns)
          expect(sum((r) => r.costUsd)).toBeCloseTo(report.total.costUsd, 6)
          const keys = report.rows.map((r) => JSON.stringify([r.storyId, r.agent, r.model, r.day]))
          expect(new Set(keys).size).toBe(keys.length)
          if (matching.length > 0 && groupBy.length === 0) expect(report.rows).toHaveLength(1)
          if (matching.length === 0) expect(report.rows).toEqual([])
        },
      ),
    )
  })
})

describe("usage of a resumed session", () => {
  const run = (over: Partial<UsageRecord>) => record({ cacheRead: 0, cacheCreation: 0, ...over })

  it("earlier runs of the same session are what a running-total CLI counts again", () => {
    const ledger = [
      run({ storyId: "1_story_a", sessionId: "thread-1", inputTokens: 100, outputTokens: 10 }),
      run({ storyId: "1_story_a", sessionId: "thread-1", inputTokens: 50, outputTokens: 5 }),
      run({ storyId: "1_story_a", sessionId: "thread-2", inputTokens: 999, outputTokens: 999 }),
      run({ storyId: "2_story_b", sessionId: "thread-1", inputTokens: 999, outputTokens: 999 }),
      run({ storyId: "1_story_a", inputTokens: 999, outputTokens: 999 }),
    ]
    const earlier = usageBeforeResume(ledger, "1_story_a", "thread-1")
    expect(earlier).toEqual({ inputTokens: 150, outputTokens: 15, cacheRead: 0, cacheCreation: 0 })
    // The third run reports the thread's total of 200 in, 20 out: it used 50 and 5 itself.
    const total = { inputTokens: 200, outputTokens: 20, cacheRead: 0, cacheCreation: 0 }
    expect(minusUsage(total, earlier)).toEqual({
      inputTokens: 50,
      outputTokens: 5,
      cacheRead: 0,
      cacheCreation: 0,
    })
    // A counter that restarted is not charged a negative run.
    expect(minusUsage({ ...total, inputTokens: 10 }, earlier).inputTokens).toBe(0)
  })
})
