// src/transports/tools/usageTools.ts — get_token_usage: tokens and cost of finished agent runs from the
// usage ledger (.huskies/logs/usage.jsonl), filtered and grouped by item, agent, model and UTC day.
// For people and chat watching spend; agents do not need it to do their work.
import { Effect, Schema } from "effect"
import { StoryId } from "../../domain/StoryId.js"
import { Project } from "../../layers/Project.js"
import {
  aggregateUsage,
  readUsage,
  roundUsd,
  type UsageFilters,
  type UsageGroup,
  usageGroups,
  type UsageTotals,
} from "../../layers/Usage.js"
import { agentNameParam } from "./itemAccess.js"
import { defineTool } from "./Tool.js"

const Day = Schema.String.pipe(
  Schema.filter(
    (s) =>
      (/^\d{4}-\d{2}-\d{2}$/.test(s) &&
        Date.parse(`${s}T00:00:00Z`) >= 0 &&
        new Date(`${s}T00:00:00Z`).toISOString().startsWith(s)) ||
      "expected a date written YYYY-MM-DD, e.g. 2025-01-31",
  ),
).annotations({
  jsonSchema: {
    type: "string",
    pattern: "^\\d{4}-\\d{2}-\\d{2}$",
    description: "only runs on this UTC day (YYYY-MM-DD) or later",
  },
})

const totalsFields = {
  runs: Schema.Number,
  input_tokens: Schema.Number,
  output_tokens: Schema.Number,
  cache_read: Schema.Number,
  cache_creation: Schema.Number,
  cost_usd: Schema.Number.annotations({ description: "sum of the known costs; unpriced runs count as 0" }),
  priced_runs: Schema.Number.annotations({
    description: "runs with a known cost (fewer than runs: cost_usd is a lower bound)",
  }),
}

const totalsView = (t: UsageTotals) => ({
  runs: t.runs,
  input_tokens: t.inputTokens,
  output_tokens: t.outputTokens,
  cache_read: t.cacheRead,
  cache_creation: t.cacheCreation,
  cost_usd: roundUsd(t.costUsd),
  priced_runs: t.pricedRuns,
})

/**
 * Tokens and cost from the usage ledger, filtered, one row per combination of `groupBy` keys, with the
 * total. get_token_usage returns it; the chat command `cost` writes it out.
 */
export const usageReport = (filters: UsageFilters, groupBy: ReadonlyArray<UsageGroup>) =>
  Effect.gen(function* () {
    const project = yield* Project
    const ledger = yield* readUsage(project.root)
    const groups = usageGroups.filter((g) => groupBy.includes(g))
    const report = aggregateUsage(ledger.records, filters, groups)
    return {
      ledger_path: ledger.path,
      unreadable_lines: ledger.unreadableLines,
      group_by: groups,
      rows: report.rows.map((row) => ({
        ...(row.storyId === undefined ? {} : { story_id: row.storyId }),
        ...(row.agent === undefined ? {} : { agent: row.agent }),
        ...(row.model === undefined ? {} : { model: row.model }),
        ...(row.day === undefined ? {} : { day: row.day }),
        ...totalsView(row),
      })),
      total: totalsView(report.total),
    }
  })

export type UsageReportView = Effect.Effect.Success<ReturnType<typeof usageReport>>

export const getTokenUsage = defineTool({
  name: "get_token_usage",
  description:
    "Tokens (input, output, cache read, cache creation) and cost of finished agent runs, from the usage ledger .huskies/logs/usage.jsonl. Filter by story_id, agent, model and since (a UTC day, YYYY-MM-DD, inclusive); group_by any of item, agent, model, day (UTC; default all four, [] for the grand total only). Each row and the total count runs and priced_runs: a run without a known price adds 0 to cost_usd. Does not block.",
  input: {
    story_id: Schema.optional(StoryId.annotations({ description: "only this work item" })),
    agent: Schema.optional(agentNameParam("only this agent, e.g. coder-1")),
    model: Schema.optional(
      Schema.String.annotations({
        description: "only this model",
      }),
    ),
    since: Schema.optional(
      Day.annotations({
        description: "only runs on this UTC day (YYYY-MM-DD) or later",
      }),
    ),
    group_by: Schema.optional(
      Schema.Array(Schema.Literal(...usageGroups)).annotations({
        description: "what each row stands for (default item, agent, model and day)",
      }),
    ),
  },
  output: Schema.Struct({
    ledger_path: Schema.String,
    unreadable_lines: Schema.Number.annotations({
      description: "ledger lines that are not a run record, left out",
    }),
    group_by: Schema.Array(Schema.Literal(...usageGroups)),
    rows: Schema.Array(
      Schema.Struct({
        story_id: Schema.optional(Schema.String),
        agent: Schema.optional(Schema.String),
        model: Schema.optional(Schema.NullOr(Schema.String)),
        day: Schema.optional(Schema.String),
        ...totalsFields,
      }),
    ),
    total: Schema.Struct(totalsFields),
  }),
  run: ({ story_id, agent, model, since, group_by }) =>
    usageReport(
      {
        ...(story_id === undefined ? {} : { storyId: story_id }),
        ...(agent === undefined ? {} : { agent }),
        ...(model === undefined ? {} : { model }),
        ...(since === undefined ? {} : { since }),
      },
      group_by ?? usageGroups,
    ),
})

export const usageTools = [getTokenUsage] as const
