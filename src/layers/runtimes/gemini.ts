// src/layers/runtimes/gemini.ts — the Gemini CLI runtime: `gemini --output-format stream-json`, huskies
// as an MCP server in the worktree's .gemini/settings.json, and the parser of its JSONL events.
//
// UNVERIFIED: the Gemini CLI is not installed here. Event shapes come from google-gemini/gemini-cli's
// packages/core/src/output/types.ts; flags and settings keys from its docs (headless mode, session
// management, MCP servers) and config.ts, read in the public index, not from running the CLI. The
// GEMINI_CLI_TRUST_WORKSPACE variable and the model.maxSessionTurns setting are the least certain.
// Re-check against a real `gemini --output-format stream-json` before relying on this runtime.
import { Either, Schema } from "effect"
import { join } from "node:path"
import type { AgentEvent } from "./agentEvents.js"
import { limitStatusOf, resetFromText } from "./rateLimits.js"
import {
  type BuildInput,
  huskiesEnv,
  type LaunchSpec,
  makeLineParser,
  mcpServerName,
  mcpToolTimeoutMs,
  messageFor,
  type ParserOptions,
  renderedSystemPrompt,
  type RuntimeAdapter,
  type StreamParser,
} from "./Runtime.js"

export const settingsFile = (worktree: string) => join(worktree, ".gemini", "settings.json")

/**
 * Project settings: huskies as a Streamable HTTP server (`httpUrl`) whose tools need no confirmation
 * (`trust`), with a request timeout as long as Claude Code's (the default, 10 min, is shorter than a
 * long gate run).
 */
export const geminiSettings = (input: BuildInput) => ({
  mcpServers: {
    [mcpServerName]: { httpUrl: input.mcpUrl, timeout: mcpToolTimeoutMs, trust: true },
  },
  ...(input.agent.maxTurns === undefined ? {} : { model: { maxSessionTurns: input.agent.maxTurns } }),
})

/**
 * `gemini --output-format stream-json [--model m] --approval-mode yolo [--resume id] --prompt=<msg>`.
 * yolo: there is no permission prompt tool and nobody to ask. The prompt is passed as `--prompt=...`
 * so that one starting with "-" is not read as a flag, and is never empty. Gemini has no flag to add
 * to the system prompt (GEMINI_SYSTEM_MD replaces it whole), so a new session's message starts with
 * the rendered system_prompt.
 */
export const buildGemini = (input: BuildInput): LaunchSpec => {
  const { agent } = input
  const systemPrompt = input.resumeSessionId === undefined ? renderedSystemPrompt(input) : undefined
  const message = messageFor(input)
  return {
    command: "gemini",
    args: [
      "--output-format",
      "stream-json",
      ...(agent.model === undefined ? [] : ["--model", agent.model]),
      "--approval-mode",
      "yolo",
      ...(input.resumeSessionId === undefined ? [] : ["--resume", input.resumeSessionId]),
      `--prompt=${systemPrompt === undefined ? message : `${systemPrompt}\n\n${message}`}`,
    ],
    // Headless runs in a folder the user never trusted otherwise fall back to asking for approval.
    env: { ...huskiesEnv(input), GEMINI_CLI_TRUST_WORKSPACE: "true" },
    files: [
      { path: settingsFile(input.worktree), content: `${JSON.stringify(geminiSettings(input), null, 2)}\n` },
    ],
  }
}

// ------------------------------------------------------------------------------------------ events

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

const GeminiError = Schema.Struct({ type: optional(Schema.String), message: Schema.String })

/** Every stream-json event (types.ts JsonStreamEvent), fields by `type`. */
const GeminiLine = Schema.Struct({
  type: Schema.String,
  session_id: optional(Schema.String),
  model: optional(Schema.String),
  role: optional(Schema.String),
  content: optional(Schema.String),
  delta: optional(Schema.Boolean),
  tool_name: optional(Schema.String),
  tool_id: optional(Schema.String),
  parameters: optional(Schema.Unknown),
  status: optional(Schema.String),
  output: optional(Schema.String),
  error: optional(GeminiError),
  severity: optional(Schema.String),
  message: optional(Schema.String),
  stats: optional(
    Schema.Struct({
      input_tokens: optional(Schema.Number),
      output_tokens: optional(Schema.Number),
      cached: optional(Schema.Number),
    }),
  ),
})
type GeminiLine = typeof GeminiLine.Type

/**
 * The parser of Gemini's stream-json output. UNVERIFIED against a real CLI (see the top comment).
 * Assistant text arrives in `delta` pieces; they are joined into one Text per stretch of text. A turn
 * is one model response: it starts with text or a tool call after the last tool results.
 */
export const makeGeminiParser = (options: ParserOptions = {}): StreamParser => {
  const now = options.now ?? Date.now
  const defaultDelay = options.defaultRetryDelayMs ?? 60_000
  let pending: Array<string> = []
  let lastText: string | undefined
  let turns = 0
  let inResponse = false
  let limitReported = false

  const flush = (): Array<AgentEvent> => {
    if (pending.length === 0) return []
    lastText = pending.join("")
    pending = []
    return [{ _tag: "Text", text: lastText }]
  }

  const responding = () => {
    if (!inResponse) turns += 1
    inResponse = true
  }

  const failure = (message: string): Array<AgentEvent> => {
    const status = limitStatusOf(message)
    if (status === undefined) return [{ _tag: "ApiError", message }]
    limitReported = true
    const at = now()
    return [
      { _tag: "RateLimited", status, resetAt: resetFromText(message, at) ?? at + defaultDelay, message },
    ]
  }

  const result = (line: GeminiLine): Array<AgentEvent> => {
    const isError = line.status !== "success"
    const errorText = line.error?.message
    const limit = errorText !== undefined && !limitReported ? failure(errorText) : []
    limitReported = false
    return [
      ...limit,
      {
        _tag: "Result",
        isError,
        subtype: line.status ?? "error",
        numTurns: turns,
        usage: {
          inputTokens: line.stats?.input_tokens ?? 0,
          outputTokens: line.stats?.output_tokens ?? 0,
          cacheRead: line.stats?.cached ?? 0,
          cacheCreation: 0,
        },
        permissionDenials: [],
        ...(errorText !== undefined ? { text: errorText } : lastText === undefined ? {} : { text: lastText }),
      },
    ]
  }

  const lineEvents = (line: GeminiLine): Array<AgentEvent> | undefined => {
    switch (line.type) {
      case "init":
        return line.session_id === undefined
          ? undefined
          : [
              {
                _tag: "SessionStarted",
                sessionId: line.session_id,
                ...(line.model === undefined ? {} : { model: line.model }),
                tools: [],
                mcpServers: [],
              },
            ]
      case "message": {
        if (line.role !== "assistant") return []
        responding()
        if (line.delta === true) {
          pending.push(line.content ?? "")
          return []
        }
        // A whole message (no delta flag) stands alone.
        const before = flush()
        lastText = line.content ?? ""
        return [...before, { _tag: "Text", text: lastText }]
      }
      case "tool_use":
        if (line.tool_id === undefined || line.tool_name === undefined) return undefined
        responding()
        return [{ _tag: "ToolUse", id: line.tool_id, name: line.tool_name, input: line.parameters ?? {} }]
      case "tool_result":
        if (line.tool_id === undefined) return undefined
        inResponse = false
        return [
          {
            _tag: "ToolResult",
            toolUseId: line.tool_id,
            isError: line.status === "error",
            text: line.output ?? line.error?.message ?? "",
          },
        ]
      case "error":
        // Warnings (loop detection, retries) are kept for the log only.
        return line.severity === "error" ? failure(line.message ?? "error") : undefined
      case "result":
        return result(line)
      default:
        return undefined
    }
  }

  return makeLineParser(
    {
      json: (value, text) => {
        const line = Either.getOrUndefined(Schema.decodeUnknownEither(GeminiLine)(value))
        // Text deltas of one message come one after another; anything else ends the stretch.
        const held = line?.type === "message" && line.role === "assistant" ? [] : flush()
        const events = line === undefined ? undefined : lineEvents(line)
        return [...held, ...(events ?? [{ _tag: "Unparsed", line: text }])]
      },
      text: (line) => [...flush(), { _tag: "Unparsed", line }],
      end: flush,
    },
    options,
  )
}

export const gemini: RuntimeAdapter = {
  runtime: "gemini",
  build: buildGemini,
  makeStreamParser: makeGeminiParser,
}
