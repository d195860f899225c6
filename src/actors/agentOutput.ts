// src/actors/agentOutput.ts — the pure half of AgentActor: what one agent run has reported so far (turns,
// usage, cost, session, rate limit, result), its bounded tail of readable output lines, the watchdog's
// limits, and how the run's outcome and reason are decided when it ends.
import { Buffer } from "node:buffer"
import type { AgentStatus } from "./agentContract.js"
import type { AgentConfig } from "../domain/Config.js"
import type { PtyExit } from "../layers/Pty.js"
import { type AgentEvent, type TokenUsage, zeroUsage } from "../layers/runtimes/agentEvents.js"

export type AgentOutcome = "succeeded" | "failed" | "stopped" | "timedOut" | "rateLimited"

/** Why the run is being killed; the first request wins. */
export interface KillRequest {
  readonly outcome: "failed" | "stopped" | "timedOut"
  readonly reason: string
}

export interface Ending {
  readonly outcome: AgentOutcome
  readonly reason: string
  readonly resetAt?: number
  /** The CLI cannot work on this machine (not logged in, a bad API key, no credit): not the item's fault. */
  readonly setupProblem?: boolean
}

// What the agent CLIs say when they are not set up: Claude Code's "Not logged in · Please run /login" and
// "Invalid API key", an API's 401/403, "credit balance is too low".
const setupWords =
  /not logged in|please run \/login|invalid api key|authentication|unauthori[sz]ed|credit balance|api key not (valid|found)/i

const isSetupProblem = (report: RunReport): boolean =>
  report.apiErrorStatus === 401 ||
  report.apiErrorStatus === 403 ||
  report.result?.apiErrorStatus === 401 ||
  report.result?.apiErrorStatus === 403 ||
  setupWords.test(
    `${report.apiError ?? ""}\n${report.result?.isError === true ? (report.result.text ?? "") : ""}`,
  )

// ------------------------------------------------------------------------------------------------ tail

/** The last readable lines of a run, bounded in count and bytes so a chatty agent cannot grow memory. */
export interface Tail {
  readonly lines: ReadonlyArray<string>
  readonly bytes: number
}

export const emptyTail: Tail = { lines: [], bytes: 0 }
export const tailMaxLines = 2000
export const tailMaxBytes = 1024 * 1024
const maxLineChars = 4000
const summaryChars = 200

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max)}…`)

// Called for every event an agent prints: it measures only the lines added and the lines dropped, never
// the whole tail again (which made a long run's every line cost a pass over up to 2,000 lines).
export const appendTail = (tail: Tail, added: ReadonlyArray<string>): Tail => {
  if (added.length === 0) return tail
  const lines = tail.lines.concat(added.map((line) => clip(line, maxLineChars)))
  let bytes = tail.bytes
  for (let i = tail.lines.length; i < lines.length; i++) bytes += Buffer.byteLength(lines[i] ?? "")
  let start = 0
  while (start < lines.length - 1 && (lines.length - start > tailMaxLines || bytes > tailMaxBytes)) {
    bytes -= Buffer.byteLength(lines[start] ?? "")
    start++
  }
  return { lines: start === 0 ? lines : lines.slice(start), bytes }
}

const oneLine = (text: string): string => clip(text.replace(/\s*\n\s*/g, " ").trim(), summaryChars)

const dollars = (usd: number): string => `$${usd.toFixed(2)}`

/** What a person reading the live output sees of one event (Usage is bookkeeping: nothing). */
export const readableLines = (event: AgentEvent): ReadonlyArray<string> => {
  switch (event._tag) {
    case "Text":
      return event.text.replace(/\n+$/, "").split(/\r?\n/)
    case "ToolUse":
      return [`→ ${event.name}(${clip(JSON.stringify(event.input) ?? "", summaryChars)})`]
    case "ToolResult":
      return [`← ${event.isError ? "error" : "ok"}: ${oneLine(event.text)}`]
    case "Result":
      return [
        `result: ${event.subtype}, ${event.numTurns} turns, ${
          event.totalCostUsd === undefined ? "cost not reported" : dollars(event.totalCostUsd)
        }`,
      ]
    case "RateLimited":
      return [`rate limited (${event.status}) until ${isoTime(event.resetAt)}: ${oneLine(event.message)}`]
    case "ApiError":
      return [`API error${event.status === undefined ? "" : ` ${event.status}`}: ${oneLine(event.message)}`]
    case "Retrying":
      return [
        `retrying (attempt ${event.attempt} of ${event.maxRetries}) in ${event.delayMs} ms${
          event.status === undefined ? "" : ` after ${event.status}`
        }`,
      ]
    case "SessionStarted":
      return [`session ${event.sessionId}${event.model === undefined ? "" : ` (${event.model})`}`]
    case "Unparsed":
      return [event.line]
    case "Usage":
      return []
  }
}

const isoTime = (ms: number): string => {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString()
}

// --------------------------------------------------------------------------------------------- report

type ResultEvent = Extract<AgentEvent, { _tag: "Result" }>
type RateLimitedEvent = Extract<AgentEvent, { _tag: "RateLimited" }>

/** Everything the run's events have said so far. */
export interface RunReport {
  /** Model turns: one per Usage event (the Claude Code parser emits one per assistant message id). */
  readonly numTurns: number
  /** Summed Usage events; the Result's totals win when there is one. */
  readonly usage: TokenUsage
  readonly costUsd?: number
  readonly sessionId?: string
  readonly model?: string
  /** The last rate limit, unless a successful Result came after it. */
  readonly rateLimit?: RateLimitedEvent
  readonly apiError?: string
  readonly apiErrorStatus?: number
  readonly result?: ResultEvent
  readonly tail: Tail
}

export const emptyReport: RunReport = { numTurns: 0, usage: zeroUsage, tail: emptyTail }

const addUsage = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  inputTokens: a.inputTokens + b.inputTokens,
  outputTokens: a.outputTokens + b.outputTokens,
  cacheRead: a.cacheRead + b.cacheRead,
  cacheCreation: a.cacheCreation + b.cacheCreation,
})

/** What `event` says beyond its readable lines (the tail is left as it is). */
const noteEvent = (report: RunReport, event: AgentEvent): RunReport => {
  switch (event._tag) {
    case "Usage":
      return { ...report, numTurns: report.numTurns + 1, usage: addUsage(report.usage, event) }
    case "SessionStarted":
      return {
        ...report,
        sessionId: event.sessionId,
        ...(event.model === undefined ? {} : { model: event.model }),
      }
    case "RateLimited":
      return { ...report, rateLimit: event }
    case "ApiError":
      return {
        ...report,
        apiError: event.message,
        ...(event.status === undefined ? {} : { apiErrorStatus: event.status }),
      }
    case "Result": {
      const { rateLimit: _cleared, ...rest } = report
      const base = event.isError ? report : rest
      return {
        ...base,
        result: event,
        ...(event.totalCostUsd === undefined ? {} : { costUsd: event.totalCostUsd }),
      }
    }
    default:
      return report
  }
}

/**
 * The report after `events` (the events of one chunk of output): their readable lines join the tail in one
 * append, so a chunk of many lines measures and trims the tail once, not once a line.
 */
export const reportEvents = (report: RunReport, events: ReadonlyArray<AgentEvent>): RunReport => {
  const lines: Array<string> = []
  let next = report
  for (const event of events) {
    for (const line of readableLines(event)) lines.push(line)
    next = noteEvent(next, event)
  }
  return { ...next, tail: appendTail(report.tail, lines) }
}

export const reportEvent = (report: RunReport, event: AgentEvent): RunReport => reportEvents(report, [event])

/** An agent's status: what does not change over its run, and where the run is now. */
export const statusOf = (
  fixed: Omit<
    AgentStatus,
    "lastOutputAt" | "numTurns" | "usage" | "costUsd" | "sessionId" | "model" | "state"
  >,
  now: { readonly phase: AgentStatus["state"]; readonly lastOutputAt: number; readonly report: RunReport },
): AgentStatus => ({
  ...fixed,
  lastOutputAt: now.lastOutputAt,
  numTurns: now.report.numTurns,
  usage: now.report.usage,
  ...(now.report.costUsd === undefined ? {} : { costUsd: now.report.costUsd }),
  ...(now.report.sessionId === undefined ? {} : { sessionId: now.report.sessionId }),
  ...(now.report.model === undefined ? {} : { model: now.report.model }),
  state: now.phase,
})

/** Turns and token totals of the whole run: the CLI's own Result when it printed one. */
export const runTotals = (report: RunReport): { readonly numTurns: number; readonly usage: TokenUsage } =>
  report.result === undefined
    ? { numTurns: report.numTurns, usage: report.usage }
    : { numTurns: report.result.numTurns, usage: report.result.usage }

/** `total` less `earlier`, never below zero (a CLI whose counter restarted is not charged negative). */
export const minusUsage = (total: TokenUsage, earlier: TokenUsage): TokenUsage => ({
  inputTokens: Math.max(0, total.inputTokens - earlier.inputTokens),
  outputTokens: Math.max(0, total.outputTokens - earlier.outputTokens),
  cacheRead: Math.max(0, total.cacheRead - earlier.cacheRead),
  cacheCreation: Math.max(0, total.cacheCreation - earlier.cacheCreation),
})

// ------------------------------------------------------------------------------------------- watchdog

type Limits = Pick<AgentConfig, "maxTurns" | "maxBudgetUsd" | "inactivityTimeoutSecs">

/** A max_turns or max_budget_usd the run has gone over, as the kill it calls for. */
export const limitBreach = (report: RunReport, limits: Limits): KillRequest | undefined => {
  if (limits.maxTurns !== undefined && report.numTurns > limits.maxTurns)
    return { outcome: "failed", reason: `took ${report.numTurns} turns, over max_turns = ${limits.maxTurns}` }
  if (
    limits.maxBudgetUsd !== undefined &&
    report.costUsd !== undefined &&
    report.costUsd > limits.maxBudgetUsd
  )
    return {
      outcome: "failed",
      reason: `spent ${dollars(report.costUsd)}, over max_budget_usd = ${limits.maxBudgetUsd}`,
    }
  return undefined
}

export const inactivityKill = (limits: Limits): KillRequest => ({
  outcome: "timedOut",
  reason: `no output for ${limits.inactivityTimeoutSecs} s: stopped by the inactivity watchdog (inactivity_timeout_secs = ${limits.inactivityTimeoutSecs})`,
})

// -------------------------------------------------------------------------------------------- outcome

const errorResultReason = (result: ResultEvent, limits: Limits): string => {
  if (result.subtype === "error_max_turns")
    return `reached max_turns${limits.maxTurns === undefined ? "" : ` = ${limits.maxTurns}`} after ${result.numTurns} turns`
  if (result.subtype === "error_max_budget_usd")
    return `spent ${result.totalCostUsd === undefined ? "its budget" : dollars(result.totalCostUsd)}, over max_budget_usd${
      limits.maxBudgetUsd === undefined ? "" : ` = ${limits.maxBudgetUsd}`
    }`
  return `the CLI reported an error: ${oneLine(result.text ?? result.subtype)}`
}

const exitReason = (exit: PtyExit | undefined): string =>
  exit === undefined
    ? "ended without an exit status"
    : exit.signal !== 0
      ? `was killed by signal ${exit.signal}`
      : `exited with code ${exit.exitCode}`

/** The outcome of a run whose process ended by itself (nobody killed it). */
export const naturalEnding = (report: RunReport, exit: PtyExit | undefined, limits: Limits): Ending => {
  if (report.rateLimit !== undefined)
    return {
      outcome: "rateLimited",
      reason: `rate limited (${report.rateLimit.status}) until ${isoTime(report.rateLimit.resetAt)}`,
      resetAt: report.rateLimit.resetAt,
    }
  const setupProblem = isSetupProblem(report) ? { setupProblem: true } : {}
  if (report.result?.isError === true)
    return { outcome: "failed", reason: errorResultReason(report.result, limits), ...setupProblem }
  if (exit !== undefined && exit.exitCode === 0 && exit.signal === 0)
    return { outcome: "succeeded", reason: exitReason(exit) }
  if (report.apiError !== undefined)
    return {
      outcome: "failed",
      reason: `the CLI reported an error: ${oneLine(report.apiError)}`,
      ...setupProblem,
    }
  return { outcome: "failed", reason: exitReason(exit) }
}

/** The exit code to report: null when a signal ended the process or it never reported one. */
export const exitCodeOf = (exit: PtyExit | undefined): number | null =>
  exit === undefined || exit.signal !== 0 ? null : exit.exitCode
