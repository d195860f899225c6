// src/layers/runtimes/claudeCode.ts — the Claude Code runtime: `claude -p` with stream-json output,
// huskies as its only MCP server (via <worktree>/.mcp.json), and the parser of its stream. Flags, files
// and environment were checked against Claude Code 2.1.197 (`claude --help`, strings in its binary, and
// runs against the fake model API in test/layers/runtimes/claudeCode.cli.test.ts).
import { Either, Schema } from "effect"
import { join } from "node:path"
import type { AgentEvent, PermissionDenial, TokenUsage } from "./agentEvents.js"
import {
  ApiRetryLine,
  AssistantLine,
  type ContentBlock,
  Envelope,
  ignoredTypes,
  InitLine,
  RateLimitEventLine,
  ResultLine,
  UserLine,
  type WireUsage,
} from "./claudeStream.js"
import { limitStatusOf, resetFromText } from "./rateLimits.js"
import {
  bearerFromEnv,
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

/** Tool that answers the CLI's permission prompts (huskies decides instead of a human). */
export const permissionPromptTool = `mcp__${mcpServerName}__prompt_permission`

/** The MCP config the CLI reads: huskies over Streamable HTTP (the CLI speaks no ws://). */
export const mcpConfigFile = (worktree: string) => join(worktree, ".mcp.json")

/** With `tokenVar`, an Authorization header that Claude Code fills from that variable when it reads the file. */
export const mcpConfig = (mcpUrl: string, tokenVar?: string) => ({
  mcpServers: {
    [mcpServerName]: {
      type: "http",
      url: mcpUrl,
      ...(tokenVar === undefined ? {} : { headers: { Authorization: bearerFromEnv(tokenVar) } }),
    },
  },
})

/**
 * The environment, every name found in the 2.1.197 binary:
 * - MCP_TOOL_TIMEOUT: hard limit of one MCP tool call, ms (2.1.197 defaults to 1e8, capped at 2^31-1;
 *   the CLI the earlier implementation ran gave up after 60 s, and its agents then polled). A
 *   per-server `timeout` in .mcp.json would override it; huskies sets the variable only.
 * - CLAUDE_CODE_MCP_TOOL_IDLE_TIMEOUT: the CLI aborts an HTTP MCP tool call that sends neither a
 *   response nor a progress notification for this long, ms (default 300000). huskies' blocking tools
 *   send progress; the limit is raised to the agent's own inactivity timeout so that the CLI never
 *   gives up before huskies' watchdog would.
 * - MCP_TIMEOUT: connecting to an MCP server, ms (default 30000).
 * - MCP_CONNECT_TIMEOUT_MS: how long start-up waits for MCP servers before the first turn, ms
 *   (default 5000, after which tools arrive late); a busy server must not leave the agent without its
 *   huskies tools and its permission prompt tool.
 * - CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: no telemetry, error reports, auto-update or session
 *   titles: an unattended agent only talks to the model API.
 * CLAUDE_CODE_MAX_RETRIES stays at the CLI's default (10): the CLI rides out short rate limits itself.
 */
const claudeEnv = (input: BuildInput): Record<string, string> => ({
  ...huskiesEnv(input),
  MCP_TOOL_TIMEOUT: String(mcpToolTimeoutMs),
  CLAUDE_CODE_MCP_TOOL_IDLE_TIMEOUT: String(Math.max(300, input.agent.inactivityTimeoutSecs) * 1000),
  MCP_TIMEOUT: "60000",
  MCP_CONNECT_TIMEOUT_MS: "30000",
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
})

/**
 * `-p` is always there, with `--resume` too: without -p the CLI rejects the print-only flags
 * (stream-json output; the earlier implementation's `--resume` without -p killed every respawn). The
 * message comes last, after `--`, and is never empty (see messageFor): the CLI takes a prompt that
 * starts with "-" for an unknown option, and exits 1 on an empty one, fresh or resumed.
 * `--strict-mcp-config`: only huskies' MCP server, not whatever the user's own config adds.
 */
export const buildClaudeCode = (input: BuildInput): LaunchSpec => {
  const { agent } = input
  const systemPrompt = renderedSystemPrompt(input)
  const configPath = mcpConfigFile(input.worktree)
  return {
    command: "claude",
    args: [
      "-p",
      ...(input.resumeSessionId === undefined ? [] : ["--resume", input.resumeSessionId]),
      "--output-format",
      "stream-json",
      "--verbose",
      ...(agent.model === undefined ? [] : ["--model", agent.model]),
      ...(agent.maxTurns === undefined ? [] : ["--max-turns", String(agent.maxTurns)]),
      ...(agent.maxBudgetUsd === undefined ? [] : ["--max-budget-usd", String(agent.maxBudgetUsd)]),
      "--mcp-config",
      configPath,
      "--strict-mcp-config",
      ...(systemPrompt === undefined ? [] : ["--append-system-prompt", systemPrompt]),
      "--permission-prompt-tool",
      permissionPromptTool,
      "--",
      messageFor(input),
    ],
    env: claudeEnv(input),
    files: [
      {
        path: configPath,
        content: `${JSON.stringify(mcpConfig(input.mcpUrl, input.mcpTokenVar), null, 2)}\n`,
      },
    ],
  }
}

const tokens = (usage: WireUsage | null | undefined): TokenUsage => ({
  inputTokens: usage?.input_tokens ?? 0,
  outputTokens: usage?.output_tokens ?? 0,
  cacheRead: usage?.cache_read_input_tokens ?? 0,
  cacheCreation: usage?.cache_creation_input_tokens ?? 0,
})

const toolResultText = (
  content: string | ReadonlyArray<{ type: string; text?: string }> | null | undefined,
) =>
  content === undefined || content === null
    ? ""
    : typeof content === "string"
      ? content
      : content.map((part) => (part.type === "text" ? (part.text ?? "") : `[${part.type}]`)).join("\n")

const blockEvents = (block: ContentBlock): Array<AgentEvent> => {
  if ("tool_use_id" in block)
    return [
      {
        _tag: "ToolResult",
        toolUseId: block.tool_use_id,
        isError: block.is_error === true,
        text: toolResultText(block.content),
      },
    ]
  if ("name" in block) return [{ _tag: "ToolUse", id: block.id, name: block.name, input: block.input ?? {} }]
  if ("text" in block && block.type === "text") return [{ _tag: "Text", text: block.text }]
  return []
}

// HTTP status of a synthetic "API Error" message: "Request rejected (429)", "API Error: 529 ...".
const statusOf = (text: string, error: string): number | undefined => {
  const written = /\((\d{3})\)|API Error:\s*(\d{3})\b/.exec(text)
  const status = written?.[1] ?? written?.[2]
  if (status !== undefined) return Number(status)
  return error === "rate_limit" ? 429 : error === "overloaded" ? 529 : limitStatusOf(text)
}

const decode = <A, I>(schema: Schema.Schema<A, I>, value: unknown): A | undefined =>
  Either.getOrUndefined(Schema.decodeUnknownEither(schema)(value))

/** The parser of Claude Code's stream-json output; see claudeStream.ts for the lines it reads. */
export const makeClaudeCodeParser = (options: ParserOptions = {}): StreamParser => {
  const now = options.now ?? Date.now
  const defaultDelay = options.defaultRetryDelayMs ?? 60_000
  // Lines of one model message are consecutive and share its id: its usage is reported once.
  let usageReportedFor: string | undefined
  // The last retry's delay: the best guess of a reset when the CLI runs out of retries.
  let lastRetryDelayMs: number | undefined
  // A reset time a rate_limit_event announced (subscription accounts).
  let announcedResetAt: number | undefined
  // RateLimited already reported for this run's failure (the result line repeats it).
  let limitReported = false

  const resetAt = (text: string): number => {
    const at = now()
    if (announcedResetAt !== undefined && announcedResetAt > at) return announcedResetAt
    return resetFromText(text, at) ?? at + (lastRetryDelayMs ?? defaultDelay)
  }

  const apiFailure = (text: string, status: number | undefined): AgentEvent => {
    if (status === 429 || status === 529) {
      limitReported = true
      return { _tag: "RateLimited", status, resetAt: resetAt(text), message: text }
    }
    return { _tag: "ApiError", ...(status === undefined ? {} : { status }), message: text }
  }

  const assistant = (value: unknown): Array<AgentEvent> | undefined => {
    const line = decode(AssistantLine, value)
    if (line === undefined) return undefined
    const { message } = line
    if (line.error !== undefined && line.error !== null) {
      const text = message.content.flatMap((b) => ("text" in b && typeof b.text === "string" ? [b.text] : []))
      const joined = text.join("\n") || `API error: ${line.error}`
      return [apiFailure(joined, statusOf(joined, line.error))]
    }
    const events = message.content.flatMap(blockEvents)
    if (message.model !== "<synthetic>" && message.id !== undefined && message.id !== usageReportedFor) {
      usageReportedFor = message.id
      if (message.usage !== undefined && message.usage !== null)
        events.push({ _tag: "Usage", ...tokens(message.usage) })
    }
    return events
  }

  const result = (value: unknown): Array<AgentEvent> | undefined => {
    const line = decode(ResultLine, value)
    if (line === undefined) return undefined
    const status = line.api_error_status ?? undefined
    const text = line.result ?? undefined
    const denials: Array<PermissionDenial> = (line.permission_denials ?? []).map((d) => ({
      toolName: d.tool_name,
      toolUseId: d.tool_use_id,
      input: d.tool_input ?? {},
    }))
    const limit =
      (status === 429 || status === 529) && !limitReported
        ? [apiFailure(text ?? `API error ${status}`, status)]
        : []
    limitReported = false
    lastRetryDelayMs = undefined
    return [
      ...limit,
      {
        _tag: "Result",
        isError: line.is_error,
        subtype: line.subtype,
        numTurns: line.num_turns ?? 0,
        ...(line.total_cost_usd === undefined || line.total_cost_usd === null
          ? {}
          : { totalCostUsd: line.total_cost_usd }),
        usage: tokens(line.usage),
        ...(status === undefined ? {} : { apiErrorStatus: status }),
        permissionDenials: denials,
        ...(text === undefined ? {} : { text }),
      },
    ]
  }

  const system = (subtype: string | null | undefined, value: unknown): Array<AgentEvent> | undefined => {
    if (subtype === "init") {
      const line = decode(InitLine, value)
      return line === undefined
        ? undefined
        : [
            {
              _tag: "SessionStarted",
              sessionId: line.session_id,
              ...(line.model === undefined ? {} : { model: line.model }),
              tools: line.tools ?? [],
              mcpServers: line.mcp_servers ?? [],
            },
          ]
    }
    if (subtype === "api_retry") {
      const line = decode(ApiRetryLine, value)
      if (line === undefined) return undefined
      lastRetryDelayMs = line.retry_delay_ms
      const status = line.error_status ?? undefined
      return [
        {
          _tag: "Retrying",
          attempt: line.attempt,
          maxRetries: line.max_retries,
          delayMs: line.retry_delay_ms,
          ...(status === undefined ? {} : { status }),
        },
      ]
    }
    // task_started, task_notification, compact_boundary, hooks...: nothing to report.
    return []
  }

  const rateLimitEvent = (value: unknown): Array<AgentEvent> | undefined => {
    const line = decode(RateLimitEventLine, value)
    if (line === undefined) return undefined
    const { status, resetsAt } = line.rate_limit_info
    // Only a rejection matters; the request's own error line (or result) reports it.
    if (status === "rejected" && typeof resetsAt === "number") announcedResetAt = resetsAt * 1000
    return []
  }

  const lineEvents = (value: Record<string, unknown>): Array<AgentEvent> | undefined => {
    const envelope = decode(Envelope, value)
    if (envelope === undefined) return undefined
    switch (envelope.type) {
      case "system":
        return system(envelope.subtype, value)
      case "assistant":
        return assistant(value)
      case "user": {
        const line = decode(UserLine, value)
        const content = line?.message.content
        return content === undefined
          ? undefined
          : typeof content === "string"
            ? []
            : content.flatMap((block) => ("tool_use_id" in block ? blockEvents(block) : []))
      }
      case "result":
        return result(value)
      case "rate_limit_event":
        return rateLimitEvent(value)
      default:
        return ignoredTypes.has(envelope.type) ? [] : undefined
    }
  }

  return makeJsonEventParser(lineEvents, options)
}

export const claudeCode: RuntimeAdapter = {
  runtime: "claude-code",
  build: buildClaudeCode,
  makeStreamParser: makeClaudeCodeParser,
}
