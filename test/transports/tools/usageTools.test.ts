// test/transports/tools/usageTools.test.ts — get_token_usage over a real ledger file: grouped rows and the
// grand total, filters, unpriced runs, unreadable lines reported, and bad parameters refused by name.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { appendFileSync } from "node:fs"
import { appendUsage, usageLedgerPath, type UsageRecord } from "../../../src/layers/Usage.js"
import { err, ok, withTools } from "../../support/tools.js"
import { usageRecord } from "../../support/usage.js"

const run = (over: Partial<UsageRecord> = {}): UsageRecord => usageRecord({ costUsd: 0.1, ...over })

describe("get_token_usage", () => {
  it.effect("answers with no runs before the ledger exists", () =>
    withTools((root) =>
      Effect.gen(function* () {
        expect(yield* ok("get_token_usage", {})).toMatchObject({
          ledger_path: usageLedgerPath(root),
          unreadable_lines: 0,
          group_by: ["item", "agent", "model", "day"],
          rows: [],
          total: { runs: 0, cost_usd: 0, priced_runs: 0 },
        })
      }),
    ),
  )

  it.effect("groups, filters and totals the ledger's runs", () =>
    withTools((root) =>
      Effect.gen(function* () {
        yield* appendUsage(root, run({}))
        yield* appendUsage(root, run({ session: 2, costUsd: 0.2 }))
        yield* appendUsage(root, run({ agent: "qa", role: "qa", model: null, costUsd: null }))
        yield* appendUsage(root, run({ storyId: "2_bug_b", time: "2025-03-04T01:00:00.000Z" }))
        appendFileSync(usageLedgerPath(root), "garbage\n")

        const all = yield* ok("get_token_usage", {})
        expect(all["unreadable_lines"]).toBe(1)
        expect(all["rows"]).toEqual([
          {
            story_id: "1_story_a",
            agent: "coder-1",
            model: "sonnet",
            day: "2025-03-01",
            runs: 2,
            input_tokens: 200,
            output_tokens: 20,
            cache_read: 2000,
            cache_creation: 100,
            cost_usd: 0.3,
            priced_runs: 2,
          },
          expect.objectContaining({ agent: "qa", model: null, runs: 1, cost_usd: 0, priced_runs: 0 }),
          expect.objectContaining({ story_id: "2_bug_b", day: "2025-03-04", runs: 1 }),
        ])
        expect(all["total"]).toMatchObject({ runs: 4, input_tokens: 400, cost_usd: 0.4, priced_runs: 3 })

        const byAgent = yield* ok("get_token_usage", { story_id: "1_story_a", group_by: ["agent"] })
        expect(byAgent["rows"]).toEqual([
          expect.objectContaining({ agent: "coder-1", runs: 2 }),
          expect.objectContaining({ agent: "qa", runs: 1 }),
        ])
        expect(Object.keys((byAgent["rows"] as Array<object>)[0] ?? {})).not.toContain("story_id")

        const since = yield* ok("get_token_usage", { since: "2025-03-02", group_by: [] })
        expect(since["rows"]).toEqual([expect.objectContaining({ runs: 1 })])
        expect(since["total"]).toMatchObject({ runs: 1 })
        const sonnet = yield* ok("get_token_usage", { model: "sonnet", agent: "coder-1", group_by: ["day"] })
        expect((sonnet["rows"] as Array<{ day: string }>).map((r) => r.day)).toEqual([
          "2025-03-01",
          "2025-03-04",
        ])
      }),
    ),
  )

  it.effect("refuses a malformed since and an unknown grouping, naming the parameter", () =>
    withTools(() =>
      Effect.gen(function* () {
        expect(yield* err("get_token_usage", { since: "2025-3-1" })).toContain('parameter "since"')
        expect(yield* err("get_token_usage", { since: "2025-02-30" })).toContain("YYYY-MM-DD")
        expect(yield* err("get_token_usage", { group_by: ["week"] })).toContain('parameter "group_by.0"')
      }),
    ),
  )
})
