// src/layers/runtimes/agentEvents.ts — what an agent CLI's output stream means, independent of the CLI:
// the typed events every runtime adapter's parser produces and AgentActor consumes (watchdog, session
// log, usage and cost, rate-limit scheduling).
import { Schema } from "effect"

const Count = Schema.Number.pipe(Schema.nonNegative())

/** Token counts. `cacheRead`/`cacheCreation` are the cached part of the input, where the CLI says. */
export const TokenUsage = Schema.Struct({
  inputTokens: Count,
  outputTokens: Count,
  cacheRead: Count,
  cacheCreation: Count,
})
export type TokenUsage = typeof TokenUsage.Type

export const zeroUsage: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheRead: 0, cacheCreation: 0 }

export const McpServerStatus = Schema.Struct({ name: Schema.String, status: Schema.String })
export type McpServerStatus = typeof McpServerStatus.Type

/** The CLI is up: its session id (to `--resume` later), model, tools and MCP servers as it sees them. */
export const SessionStarted = Schema.TaggedStruct("SessionStarted", {
  sessionId: Schema.String,
  model: Schema.optionalWith(Schema.String, { exact: true }),
  tools: Schema.Array(Schema.String),
  mcpServers: Schema.Array(McpServerStatus),
})

/** Text the model wrote. */
export const Text = Schema.TaggedStruct("Text", { text: Schema.String })

/** The model called a tool (built-in, shell, or MCP as `mcp__<server>__<tool>`). */
export const ToolUse = Schema.TaggedStruct("ToolUse", {
  id: Schema.String,
  name: Schema.String,
  input: Schema.Unknown,
})

export const ToolResult = Schema.TaggedStruct("ToolResult", {
  toolUseId: Schema.String,
  isError: Schema.Boolean,
  text: Schema.String,
})

/**
 * Tokens of one model turn, where the CLI reports them per turn. Claude Code prints a turn's usage as
 * the API's message_start gave it: its outputTokens is a lower bound; Result has the exact totals.
 */
export const Usage = Schema.TaggedStruct("Usage", TokenUsage.fields)

/**
 * The model API refused for rate limiting (429) or overload (529) and the CLI gave up on the request.
 * `resetAt` (ms since the epoch) is when trying again makes sense: the reset time the CLI printed when
 * it printed one, otherwise an estimate (now + the last retry delay the CLI used, or a default).
 * While the CLI is still retrying by itself, the parser reports `Retrying`, not this.
 */
export const RateLimited = Schema.TaggedStruct("RateLimited", {
  status: Schema.Number,
  resetAt: Schema.Number,
  message: Schema.String,
})

/** Any other model API failure the CLI reported (authentication, invalid request, 5xx...). */
export const ApiError = Schema.TaggedStruct("ApiError", {
  status: Schema.optionalWith(Schema.Number, { exact: true }),
  message: Schema.String,
})

/** The CLI is waiting `delayMs` before retrying a failed API request by itself. */
export const Retrying = Schema.TaggedStruct("Retrying", {
  attempt: Schema.Number,
  maxRetries: Schema.Number,
  delayMs: Schema.Number,
  /** HTTP status of the failure; absent for connection errors. */
  status: Schema.optionalWith(Schema.Number, { exact: true }),
})

/** A tool call the CLI refused because nothing allowed it. */
export const PermissionDenial = Schema.Struct({
  toolName: Schema.String,
  toolUseId: Schema.String,
  input: Schema.Unknown,
})
export type PermissionDenial = typeof PermissionDenial.Type

/** The run ended (one per CLI invocation). */
export const Result = Schema.TaggedStruct("Result", {
  isError: Schema.Boolean,
  /** The CLI's own word: "success", "error_max_turns", "error_max_budget_usd", "error"... */
  subtype: Schema.String,
  numTurns: Count,
  /** Priced by the CLI; absent when the runtime does not price its usage (codex, gemini, command). */
  totalCostUsd: Schema.optionalWith(Count, { exact: true }),
  /** Totals over the whole run. */
  usage: TokenUsage,
  apiErrorStatus: Schema.optionalWith(Schema.Number, { exact: true }),
  permissionDenials: Schema.Array(PermissionDenial),
  /** The final answer, or the error text. */
  text: Schema.optionalWith(Schema.String, { exact: true }),
})

/** A line the parser did not understand: kept for the session log, never fatal. */
export const Unparsed = Schema.TaggedStruct("Unparsed", { line: Schema.String })

export const AgentEvent = Schema.Union(
  SessionStarted,
  Text,
  ToolUse,
  ToolResult,
  Usage,
  RateLimited,
  ApiError,
  Retrying,
  Result,
  Unparsed,
)
export type AgentEvent = typeof AgentEvent.Type
export type AgentEventTag = AgentEvent["_tag"]

export const agentEventTags: ReadonlyArray<AgentEventTag> = [
  "SessionStarted",
  "Text",
  "ToolUse",
  "ToolResult",
  "Usage",
  "RateLimited",
  "ApiError",
  "Retrying",
  "Result",
  "Unparsed",
]
