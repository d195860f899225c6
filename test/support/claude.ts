// test/support/claude.ts — runs the real Claude Code CLI (node_modules/.bin/claude) headless against
// a local fake model API (test/fakes/anthropic.ts) in a throwaway HOME, and parses its stream-json.
//
// What Claude Code 2.1.197 does, found by running it against the fake (the runtime adapter that
// parses this stream relies on it; re-check after upgrading the CLI):
//
// Headless set-up. `claude -p` needs nothing in a fresh HOME: onboarding, the folder-trust dialog and
// the custom-API-key approval (`customApiKeyResponses`) are interactive-only; ANTHROPIC_API_KEY is
// used as is (init says apiKeySource "ANTHROPIC_API_KEY"). State goes to $CLAUDE_CONFIG_DIR/.claude.json,
// transcripts to $CLAUDE_CONFIG_DIR/projects/<cwd, "/" → "-">/<session id>.jsonl. As root,
// --dangerously-skip-permissions exits 1 ("cannot be used with root/sudo privileges") unless
// IS_SANDBOX=1, which also makes the CLI keep retrying repeated 529s instead of giving up after 3;
// `--allowedTools Bash` with the default permission mode is enough to run commands in the cwd. A tool
// call with no allow rule is refused without asking (tool_result is_error "This command requires
// approval") and listed in the result's permission_denials [{tool_name, tool_use_id, tool_input}];
// writes outside the cwd are refused too.
//
// Traffic. With CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 (our default) the CLI only talks to
// ANTHROPIC_BASE_URL: `HEAD /` (a preconnect, answer ignored), then one streaming
// `POST /v1/messages?beta=true` per model turn. Without it, it also asks for a session title (a side
// request: no tools, output_config.format json_schema {title}) unless the prompt is very short. The
// body carries model ("claude-opus-4-8" unless --model), messages (including a role "system" message
// listing the subagents), system (text blocks, the first "x-anthropic-billing-header: ..."), tools
// (the built-ins, MCP tools as mcp__<server>__<tool>), metadata, max_tokens 64000, thinking
// {type:"adaptive"}, context_management, output_config {effort}, stream: true; header anthropic-beta.
//
// Session id. `--session-id <uuid>` is honoured: init.session_id, every line's session_id, the
// request header x-claude-code-session-id, and metadata.user_id (a JSON string {device_id,
// account_uuid, session_id}). Side requests and subagents (the Agent tool) send the same id;
// subagent requests are conversation turns (they take scripted turns in order). The rule for side
// requests is in test/fakes/anthropicRequests.ts.
//
// Retries. CLAUDE_CODE_MAX_RETRIES (default 10, at most 15; 0 = none; runClaude sets 0). 408, 409,
// 429, 5xx and 529 are retried unless the response says `x-should-retry: false`; the wait is
// retry-after seconds, or a backoff from ~500 ms when it is 0 or absent. Each retry prints
// {"type":"system","subtype":"api_retry","attempt":1,"max_retries":1,"retry_delay_ms":594,
//  "error_status":429,"error":"rate_limit"|"overloaded"|"server_error","session_id","uuid"}.
// When retries run out: exit code 1, an assistant line with message.model "<synthetic>", one text
// block "API Error: Request rejected (429) · <message>" (5xx/529: "API Error: 529 <message>. This is
// a server-side issue, ..."), top-level "error": "rate_limit" (429) | "server_error" (5xx, 529) and
// "request_id"; then a result line with subtype "success", is_error true, api_error_status 429.
//
// The stream (`--output-format stream-json --verbose`, one JSON object per stdout line):
// - {"type":"system","subtype":"init","cwd","session_id","tools":["Task","Bash",...],
//    "mcp_servers":[{"name","status":"connected"|"failed"|...}],"model":"claude-opus-4-8[1m]",
//    "permissionMode","slash_commands","apiKeySource","claude_code_version","output_style","agents",
//    "skills","plugins","uuid","memory_paths","fast_mode_state"}
// - {"type":"assistant","message":{"id","type":"message","role":"assistant","model",
//    "content":[ONE block: {"type":"text","text"} | {"type":"tool_use","id","name","input"}],
//    "stop_reason":null,"usage":<from message_start: output_tokens is not final>},
//    "parent_tool_use_id":null | <Agent tool_use id>,"session_id","uuid","request_id"}
//   A model message with several blocks is printed as several lines with the same message.id.
// - {"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id",
//    "content": string | [{"type":"text","text"}],"is_error"}]},"parent_tool_use_id","session_id",
//    "uuid","timestamp","tool_use_result": {"stdout","stderr","interrupted",...} (Bash) | "Error: ..."}
// - Subagents: system "task_started" {task_id, tool_use_id, description, subagent_type, prompt}, a
//   user line with the subagent's prompt and parent_tool_use_id, system "task_updated" {patch:
//   {status}}, system "task_notification" {status, summary, usage}; their replies are not printed.
// - {"type":"result","subtype":"success"|"error_max_turns"|...,"is_error","api_error_status",
//    "duration_ms","duration_api_ms","num_turns","result":<final text; absent on error_max_turns>,
//    "stop_reason":"end_turn"|"tool_use"|...,"session_id","total_cost_usd":<priced by the CLI from
//    usage>,"usage":{"input_tokens","cache_creation_input_tokens","cache_read_input_tokens",
//    "output_tokens",...summed over turns},"modelUsage":{<model>:{"inputTokens",...,"costUSD"}},
//    "permission_denials","terminal_reason":"completed","uuid"}
//   num_turns counts rounds of the agent loop (1 for a plain answer), not requests. Exceeding
//   --max-turns gives subtype "error_max_turns", is_error true, exit code 1.
import { spawn } from "node:child_process"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { tempDir } from "./tempDir.js"

export const claudeBin = new URL("../../node_modules/.bin/claude", import.meta.url).pathname

/** One line of `--output-format stream-json`; see the shapes above. */
export interface StreamLine {
  readonly type: string
  readonly subtype?: string
  readonly session_id?: string
  readonly uuid?: string
  readonly [field: string]: unknown
}

export interface ClaudeUsage {
  readonly input_tokens: number
  readonly output_tokens: number
  readonly cache_read_input_tokens: number
  readonly cache_creation_input_tokens: number
  readonly [field: string]: unknown
}

export interface InitLine extends StreamLine {
  readonly type: "system"
  readonly subtype: "init"
  readonly session_id: string
  readonly cwd: string
  readonly model: string
  readonly tools: ReadonlyArray<string>
  readonly mcp_servers: ReadonlyArray<{ readonly name: string; readonly status: string }>
  readonly permissionMode: string
  readonly apiKeySource: string
  readonly claude_code_version: string
}

export interface ResultLine extends StreamLine {
  readonly type: "result"
  /** "success" (also for API errors: see is_error), "error_max_turns", "error_during_execution"... */
  readonly subtype: string
  readonly is_error: boolean
  readonly api_error_status: number | null
  readonly result?: string
  readonly num_turns: number
  readonly stop_reason: string | null
  readonly session_id: string
  readonly total_cost_usd: number
  readonly usage: ClaudeUsage
  readonly duration_ms: number
  readonly permission_denials: ReadonlyArray<unknown>
}

export interface ClaudeOptions {
  /** Base URL of the fake model API. */
  readonly baseUrl: string
  readonly prompt: string
  /** The agent's working directory. */
  readonly cwd: string
  /** A uuid; the fake selects the script by it. Without it the CLI makes one up. */
  readonly sessionId?: string
  readonly model?: string
  readonly maxTurns?: number
  /** Path of an MCP config file (`--mcp-config`); `strictMcpConfig` ignores every other one. */
  readonly mcpConfig?: string
  readonly strictMcpConfig?: boolean
  /** `--allowedTools`, e.g. ["Bash", "Edit", "mcp__huskies__status"]. */
  readonly allowedTools?: ReadonlyArray<string>
  /** `--permission-mode`; "bypassPermissions" is passed as --dangerously-skip-permissions. */
  readonly permissionMode?: "default" | "acceptEdits" | "bypassPermissions" | "plan"
  /** Further CLI arguments, appended last. */
  readonly extraArgs?: ReadonlyArray<string>
  /**
   * Environment on top of the defaults (CLAUDE_CODE_MAX_RETRIES=0, non-essential traffic off);
   * `undefined` removes a variable. HOME, CLAUDE_CONFIG_DIR and the API variables always win.
   */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Let the CLI make its non-essential calls (session titles...), off by default. */
  readonly nonessentialTraffic?: boolean
  /** A HOME the caller owns (kept afterwards, e.g. to --resume); by default a temp dir, removed. */
  readonly home?: string
  /** Kill the process group after this long (default 60s). */
  readonly timeoutMs?: number
}

export interface ClaudeRun {
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  readonly timedOut: boolean
  /** Every stdout line that parsed as JSON, in order. */
  readonly lines: ReadonlyArray<StreamLine>
  readonly stdout: string
  readonly stderr: string
  readonly init: InitLine | undefined
  readonly result: ResultLine | undefined
}

// Variables of the machine (or of a Claude Code session running the tests) that would redirect the
// CLI to a real account, provider or config.
const leaky =
  /^(ANTHROPIC_|CLAUDE_|CLAUDECODE$|AWS_|GOOGLE_|VERTEX_|OTEL_|MCP_|DISABLE_|HTTPS?_PROXY$|NO_PROXY$)/i

const cleanEnv = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).flatMap(([name, value]) =>
      value === undefined || leaky.test(name) ? [] : [[name, value]],
    ),
  )

const argsOf = (options: ClaudeOptions): Array<string> => [
  "-p",
  options.prompt,
  "--output-format",
  "stream-json",
  "--verbose",
  ...(options.sessionId === undefined ? [] : ["--session-id", options.sessionId]),
  ...(options.model === undefined ? [] : ["--model", options.model]),
  ...(options.maxTurns === undefined ? [] : ["--max-turns", String(options.maxTurns)]),
  ...(options.mcpConfig === undefined ? [] : ["--mcp-config", options.mcpConfig]),
  ...(options.strictMcpConfig === true ? ["--strict-mcp-config"] : []),
  ...(options.allowedTools === undefined ? [] : ["--allowedTools", ...options.allowedTools]),
  ...(options.permissionMode === undefined
    ? []
    : options.permissionMode === "bypassPermissions"
      ? ["--dangerously-skip-permissions"]
      : ["--permission-mode", options.permissionMode]),
  ...(options.extraArgs ?? []),
]

const parseLines = (stdout: string): Array<StreamLine> =>
  stdout.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return []
    try {
      const parsed = JSON.parse(line) as unknown
      return typeof parsed === "object" && parsed !== null && "type" in parsed ? [parsed as StreamLine] : []
    } catch {
      return []
    }
  })

const killGroup = (pid: number | undefined): void => {
  if (pid === undefined) return
  try {
    process.kill(-pid, "SIGKILL")
  } catch {
    // ESRCH: the group is already gone, which is what we wanted.
  }
}

/** Runs `claude -p` to completion (or the timeout) and returns its parsed stream. */
export const runClaude = async (options: ClaudeOptions): Promise<ClaudeRun> => {
  const own = options.home === undefined ? tempDir("huskies-claude-") : undefined
  const home = options.home ?? own?.dir ?? ""
  const configDir = join(home, ".claude")
  await mkdir(configDir, { recursive: true })
  try {
    const env: Record<string, string | undefined> = {
      ...cleanEnv(),
      CLAUDE_CODE_MAX_RETRIES: "0",
      ...(options.nonessentialTraffic === true ? {} : { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" }),
      DISABLE_TELEMETRY: "1",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_ERROR_REPORTING: "1",
      // Lets --dangerously-skip-permissions run as root (CI containers); see the findings above.
      ...(options.permissionMode === "bypassPermissions" ? { IS_SANDBOX: "1" } : {}),
      ...options.env,
      HOME: home,
      CLAUDE_CONFIG_DIR: configDir,
      ANTHROPIC_BASE_URL: options.baseUrl,
      ANTHROPIC_API_KEY: "sk-ant-fake-key",
    }
    return await new Promise<ClaudeRun>((resolve, reject) => {
      const child = spawn(claudeBin, argsOf(options), {
        cwd: options.cwd,
        env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
        stdio: ["ignore", "pipe", "pipe"],
        // Its own process group, so a timeout also kills the shells and servers the agent started.
        detached: true,
      })
      let stdout = ""
      let stderr = ""
      let timedOut = false
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
      const timer = setTimeout(() => {
        timedOut = true
        killGroup(child.pid)
      }, options.timeoutMs ?? 60_000)
      child.on("error", (error) => {
        clearTimeout(timer)
        reject(error)
      })
      child.on("close", (exitCode, signal) => {
        clearTimeout(timer)
        // Whatever the agent left running in the background goes with it.
        killGroup(child.pid)
        const lines = parseLines(stdout)
        resolve({
          exitCode,
          signal,
          timedOut,
          lines,
          stdout,
          stderr,
          init: lines.find((l): l is InitLine => l.type === "system" && l.subtype === "init"),
          result: [...lines].reverse().find((l): l is ResultLine => l.type === "result"),
        })
      })
    })
  } finally {
    own?.cleanup()
  }
}

/** Writes an MCP config file for `--mcp-config` naming HTTP servers, and returns its path. */
export const writeMcpConfig = async (
  dir: string,
  servers: Readonly<Record<string, { readonly url: string }>>,
): Promise<string> => {
  const path = join(dir, "mcp.json")
  const mcpServers = Object.fromEntries(
    Object.entries(servers).map(([name, { url }]) => [name, { type: "http", url }]),
  )
  await writeFile(path, JSON.stringify({ mcpServers }, null, 2))
  return path
}
