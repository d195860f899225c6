// src/layers/runtimes/codex.ts — the OpenAI Codex CLI runtime: `codex exec --json`, huskies as an MCP
// server through `-c` config overrides, and the parser of its JSONL events.
//
// Checked against the real Codex CLI 0.169.0 (dev dependency) talking to a fake Responses API; what it
// prints is documented in test/support/codex.ts and exercised by test/layers/runtimes/cliContract.test.ts.
// Codex has no --max-turns and no budget flag (the watchdog enforces them from the events), prints no
// cost, and reports usage once per run (turn.completed), so the watchdog sees one turn per run.
import { Either, Schema } from "effect"
import type { AgentEvent, TokenUsage } from "./agentEvents.js"
import { zeroUsage } from "./agentEvents.js"
import { limitStatusOf, resetFromText } from "./rateLimits.js"
import {
  type BuildInput,
  huskiesEnv,
  type LaunchSpec,
  makeJsonEventParser,
  mcpServerName,
  mcpToolTimeoutMs,
  messageFor,
  type ParserOptions,
  renderedSystemPrompt,
  type RuntimeAdapter,
  type StreamParser,
} from "./Runtime.js"

/** A TOML basic string (what `-c key=value` parses its value as); JSON's escapes are TOML's, bar DEL. */
export const tomlString = (text: string): string => JSON.stringify(text).replace(/\x7f/g, "\\u007f")

/**
 * `codex exec [OPTIONS] [resume <SESSION_ID>] -- <PROMPT>` (exec's options before `resume` apply to
 * the resumed run too; the thread id is the one thread.started printed):
 * - `--json` prints one event per line; `-c` overrides config.toml for this run only (nothing is
 *   written to the user's ~/.codex): huskies as a Streamable HTTP MCP server, with a tool timeout as
 *   long as Claude Code's (the default, 60 s, would make blocking tools time out and the agent poll)
 *   and a start-up timeout for a busy server.
 * - `developer_instructions` carries the system prompt (added to Codex's own, not replacing it).
 * - `--dangerously-bypass-approvals-and-sandbox`: there is no permission prompt tool to route
 *   approvals to huskies, exec cannot ask a human, and the workspace-write sandbox cannot write a
 *   worktree's git directory (it lives in the main repository), so the agent could not commit.
 * - The prompt comes after `--` (it may start with "-") and is never empty: without one, exec reads
 *   stdin, which in a PTY never ends.
 * - Which model API and credentials Codex uses is the user's `~/.codex/config.toml` (`model_provider`)
 *   or login: huskies does not choose them. MCP tools reach the model as namespace `mcp__huskies`
 *   (or behind Codex's tool_search, for models that defer tools); either way they are called.
 */
export const buildCodex = (input: BuildInput): LaunchSpec => {
  const { agent } = input
  const systemPrompt = renderedSystemPrompt(input)
  const server = `mcp_servers.${mcpServerName}`
  return {
    command: "codex",
    args: [
      "exec",
      "--json",
      "--dangerously-bypass-approvals-and-sandbox",
      ...(agent.model === undefined ? [] : ["--model", agent.model]),
      "-c",
      `${server}.url=${tomlString(input.mcpUrl)}`,
      "-c",
      `${server}.tool_timeout_sec=${mcpToolTimeoutMs / 1000}`,
      "-c",
      `${server}.startup_timeout_sec=60`,
      // Codex reads the bearer token from the variable it is named here.
      ...(input.mcpTokenVar === undefined
        ? []
        : ["-c", `${server}.bearer_token_env_var=${tomlString(input.mcpTokenVar)}`]),
      ...(systemPrompt === undefined ? [] : ["-c", `developer_instructions=${tomlString(systemPrompt)}`]),
      ...(input.resumeSessionId === undefined ? [] : ["resume", input.resumeSessionId]),
      "--",
      messageFor(input),
    ],
    env: huskiesEnv(input),
    files: [],
  }
}

// ------------------------------------------------------------------------------------------ events

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

const CodexUsage = Schema.Struct({
  input_tokens: optional(Schema.Number),
  cached_input_tokens: optional(Schema.Number),
  cache_write_input_tokens: optional(Schema.Number),
  output_tokens: optional(Schema.Number),
})

/** A thread item (exec_events.rs ThreadItem): `type` selects the fields; unknown types are skipped. */
const Item = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  text: optional(Schema.String),
  message: optional(Schema.String),
  command: optional(Schema.String),
  aggregated_output: optional(Schema.String),
  exit_code: optional(Schema.NullOr(Schema.Number)),
  status: optional(Schema.String),
  server: optional(Schema.String),
  tool: optional(Schema.String),
  arguments: optional(Schema.Unknown),
  result: optional(
    Schema.NullOr(
      Schema.Struct({
        content: optional(
          Schema.Array(Schema.Struct({ type: optional(Schema.String), text: optional(Schema.String) })),
        ),
      }),
    ),
  ),
  error: optional(Schema.NullOr(Schema.Struct({ message: Schema.String }))),
  changes: optional(Schema.Array(Schema.Struct({ path: Schema.String, kind: Schema.String }))),
  query: optional(Schema.String),
})
type Item = typeof Item.Type

/** The top-level events (codex-rs exec_events.rs ThreadEvent); `type` is e.g. "item.completed". */
const CodexLine = Schema.Struct({
  type: Schema.String,
  thread_id: optional(Schema.String),
  usage: optional(CodexUsage),
  item: optional(Item),
  error: optional(Schema.Struct({ message: Schema.String })),
  message: optional(Schema.String),
})

const toolCall = (item: Item): { readonly name: string; readonly input: unknown } | undefined => {
  switch (item.type) {
    case "command_execution":
      return { name: "shell", input: { command: item.command ?? "" } }
    case "mcp_tool_call":
      return {
        name: `mcp__${item.server ?? "unknown"}__${item.tool ?? "unknown"}`,
        input: item.arguments ?? {},
      }
    case "file_change":
      return { name: "file_change", input: { changes: item.changes ?? [] } }
    case "web_search":
      return { name: "web_search", input: { query: item.query ?? "" } }
    default:
      return undefined
  }
}

const toolOutcome = (item: Item): { readonly isError: boolean; readonly text: string } => {
  switch (item.type) {
    case "command_execution":
      return {
        isError: item.status !== "completed" || (item.exit_code ?? 0) !== 0,
        text: item.aggregated_output ?? "",
      }
    case "mcp_tool_call": {
      const text = (item.result?.content ?? []).map((c) => c.text ?? `[${c.type ?? "content"}]`).join("\n")
      const error = item.error?.message
      return { isError: item.status === "failed" || error !== undefined, text: error ?? text }
    }
    case "file_change":
      return {
        isError: item.status === "failed",
        text: (item.changes ?? []).map((c) => `${c.kind} ${c.path}`).join("\n"),
      }
    default:
      return { isError: item.status === "failed", text: item.query ?? "" }
  }
}

const addUsage = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  inputTokens: a.inputTokens + b.inputTokens,
  outputTokens: a.outputTokens + b.outputTokens,
  cacheRead: a.cacheRead + b.cacheRead,
  cacheCreation: a.cacheCreation + b.cacheCreation,
})

/** "exceeded retry limit, last status: 500 Internal Server Error, request id: ..." → 500. */
const httpStatusOf = (message: string): number | undefined => {
  const status = /\blast status:? (\d{3})\b/i.exec(message)?.[1]
  return status === undefined ? undefined : Number(status)
}

/** "Reconnecting... 2/5 (stream disconnected before completion: ...)": Codex retrying by itself. */
const reconnecting = /^Reconnecting\.{3}\s*(\d+)\/(\d+)/

/**
 * The parser of `codex exec --json` output (see test/support/codex.ts for what 0.169 prints). A run
 * is one turn: thread.started, turn.started, items, then turn.completed (usage) or turn.failed.
 */
export const makeCodexParser = (options: ParserOptions = {}): StreamParser => {
  const now = options.now ?? Date.now
  const defaultDelay = options.defaultRetryDelayMs ?? 60_000
  const started = new Set<string>()
  let turns = 0
  let total = zeroUsage
  let lastText: string | undefined
  // A failure is printed twice (an `error` event, then turn.failed with the same message): once here.
  const reported = new Set<string>()

  const failure = (message: string): Array<AgentEvent> => {
    if (reported.has(message)) return []
    reported.add(message)
    const status = limitStatusOf(message)
    const httpStatus = httpStatusOf(message)
    if (status === undefined)
      return [{ _tag: "ApiError", ...(httpStatus === undefined ? {} : { status: httpStatus }), message }]
    const at = now()
    // A plain 429 says nothing of when (Codex drops retry-after); a usage limit names a clock time.
    return [
      { _tag: "RateLimited", status, resetAt: resetFromText(message, at) ?? at + defaultDelay, message },
    ]
  }

  const topLevelError = (message: string): Array<AgentEvent> => {
    const retry = reconnecting.exec(message)
    if (retry === null) return failure(message)
    // Codex does not say how long it waits between reconnects.
    return [{ _tag: "Retrying", attempt: Number(retry[1]), maxRetries: Number(retry[2]), delayMs: 0 }]
  }

  const useOf = (item: Item): Array<AgentEvent> => {
    const call = toolCall(item)
    if (call === undefined || started.has(item.id)) return []
    started.add(item.id)
    return [{ _tag: "ToolUse", id: item.id, name: call.name, input: call.input }]
  }

  const completed = (item: Item): Array<AgentEvent> | undefined => {
    switch (item.type) {
      case "agent_message":
        lastText = item.text ?? ""
        return [{ _tag: "Text", text: lastText }]
      case "error":
        // Warnings the run goes on after ("Model metadata for `x` not found...", "Falling back from
        // WebSockets to HTTPS transport..."): kept for the log. Real failures end in turn.failed.
        return undefined
      case "todo_list":
      case "plan":
        return []
      default: {
        if (toolCall(item) === undefined) return []
        const use = useOf(item)
        started.delete(item.id)
        return [...use, { _tag: "ToolResult", toolUseId: item.id, ...toolOutcome(item) }]
      }
    }
  }

  const endOfTurn = (isError: boolean, text: string | undefined): AgentEvent => {
    reported.clear()
    return {
      _tag: "Result",
      isError,
      subtype: isError ? "error" : "success",
      numTurns: turns,
      usage: total,
      permissionDenials: [],
      ...(text === undefined ? {} : { text }),
    }
  }

  const lineEvents = (value: unknown): Array<AgentEvent> | undefined => {
    const line = Either.getOrUndefined(Schema.decodeUnknownEither(CodexLine)(value))
    if (line === undefined) return undefined
    switch (line.type) {
      case "thread.started":
        return line.thread_id === undefined
          ? undefined
          : [{ _tag: "SessionStarted", sessionId: line.thread_id, tools: [], mcpServers: [] }]
      case "turn.started":
        turns += 1
        return []
      case "item.started":
        return line.item === undefined ? undefined : useOf(line.item)
      case "item.updated":
        return []
      case "item.completed":
        return line.item === undefined ? undefined : completed(line.item)
      case "turn.completed": {
        // The thread's totals so far: a resumed thread's turn.completed includes the runs before it.
        // OpenAI's input_tokens include the cached ones; inputTokens, as for Claude, are the rest.
        const cacheRead = line.usage?.cached_input_tokens ?? 0
        const usage: TokenUsage = {
          inputTokens: Math.max(0, (line.usage?.input_tokens ?? 0) - cacheRead),
          outputTokens: line.usage?.output_tokens ?? 0,
          cacheRead,
          cacheCreation: line.usage?.cache_write_input_tokens ?? 0,
        }
        total = addUsage(total, usage)
        return [{ _tag: "Usage", ...usage }, endOfTurn(false, lastText)]
      }
      case "turn.failed": {
        const message = line.error?.message ?? "turn failed"
        return [...failure(message), endOfTurn(true, message)]
      }
      case "error":
        return topLevelError(line.message ?? line.error?.message ?? "error")
      default:
        return undefined
    }
  }

  return makeJsonEventParser(lineEvents, options)
}

export const codex: RuntimeAdapter = {
  runtime: "codex",
  build: buildCodex,
  makeStreamParser: makeCodexParser,
  // turn.completed's usage is the thread's running total: after `exec resume` it includes earlier runs.
  usageIncludesResumedRuns: true,
}
