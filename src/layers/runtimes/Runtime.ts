// src/layers/runtimes/Runtime.ts — the contract of a runtime adapter (how to launch one agent CLI in a
// story's worktree, and how to read its output) and what the adapters share. AgentActor builds a launch
// from it, spawns it in a PTY, and feeds the PTY's output to the adapter's stream parser.
import { Buffer } from "node:buffer"
import type { AgentConfig, AgentRuntime } from "../../domain/Config.js"
import { renderTemplate } from "../../domain/Config.js"
import type { AgentEvent } from "./agentEvents.js"
import { cleanLine, defaultMaxLineLength, makeLineSplitter, parseJsonObject, type RawLine } from "./lines.js"

export interface BuildInput {
  readonly agent: AgentConfig
  readonly storyId: string
  /** Absolute path of the story's worktree: the agent's working directory. */
  readonly worktree: string
  /** This server's MCP endpoint as the agent reaches it, e.g. `http://localhost:3001/mcp`. */
  readonly mcpUrl: string
  /**
   * When the server requires a bearer token: the variable of the agent's environment that holds it.
   * Adapters name the variable in the CLI's MCP config (which expands it), never the token, so no
   * secret is written into the worktree.
   */
  readonly mcpTokenVar?: string
  /**
   * What to tell the agent this time, already rendered: the agent's prompt for a new session; on a
   * resume whatever is new (may be empty).
   */
  readonly prompt: string
  /** A session id the CLI printed before (SessionStarted): continue that conversation. */
  readonly resumeSessionId?: string
  /** More for the agent to read, e.g. the output of the gates that failed. */
  readonly extraPrompt?: string
}

export interface LaunchFile {
  /** Absolute path (inside the worktree). */
  readonly path: string
  readonly content: string
}

export interface LaunchSpec {
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** Variables to set on top of the agent's base environment. */
  readonly env: Readonly<Record<string, string>>
  /** Files to write before starting the command (configuration the command reads). */
  readonly files: ReadonlyArray<LaunchFile>
}

export interface ParserOptions {
  /** The time in ms since the epoch; pass the Clock's so tests control it (default Date.now). */
  readonly now?: () => number
  /** Longer lines are kept as a truncated Unparsed event (default 64 Mi characters). */
  readonly maxLineLength?: number
  /** How far ahead to put a rate limit's reset when the CLI gives no hint at all (default 60 s). */
  readonly defaultRetryDelayMs?: number
}

/** A stateful parser of one agent run's output: feed it chunks cut anywhere, then `end()` it once. */
export interface StreamParser {
  readonly push: (chunk: string) => ReadonlyArray<AgentEvent>
  readonly end: () => ReadonlyArray<AgentEvent>
}

export interface RuntimeAdapter {
  readonly runtime: AgentRuntime
  /** Pure: the same input gives the same launch. */
  readonly build: (input: BuildInput) => LaunchSpec
  readonly makeStreamParser: (options?: ParserOptions) => StreamParser
  /**
   * The CLI reports a session's running total, so a resumed run's usage includes the runs before it
   * (Codex): the runner subtracts what the ledger already holds for that session.
   */
  readonly usageIncludesResumedRuns?: boolean
}

/** The MCP server name the agents see; tools appear to Claude Code as `mcp__huskies__<tool>`. */
export const mcpServerName = "huskies"

/**
 * How long an agent CLI waits for one MCP tool call. huskies' blocking tools (run_tests,
 * merge_agent_work) take as long as the gates and send progress meanwhile: the CLI must wait for the
 * answer rather than time out and leave the agent to poll, as the earlier implementation's agents did.
 */
export const mcpToolTimeoutMs = 24 * 60 * 60 * 1000

/** The variable that holds the server's bearer token: serve reads it, and puts it in agents' environment. */
export const tokenEnvVar = "HUSKIES_TOKEN"

/** `Bearer ${VAR}`: the Authorization header value Claude Code and Gemini expand from the environment. */
export const bearerFromEnv = (variable: string): string => `Bearer \${${variable}}`

/** Variables every runtime gets, so scripts and hooks the agent runs know where they are. */
export const huskiesEnv = (input: BuildInput): Record<string, string> => ({
  HUSKIES_STORY_ID: input.storyId,
  HUSKIES_WORKTREE: input.worktree,
  HUSKIES_MCP_URL: input.mcpUrl,
})

export const renderedSystemPrompt = (input: BuildInput): string | undefined =>
  input.agent.systemPrompt === undefined
    ? undefined
    : renderTemplate(input.agent.systemPrompt, { story_id: input.storyId })

// Linux refuses to exec a command with any single argument or variable over 128 KiB (E2BIG): a
// prompt carrying a huge gate output would make the agent fail to start at all.
export const maxPromptBytes = 100 * 1024

const omitted = (bytes: number) =>
  `\n\n[... ${bytes} bytes omitted: the text was too long to pass on ...]\n\n`

/** Cuts the middle out of `text` so it fits in `maxBytes` of UTF-8, keeping its start and its end. */
export const fitText = (text: string, maxBytes: number): string => {
  const size = Buffer.byteLength(text)
  if (size <= maxBytes) return text
  let half = Math.floor(maxBytes / 2)
  for (;;) {
    const head = text.slice(0, half)
    const tail = text.slice(text.length - half)
    const marker = omitted(size - Buffer.byteLength(head) - Buffer.byteLength(tail))
    const fitted = head + marker + tail
    if (Buffer.byteLength(fitted) <= maxBytes || half === 0) return fitted
    half = Math.floor(half * 0.9)
  }
}

/** What a resumed session is told when there is nothing new to say. */
export const continuePrompt = (storyId: string): string =>
  `Continue working on ${storyId}: pick up where the previous session stopped.`

/**
 * The message to send: the prompt, then the extra text, never empty and never too long. Claude Code
 * 2.1.197 exits 1 on an empty `-p` prompt ("Input must be provided ...") and on an empty resume ("No
 * deferred tool marker found ..."): the earlier implementation's respawns died exactly like that.
 */
export const messageFor = (input: BuildInput): string => {
  const prompt = input.prompt.trim()
  const extra = (input.extraPrompt ?? "").trim()
  if (prompt === "" && extra === "") return continuePrompt(input.storyId)
  if (prompt === "" || extra === "") return fitText(prompt === "" ? extra : prompt, maxPromptBytes)
  // The instructions stay whole; the extra text (gate output) gives way.
  const room = maxPromptBytes - Buffer.byteLength(prompt) - 2
  return room >= 1024
    ? `${prompt}\n\n${fitText(extra, room)}`
    : fitText(`${prompt}\n\n${extra}`, maxPromptBytes)
}

/** What a parser does with each clean, non-empty line. */
export interface LineHandler {
  /** The line parsed as a JSON object. */
  readonly json: (value: Record<string, unknown>, line: string) => ReadonlyArray<AgentEvent>
  /** Any other line. */
  readonly text: (line: string) => ReadonlyArray<AgentEvent>
  /** Flush whatever the handler holds back, at the end of the stream. */
  readonly end?: () => ReadonlyArray<AgentEvent>
}

const overlong = (line: RawLine, max: number): AgentEvent => ({
  _tag: "Unparsed",
  line: `${line.text}... [${line.dropped} more characters dropped: the line is longer than ${max}]`,
})

/** A stream parser from a line handler: splitting, terminal clean-up and JSON detection are shared. */
export const makeLineParser = (handler: LineHandler, options: ParserOptions = {}): StreamParser => {
  const max = options.maxLineLength ?? defaultMaxLineLength
  const splitter = makeLineSplitter(max)
  const handle = (lines: ReadonlyArray<RawLine>): Array<AgentEvent> =>
    lines.flatMap((raw) => {
      if (raw.dropped > 0) return [overlong(raw, max)]
      const line = cleanLine(raw.text)
      if (line === "") return []
      const json = parseJsonObject(line)
      return [...(json === undefined ? handler.text(line) : handler.json(json, line))]
    })
  return {
    push: (chunk) => handle(splitter.push(chunk)),
    end: () => [...handle(splitter.end()), ...(handler.end?.() ?? [])],
  }
}

/**
 * For CLIs that print one JSON event per line: lines `lineEvents` does not map (undefined), and
 * plain text, are kept as Unparsed for the session log.
 */
export const makeJsonEventParser = (
  lineEvents: (value: Record<string, unknown>) => ReadonlyArray<AgentEvent> | undefined,
  options: ParserOptions = {},
): StreamParser =>
  makeLineParser(
    {
      json: (value, line) => lineEvents(value) ?? [{ _tag: "Unparsed", line }],
      text: (line) => [{ _tag: "Unparsed", line }],
    },
    options,
  )
