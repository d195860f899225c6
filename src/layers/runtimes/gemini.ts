// src/layers/runtimes/gemini.ts — the Gemini CLI runtime: `gemini --output-format stream-json`, huskies
// as an MCP server in the worktree's .gemini/settings.json, and the parser of its JSONL events.
//
// Checked against the real Gemini CLI 0.61.0 (dev dependency) talking to a fake Gemini API; what it
// prints is documented in test/support/gemini.ts and exercised by test/layers/runtimes/cliContract.test.ts.
import { Either, Schema } from "effect"
import { join } from "node:path"
import type { AgentEvent } from "./agentEvents.js"
import { limitStatusOf, resetFromText } from "./rateLimits.js"
import {
  bearerFromEnv,
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
 * long gate run). The model API and its key are the user's (~/.gemini/settings.json, GEMINI_API_KEY).
 */
export const geminiSettings = (input: BuildInput) => ({
  mcpServers: {
    [mcpServerName]: {
      httpUrl: input.mcpUrl,
      timeout: mcpToolTimeoutMs,
      trust: true,
      // Gemini expands $VAR and ${VAR} in settings files when it reads them.
      ...(input.mcpTokenVar === undefined
        ? {}
        : { headers: { Authorization: bearerFromEnv(input.mcpTokenVar) } }),
    },
  },
  ...(input.agent.maxTurns === undefined ? {} : { model: { maxSessionTurns: input.agent.maxTurns } }),
})

/**
 * `gemini --output-format stream-json [--model m] --approval-mode yolo [--resume id] --prompt=<msg>`.
 * yolo: there is no permission prompt tool and nobody to ask. `--resume` takes the session id init
 * printed (a UUID; the session is looked up among the project's, i.e. the same worktree's). The prompt is passed as `--prompt=...`
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
    // Without it a headless run in a folder the user never trusted exits 55 ("Gemini CLI is not
    // running in a trusted directory"), after overriding yolo to "default".
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
      input: optional(Schema.Number),
    }),
  ),
})
type GeminiLine = typeof GeminiLine.Type

/** Gemini names MCP tools `mcp_<server>_<tool>`; events name them `mcp__<server>__<tool>` like Claude's. */
const toolName = (name: string): string => {
  const prefix = `mcp_${mcpServerName}_`
  return name.startsWith(prefix) ? `mcp__${mcpServerName}__${name.slice(prefix.length)}` : name
}

/** The HTTP status an error text quotes (`{"error":{"code":400,...}}`), if any. */
const statusIn = (message: string): number | undefined => {
  const code = /"code"\s*:\s*(\d{3})\b/.exec(message)?.[1]
  return code === undefined ? undefined : Number(code)
}

// The CLI's own retries, on stderr (the PTY merges it): "Attempt 1 failed: <why>. Retrying after
// 5392ms..." (the why may span lines, the delay then ends a later line).
const attemptFailed = /^Attempt (\d+) failed\b/
const retryingAfter = /Retrying after (\d+)ms\.{3}$/
// DEFAULT_MAX_ATTEMPTS of 0.61's retry loop: attempts, the first included.
const maxAttempts = 10

/**
 * The parser of Gemini's stream-json output (see test/support/gemini.ts for what 0.61 prints).
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
  let attempt = 0

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
    const httpStatus = statusIn(message)
    if (status === undefined)
      return [{ _tag: "ApiError", ...(httpStatus === undefined ? {} : { status: httpStatus }), message }]
    limitReported = true
    const at = now()
    return [
      { _tag: "RateLimited", status, resetAt: resetFromText(message, at) ?? at + defaultDelay, message },
    ]
  }

  const retryLine = (text: string): Array<AgentEvent> => {
    const failed = attemptFailed.exec(text)
    if (failed !== null) attempt = Number(failed[1])
    const delay = retryingAfter.exec(text)
    if (delay === null) return [{ _tag: "Unparsed", line: text }]
    return [
      { _tag: "Unparsed", line: text },
      { _tag: "Retrying", attempt, maxRetries: maxAttempts - 1, delayMs: Number(delay[1]) },
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
        // input_tokens include the cached ones; `input` is the rest, what inputTokens means here.
        usage: {
          inputTokens:
            line.stats?.input ?? Math.max(0, (line.stats?.input_tokens ?? 0) - (line.stats?.cached ?? 0)),
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
        return [
          { _tag: "ToolUse", id: line.tool_id, name: toolName(line.tool_name), input: line.parameters ?? {} },
        ]
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
      text: (line) => [...flush(), ...retryLine(line)],
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
