// test/support/gemini.ts — sets up the real Gemini CLI (node_modules/.bin/gemini) to run headless against
// a local fake Gemini API (test/fakes/gemini.ts): a throwaway HOME whose ~/.gemini/settings.json picks
// API-key auth, and the environment to run `gemini` with.
//
// What Gemini CLI 0.61.0 does, found by running it against the fake (the runtime adapter in
// src/layers/runtimes/gemini.ts relies on it; re-check after upgrading the CLI):
//
// Install. A bundled JS package (engines node >= 20); its optional @github/keytar has an install
// script we do not allow (it only stores OAuth credentials; API-key auth does not need it) and
// @lydell/node-pty ships prebuilt binaries.
//
// Pointing it at a model API. GOOGLE_GEMINI_BASE_URL is the base URL (no /v1beta); GEMINI_API_KEY is
// sent as `x-goog-api-key`. But GOOGLE_GEMINI_BASE_URL alone selects the "gateway" auth type, which
// headless mode refuses ("Invalid auth method selected.", exit 41): ~/.gemini/settings.json must say
// `{"security":{"auth":{"selectedType":"gemini-api-key"}}}`, and the base URL is then still used.
// Requests: per prompt a routing side call (`POST /v1beta/models/gemini-3.5-flash-lite:generateContent`,
// JSON schema {complexity_reasoning, complexity_score >= 1}; an invalid answer only logs a ZodError on
// stderr), then per model turn `POST /v1beta/models/<model>:streamGenerateContent?alt=sse` with
// contents, systemInstruction, tools [{functionDeclarations}] (run_shell_command {command,
// description}, read_file, write_file, replace, ..., MCP tools as `mcp_<server>_<tool>`). With the
// model "auto" the router picks the model (gemini-3.8-flash for a low score). Requests carry no
// session id (only x-gemini-api-privileged-user-id, the installation id), so tests script
// `anySession` on a fake of their own.
//
// Headless. `--prompt` runs once and exits. A folder nobody trusted makes it exit 55 unless
// GEMINI_CLI_TRUST_WORKSPACE=true (or --skip-trust). stderr gets "YOLO mode is enabled...", "Ripgrep is
// not available...", a 256-colour warning; an API error also writes a report to
// $TMPDIR/gemini-client-error-*.json (point TMPDIR somewhere the test removes). MCP servers come from
// the project's .gemini/settings.json (`httpUrl` = Streamable HTTP), and connect before the first
// request; shell commands run in the cwd.
//
// Retries. 5xx and retryable 429s are retried up to 10 attempts, waiting at least 5 s (or the
// RetryInfo delay), each announced on stderr: "Attempt 1 failed: <message>\nSuggested retry after 1s..
// Retrying after 5392ms...". A 429 is terminal (no retry) when its RetryInfo delay is over 300 s, a
// quota id says PerDay/Daily, or the message says "limit: 0"; then the run ends with a result line
// status "error", error {type:"unknown", message:"[API Error: <message>\nSuggested retry after
// 3600s.]\nPlease wait and try again later. ..."}, exit code 173. Other API errors: message "[API
// Error: <the JSON error body>]", exit code 144.
//
// The stream (`--output-format stream-json`, one JSON object per stdout line, each with "timestamp"):
// - {"type":"init","session_id":"<uuid>","model":"auto"|<--model>}
// - {"type":"message","role":"user","content":<the prompt>}
// - {"type":"message","role":"assistant","content":<a piece>,"delta":true}   (one per streamed chunk)
// - {"type":"tool_use","tool_name":"run_shell_command"|"mcp_huskies_create_story"|...,
//    "tool_id":"<name>__<name>_<ms>_<n>","parameters":{...}}
// - {"type":"tool_result","tool_id","status":"success"|"error","output":<text>}  (MCP: the tool's text)
// - {"type":"result","status":"success"|"error","error"?:{"type","message"},"stats":{"total_tokens",
//    "input_tokens","output_tokens","cached","input","duration_ms","tool_calls","models":{<model>:
//    {...the same per model, the routing side calls included}}}}
// No cost is printed.
//
// Resume. `--resume <session id>` (also "latest" or an index) continues a session of the same
// project (~/.gemini/tmp/<project>/chats): the next request carries the earlier conversation and init
// repeats the id. `--session-id <uuid>` would start a new session with a chosen id.
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"

export const geminiBin = new URL("../../node_modules/.bin/gemini", import.meta.url).pathname

/**
 * Writes `<home>/.gemini/settings.json` choosing API-key auth and returns the environment to run
 * Gemini CLI with against the fake at `baseUrl` (HOME, the key, the base URL, TMPDIR inside home).
 */
export const writeGeminiHome = async (home: string, baseUrl: string): Promise<Record<string, string>> => {
  await mkdir(join(home, ".gemini"), { recursive: true })
  await mkdir(join(home, "tmp"), { recursive: true })
  await writeFile(
    join(home, ".gemini", "settings.json"),
    `${JSON.stringify({ security: { auth: { selectedType: "gemini-api-key" } } }, null, 2)}\n`,
  )
  return {
    HOME: home,
    GEMINI_API_KEY: "fake-gemini-key",
    GOOGLE_GEMINI_BASE_URL: baseUrl,
    TMPDIR: join(home, "tmp"),
  }
}
