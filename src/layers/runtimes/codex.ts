// src/layers/runtimes/codex.ts — the OpenAI Codex CLI runtime: `codex exec --json`, huskies as an MCP
// server through `-c` config overrides, and the parser of its JSONL events.
//
// UNVERIFIED: the Codex CLI is not installed here. The flags, config keys and event shapes come from
// openai/codex's sources (codex-rs/exec/src/cli.rs and exec_events.rs) and its config docs, read in
// the public index, not from running the CLI; re-check both against a real `codex exec --json` before
// relying on this runtime. Known gaps: no --max-turns and no budget flag (the watchdog enforces
// them from the events), no cost in the output.
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
 * `codex exec [OPTIONS] [resume <SESSION_ID>] -- <PROMPT>`:
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

/** The top-level events (exec_events.rs ThreadEvent); `type` is e.g. "item.completed". */
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

/** The parser of `codex exec --json` output. UNVERIFIED against a real CLI (see the top comment). */
export const makeCodexParser = (options: ParserOptions = {}): StreamParser => {
  const now = options.now ?? Date.now
  const defaultDelay = options.defaultRetryDelayMs ?? 60_000
  const started = new Set<string>()
  let turns = 0
  let total = zeroUsage
  let lastText: string | undefined
  // A failure is often printed twice (an `error` event, then turn.failed): it is reported once.
  const reported = new Set<string>()

  const failure = (message: string): Array<AgentEvent> => {
    if (reported.has(message)) return []
    reported.add(message)
    const status = limitStatusOf(message)
    if (status === undefined) return [{ _tag: "ApiError", message }]
    const at = now()
    return [
      { _tag: "RateLimited", status, resetAt: resetFromText(message, at) ?? at + defaultDelay, message },
    ]
  }

  const useOf = (item: Item): Array<AgentEvent> => {
    const call = toolCall(item)
    if (call === undefined || started.has(item.id)) return []
    started.add(item.id)
    return [{ _tag: "ToolUse", id: item.id, name: call.name, input: call.input }]
  }

  const completed = (item: Item): Array<AgentEvent> => {
    switch (item.type) {
      case "agent_message":
        lastText = item.text ?? ""
        return [{ _tag: "Text", text: lastText }]
      case "error":
        return failure(item.message ?? "error")
      case "reasoning":
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
        const usage: TokenUsage = {
          inputTokens: line.usage?.input_tokens ?? 0,
          outputTokens: line.usage?.output_tokens ?? 0,
          cacheRead: line.usage?.cached_input_tokens ?? 0,
          cacheCreation: 0,
        }
        total = addUsage(total, usage)
        return [{ _tag: "Usage", ...usage }, endOfTurn(false, lastText)]
      }
      case "turn.failed": {
        const message = line.error?.message ?? "turn failed"
        return [...failure(message), endOfTurn(true, message)]
      }
      case "error":
        return failure(line.message ?? line.error?.message ?? "error")
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
}
