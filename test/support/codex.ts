// test/support/codex.ts — sets up the real Codex CLI (node_modules/.bin/codex) to run headless against
// a local fake OpenAI Responses API (test/fakes/openai.ts): a throwaway CODEX_HOME whose config.toml
// names the fake as the model provider, and the environment to run `codex exec` with.
//
// What Codex 0.169.0 does, found by running it against the fake (the runtime adapter in
// src/layers/runtimes/codex.ts relies on it; re-check after upgrading the CLI):
//
// Install. @openai/codex is a JS shim; the native binary comes from the platform package
// @openai/codex-linux-x64 (an npm alias, optionalDependencies): no install script, nothing downloaded.
//
// Pointing it at a model API. OPENAI_BASE_URL is NOT honoured by 0.169 (it went to api.openai.com).
// A provider in $CODEX_HOME/config.toml is: `model_provider = "fake"` and `[model_providers.fake]`
// with `base_url = "<url>/v1"`, `wire_api = "responses"`, `env_key` (the variable holding the API
// key, sent as `Authorization: Bearer`), `request_max_retries`, `stream_max_retries`. CODEX_HOME must
// exist. Requests: one streaming `POST /v1/responses` per model turn, nothing else (no /models
// call for a non-OpenAI provider), headers `session-id`/`thread-id` = the thread id, `originator:
// codex_exec`. The body carries model, instructions-less `input` (developer messages: Codex's prompt,
// then `developer_instructions`; a user <environment_context>; the prompt), tools, store:false.
// The tools depend on the model's metadata: "gpt-5.5" gets function tools (exec_command {cmd},
// write_stdin, apply_patch, ...) and MCP tools deferred behind `tool_search`; the default model
// (gpt-6.1-sol) gets "code mode" (a JavaScript `exec` tool in an `additional_tools` input item);
// an unknown model gets fallback metadata (a warning item, see below) and MCP tools listed directly
// as namespace `mcp__<server>`. Whatever was listed, a `function_call` with `namespace:
// "mcp__huskies"` and `name: "<tool>"` calls the MCP tool; a bare `mcp__huskies__<tool>` name is
// refused ("unsupported call", output only in the next request, no event printed).
//
// Headless. `codex exec` asks nothing; `--dangerously-bypass-approvals-and-sandbox` runs commands
// unsandboxed (exec_command runs `/bin/bash -lc '<cmd>'`). With stdin not a terminal it reads stdin
// and appends it to the prompt ("Reading additional input from stdin..." on stderr); in a PTY it
// does not. Under /tmp it warns "WARNING: proceeding, even though we could not create PATH aliases"
// on stderr. MCP servers from `-c mcp_servers.<name>.url=...` (Streamable HTTP) connect before the
// first request; `tool_timeout_sec`/`startup_timeout_sec` are accepted. An unreachable MCP server
// only logs "ERROR rmcp::transport::worker: worker quit with fatal: ..." on stderr; the run goes on
// without its tools.
//
// Retries. 5xx are retried silently (request_max_retries, default 4); a 429 is never retried, and
// neither retry-after nor the body's message reach the output: the run fails with `{"type":"error",
// "message":"exceeded retry limit, last status: 429 Too Many Requests, request id: <x-request-id>"}`
// then turn.failed with the same message, exit code 1. A 429 whose body is `{"error":{"type":
// "usage_limit_reached","resets_at":<epoch s>,...}}` prints "You’ve hit your usage limit. Upgrade to
// Pro (...) or try again at 6:25 PM." (local time; "at Nov 27th, 2026 4:46 AM." when over a day
// away). Stream failures print `{"type":"error","message":"Reconnecting... 2/5 (<why>)"}` per retry.
//
// The stream (`codex exec --json`, one JSON object per stdout line; a run is one turn):
// - {"type":"thread.started","thread_id":"<uuid v7>"}   (also printed, same id, on `exec resume`)
// - {"type":"turn.started"}
// - {"type":"item.started"|"item.completed","item":{"id":"item_<n>","type":...}} with type
//   "command_execution" {command,aggregated_output,exit_code,status "in_progress"|"completed"|
//   "failed"}, "mcp_tool_call" {server,tool,arguments,result:{content:[{type,text}],
//   structured_content},error,status}, "agent_message" {text} (completed only), "error" {message}
//   (completed only: a warning the run goes on after, e.g. "Model metadata for `gpt-fake` not found.
//   Defaulting to fallback metadata; ..."), reasoning, file_change, web_search, todo_list.
// - {"type":"turn.completed","usage":{"input_tokens","cached_input_tokens","cache_write_input_tokens",
//    "output_tokens","reasoning_output_tokens"}}: the THREAD's totals (all requests of the run, and on
//    `exec resume` the earlier runs' too); input_tokens include the cached ones. Exit code 0.
// - {"type":"turn.failed","error":{"message"}} after a fatal `{"type":"error","message"}`. Exit 1.
// No session-configured line, no model, tool list, MCP status or cost is printed.
//
// Resume. `codex exec [options] resume <thread id> -- <prompt>` continues the thread from
// $CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl: the next request carries the
// earlier conversation, and thread.started repeats the same id.
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"

export const codexBin = new URL("../../node_modules/.bin/codex", import.meta.url).pathname

/** A model Codex 0.169 has metadata for, whose tools are plain functions (exec_command, ...). */
export const codexModel = "gpt-5.5"

export interface CodexHomeOptions {
  /** Base URL of the fake Responses API (no /v1). */
  readonly baseUrl: string
  /** request_max_retries (default 0: a failure is final at once). */
  readonly requestRetries?: number
}

/**
 * Writes `<home>/.codex/config.toml` naming the fake as the model provider and returns the
 * environment to run Codex with (HOME, CODEX_HOME, the key variable).
 */
export const writeCodexHome = async (
  home: string,
  options: CodexHomeOptions,
): Promise<Record<string, string>> => {
  const codexHome = join(home, ".codex")
  await mkdir(codexHome, { recursive: true })
  await writeFile(
    join(codexHome, "config.toml"),
    [
      'model_provider = "fake"',
      "",
      "[model_providers.fake]",
      'name = "fake"',
      `base_url = "${options.baseUrl}/v1"`,
      'wire_api = "responses"',
      'env_key = "FAKE_OPENAI_API_KEY"',
      `request_max_retries = ${options.requestRetries ?? 0}`,
      "stream_max_retries = 0",
      "",
    ].join("\n"),
  )
  return { HOME: home, CODEX_HOME: codexHome, FAKE_OPENAI_API_KEY: "sk-fake-key" }
}
