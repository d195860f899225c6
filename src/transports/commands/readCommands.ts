// src/transports/commands/readCommands.ts — the chat commands that only read: help, status [n], backlog,
// show n, cost [n|today], queue. Each takes the shape the matching MCP tool returns (the same shared
// function builds it) and writes it as short markdown-ish text for chat and the UI's command bar.
import { Clock, Effect, Match } from "effect"
import { PipelineView } from "../../actors/PipelineView.js"
import { type Verb, verbHelp, verbs } from "../../domain/chatCommand.js"
import { describeDelay } from "../../domain/chatTime.js"
import type { ExecutionState } from "../../domain/ExecutionState.js"
import type { HistoryEntry } from "../../domain/History.js"
import type { StoryId } from "../../domain/StoryId.js"
import type { UsageFilters, UsageGroup } from "../../layers/Usage.js"
import { type PipelineStatus, pipelineStatus } from "../tools/boardTools.js"
import { type ItemStatus, itemStatus } from "../tools/inspectTools.js"
import { mergeQueueView } from "../tools/mergeTools.js"
import { usageReport, type UsageReportView } from "../tools/usageTools.js"

/** An item's number, as people type it; ids always start with it. */
export const numberOf = (id: string) => /^\d+/.exec(id)?.[0] ?? id

/** `12 Add login`: how an item reads in a reply. */
export const itemLabel = (id: string, name: string) => `${numberOf(id)} ${name}`

const bullets = (lines: ReadonlyArray<string>) => lines.map((l) => `- ${l}`).join("\n")

/** Finished stages grow without bound: a chat reply names only their newest few. */
const finishedLines = 5

// ------------------------------------------------------------------------------------------------ help

export const helpText = (verb: Verb | undefined): string => {
  if (verb !== undefined) {
    const help = verbHelp[verb]
    return `**${help.usage}**: ${help.does}.\nExample: ${help.example}`
  }
  return [
    "**Commands** (an item is its number, e.g. 12; help <command> explains one):",
    bullets(verbs.map((v) => `${verbHelp[v].usage}: ${verbHelp[v].does}`)),
  ].join("\n")
}

// ---------------------------------------------------------------------------------------------- status

export const boardText = (status: PipelineStatus): string => {
  const sections = status.stages.flatMap((stage) => {
    if (stage.count === 0) return []
    const finished = stage.stage === "Done" || stage.stage === "Archived"
    const shown = finished ? stage.items.slice(0, finishedLines) : stage.items
    const more = stage.count - shown.length
    // The column names the stage: an item's summary adds only what it says beyond that (a branch, a reason).
    const detail = (summary: string) => {
      const inner = new RegExp(`^${stage.stage} \\(([\\s\\S]*)\\)$`, "i").exec(summary)?.[1]
      if (inner !== undefined) return `, ${inner}`
      return summary.toLowerCase() === stage.stage.toLowerCase() ? "" : `, ${summary}`
    }
    const lines = shown.map((i) => `${itemLabel(i.id, i.name)} (${i.kind}${detail(i.stage)})`)
    return [
      `**${stage.stage}** (${stage.count})`,
      bullets(more > 0 ? [...lines, `… ${more} more${finished ? ", older" : ""}`] : lines),
    ]
  })
  const blocked =
    status.blocked.length === 0
      ? []
      : ["**Blocked**", bullets(status.blocked.map((b) => `${itemLabel(b.id, b.name)}: ${b.why}`))]
  const unreadable = [
    ...status.content_errors.map((e) => `${e.id}: ${e.message}`),
    ...status.projection_errors.map((e) => `${e.path}: ${e.detail}`),
  ]
  return [
    `**Pipeline**: ${status.summary}`,
    ...(sections.length === 0 ? ["The board is empty: file an item to start."] : sections),
    ...blocked,
    ...(unreadable.length === 0 ? [] : ["**Unreadable**", bullets(unreadable)]),
  ].join("\n")
}

const iso = (millis: number) => new Date(millis).toISOString()

const executionText = (state: ExecutionState): string =>
  Match.value(state).pipe(
    Match.tagsExhaustive({
      Idle: () => "idle",
      Pending: () => "waiting for an agent",
      Running: (s) => `${s.agent} (${s.role}) running since ${iso(s.startedAt)}`,
      RateLimited: (s) => `rate limited until ${iso(s.resetAt)}`,
      Completed: (s) => `last run ${s.outcome}`,
    }),
  )

/** The newest moves `status n` lists. */
const historyLines = 3

const historyText = (entry: HistoryEntry) =>
  `${iso(entry.at)} ${entry.event}${entry.from === undefined ? "" : ` ${entry.from} →`} ${entry.to}${entry.by === undefined ? "" : ` by ${entry.by}`}${entry.reason === undefined ? "" : `: ${entry.reason}`}`

export const itemText = (status: ItemStatus, history: ReadonlyArray<HistoryEntry> = []): string => {
  const execution = Object.entries(status.execution)
  const todos = status.todos
  return [
    `**${itemLabel(status.story_id, status.name)}** (${status.kind}, ${status.story_id}): ${status.stage.summary}`,
    bullets([
      ...execution.map(([node, state]) => `on ${node}: ${executionText(state)}`),
      `dependencies: ${status.dependencies_summary}`,
      todos.length === 0 ? "criteria: none left to do" : `to do: ${todos.map((t) => t.text).join("; ")}`,
      ...(status.attempts === 0 ? [] : [`attempts: ${status.attempts}`]),
      ...(status.feedback === undefined ? [] : [`last feedback: ${status.feedback}`]),
      ...(status.content_error === undefined ? [] : [`markdown does not parse: ${status.content_error}`]),
      `updated ${status.updated_at}`,
    ]),
    ...(history.length === 0
      ? []
      : ["Latest moves:", bullets(history.slice(-historyLines).map(historyText))]),
  ].join("\n")
}

export const statusReply = (id: StoryId | undefined) =>
  id === undefined
    ? Effect.map(pipelineStatus, boardText)
    : Effect.zipWith(
        itemStatus(id),
        Effect.flatMap(PipelineView, (view) => view.history(id)),
        itemText,
      )

export const showReply = (id: StoryId) =>
  Effect.map(
    itemStatus(id),
    (s) => `**${itemLabel(s.story_id, s.name)}** (${s.stage.summary})\n\n${s.content}`,
  )

// --------------------------------------------------------------------------------------------- backlog

export const backlogReply = Effect.gen(function* () {
  const status = yield* pipelineStatus
  const backlog = status.stages.find((s) => s.stage === "Backlog")?.items ?? []
  if (backlog.length === 0) return "The backlog is empty."
  const now = yield* Clock.currentTimeMillis
  const { timers } = yield* (yield* PipelineView).timers
  const why = new Map(status.blocked.map((b) => [b.id, b.why]))
  const lines = backlog.map((i) => {
    const timer = timers.find((t) => t.storyId === i.id && t.kind === "start")
    const when =
      timer === undefined
        ? ""
        : `; starts ${iso(timer.at)} (in ${describeDelay(Math.max(0, Math.round((timer.at - now) / 1000)))})`
    return `${itemLabel(i.id, i.name)} (${i.kind}): ${why.get(i.id) ?? "ready"}${when}`
  })
  return [`**Backlog** (${backlog.length})`, bullets(lines)].join("\n")
})

// ------------------------------------------------------------------------------------------------ cost

const dollars = (usd: number) => `$${usd.toFixed(usd !== 0 && usd < 0.01 ? 4 : 2)}`
const count = (n: number) => n.toLocaleString("en-US")
const costRows = 10

type Totals = UsageReportView["total"]

const totalsText = (t: Totals) =>
  `${dollars(t.cost_usd)}${t.priced_runs < t.runs ? " (some runs unpriced)" : ""}, ${count(t.input_tokens)} in / ${count(t.output_tokens)} out tokens, ${t.runs} run${t.runs === 1 ? "" : "s"}`

export const costText = (title: string, report: UsageReportView): string => {
  if (report.total.runs === 0) return `${title}: no agent runs recorded.`
  const rows = [...report.rows].sort((a, b) => b.cost_usd - a.cost_usd)
  const key = (row: UsageReportView["rows"][number]) =>
    [row.story_id, row.agent, row.model ?? (row.model === null ? "(model unknown)" : undefined), row.day]
      .filter((k) => k !== undefined)
      .join(" · ")
  const shown = rows.slice(0, costRows).map((r) => `${key(r)}: ${totalsText(r)}`)
  return [
    `**${title}**: ${totalsText(report.total)}`,
    bullets(rows.length > costRows ? [...shown, `… ${rows.length - costRows} more`] : shown),
  ].join("\n")
}

export const costReply = (scope: StoryId | "today" | undefined) =>
  Effect.gen(function* () {
    const today = iso(yield* Clock.currentTimeMillis).slice(0, 10)
    const [title, filters, groups]: readonly [string, UsageFilters, ReadonlyArray<UsageGroup>] =
      scope === undefined
        ? ["Cost so far", {}, ["item"]]
        : scope === "today"
          ? [`Cost today (${today}, UTC)`, { since: today }, ["item"]]
          : [`Cost of ${numberOf(scope)}`, { storyId: scope }, ["agent", "model"]]
    return costText(title, yield* usageReport(filters, groups))
  })

// ----------------------------------------------------------------------------------------------- queue

export const queueReply = Effect.map(mergeQueueView, (queue) => {
  const head =
    queue.jobs.length === 0 ? "The merge queue is empty." : `**Merge queue** (${queue.jobs.length})`
  const running =
    queue.running === null ? [] : [`merging ${numberOf(queue.running.story_id)} now: ${queue.running.step}`]
  const paused = queue.paused === null ? [] : [`paused since ${iso(queue.paused.since)}: ${queue.paused.why}`]
  const jobs = queue.jobs.map((j) => {
    const state =
      j.state === "fixing"
        ? "waiting for a mergemaster's fix"
        : j.position === 0
          ? `${j.state}, next`
          : `${j.state}, #${(j.position ?? 0) + 1}`
    const failures =
      j.failed_attempts === 0
        ? ""
        : `; ${j.failed_attempts} failed attempt${j.failed_attempts === 1 ? "" : "s"}`
    const waits = j.waiting === null ? "" : `; waits since ${iso(j.waiting.since)}: ${j.waiting.why}`
    return `${j.story_id}: ${state}${failures}${waits}${j.last_failure === null ? "" : ` (${j.last_failure})`}`
  })
  const lines = [...running, ...paused, ...jobs]
  return lines.length === 0 ? head : [head, bullets(lines)].join("\n")
})
