// test/layers/runtimes/codex.test.ts — the Codex adapter: its launch and its parser on `codex exec
// --json` events as Codex 0.169 prints them (test/support/codex.ts); cliContract.test.ts runs the real CLI.
import { describe, expect, it } from "@effect/vitest"
import { buildCodex, makeCodexParser, tomlString } from "../../../src/layers/runtimes/codex.js"
import { continuePrompt } from "../../../src/layers/runtimes/Runtime.js"
import { agentConfig, buildInput, feed } from "./support.js"

const now = 1_767_225_600_000
const parse = (lines: ReadonlyArray<unknown>) =>
  feed(makeCodexParser({ now: () => now }), [lines.map((l) => `${JSON.stringify(l)}\r\n`).join("")])

describe("Codex launch", () => {
  it("runs codex exec --json with huskies as an MCP server through -c overrides", () => {
    const launch = buildCodex(buildInput())

    expect(launch.command).toBe("codex")
    expect(launch.args).toEqual([
      "exec",
      "--json",
      "--dangerously-bypass-approvals-and-sandbox",
      "-c",
      'mcp_servers.huskies.url="http://localhost:3001/mcp"',
      "-c",
      "mcp_servers.huskies.tool_timeout_sec=86400",
      "-c",
      "mcp_servers.huskies.startup_timeout_sec=60",
      "--",
      "Implement story 12_story_add_login.",
    ])
    expect(launch.files).toEqual([])
    expect(launch.env).toMatchObject({ HUSKIES_STORY_ID: "12_story_add_login" })
  })

  it("passes the model and the system prompt, and resumes with a message that is never empty", () => {
    const agent = agentConfig({
      runtime: "codex",
      model: "gpt-5-codex",
      system_prompt: 'Say "{{story_id}}"\nthen work.',
    })
    const { args } = buildCodex(buildInput({ agent, prompt: "", resumeSessionId: "0199a213-81c0-7800" }))

    expect(args[args.indexOf("--model") + 1]).toBe("gpt-5-codex")
    expect(args).toContain('developer_instructions="Say \\"12_story_add_login\\"\\nthen work."')
    expect(args.slice(-4)).toEqual([
      "resume",
      "0199a213-81c0-7800",
      "--",
      continuePrompt("12_story_add_login"),
    ])
  })

  it("names the token's variable with bearer_token_env_var when the server needs one", () => {
    const { args } = buildCodex(buildInput({ mcpTokenVar: "HUSKIES_TOKEN" }))
    expect(args).toContain('mcp_servers.huskies.bearer_token_env_var="HUSKIES_TOKEN"')
  })

  it("writes TOML strings that survive quotes, backslashes and control characters", () => {
    expect(tomlString('a "b" \\ c\n\t\u0001\u007f')).toBe('"a \\"b\\" \\\\ c\\n\\t\\u0001\\u007f"')
  })
})

describe("Codex stream parser", () => {
  const run = [
    { type: "thread.started", thread_id: "0199a213-81c0-7800-8aa1-bbab2a035a53" },
    { type: "turn.started" },
    { type: "item.completed", item: { id: "item_0", type: "reasoning", text: "**Looking around**" } },
    {
      type: "item.started",
      item: {
        id: "item_1",
        type: "command_execution",
        command: "bash -lc ls",
        aggregated_output: "",
        exit_code: null,
        status: "in_progress",
      },
    },
    {
      type: "item.completed",
      item: {
        id: "item_1",
        type: "command_execution",
        command: "bash -lc ls",
        aggregated_output: "README.md\n",
        exit_code: 0,
        status: "completed",
      },
    },
    {
      type: "item.started",
      item: {
        id: "item_2",
        type: "mcp_tool_call",
        server: "huskies",
        tool: "status",
        arguments: { story_id: "12_story_add_login" },
        result: null,
        error: null,
        status: "in_progress",
      },
    },
    {
      type: "item.completed",
      item: {
        id: "item_2",
        type: "mcp_tool_call",
        server: "huskies",
        tool: "status",
        arguments: { story_id: "12_story_add_login" },
        result: { content: [{ type: "text", text: "stage: Coding" }], structured_content: null },
        error: null,
        status: "completed",
      },
    },
    {
      type: "item.completed",
      item: {
        id: "item_3",
        type: "command_execution",
        command: "npm test",
        aggregated_output: "1 failing",
        exit_code: 1,
        status: "failed",
      },
    },
    {
      type: "item.completed",
      item: {
        id: "item_4",
        type: "file_change",
        changes: [{ path: "src/login.ts", kind: "add" }],
        status: "completed",
      },
    },
    { type: "item.completed", item: { id: "item_5", type: "agent_message", text: "Done." } },
    {
      type: "turn.completed",
      usage: {
        input_tokens: 24763,
        cached_input_tokens: 24448,
        cache_write_input_tokens: 0,
        output_tokens: 122,
        reasoning_output_tokens: 0,
      },
    },
  ]

  it("maps the thread, commands, MCP calls, file changes, messages and usage", () => {
    expect(parse(run)).toEqual([
      {
        _tag: "SessionStarted",
        sessionId: "0199a213-81c0-7800-8aa1-bbab2a035a53",
        tools: [],
        mcpServers: [],
      },
      { _tag: "ToolUse", id: "item_1", name: "shell", input: { command: "bash -lc ls" } },
      { _tag: "ToolResult", toolUseId: "item_1", isError: false, text: "README.md\n" },
      {
        _tag: "ToolUse",
        id: "item_2",
        name: "mcp__huskies__status",
        input: { story_id: "12_story_add_login" },
      },
      { _tag: "ToolResult", toolUseId: "item_2", isError: false, text: "stage: Coding" },
      { _tag: "ToolUse", id: "item_3", name: "shell", input: { command: "npm test" } },
      { _tag: "ToolResult", toolUseId: "item_3", isError: true, text: "1 failing" },
      {
        _tag: "ToolUse",
        id: "item_4",
        name: "file_change",
        input: { changes: [{ path: "src/login.ts", kind: "add" }] },
      },
      { _tag: "ToolResult", toolUseId: "item_4", isError: false, text: "add src/login.ts" },
      { _tag: "Text", text: "Done." },
      // input_tokens include the cached ones; inputTokens are the rest, as Claude Code counts them.
      { _tag: "Usage", inputTokens: 315, outputTokens: 122, cacheRead: 24448, cacheCreation: 0 },
      {
        _tag: "Result",
        isError: false,
        subtype: "success",
        numTurns: 1,
        usage: { inputTokens: 315, outputTokens: 122, cacheRead: 24448, cacheCreation: 0 },
        permissionDenials: [],
        text: "Done.",
      },
    ])
  })

  it("a usage limit is RateLimited once, with the reset it names, and the turn fails", () => {
    const message =
      "You've hit your usage limit. Upgrade to Pro (https://openai.com/chatgpt/pricing), or try again in 2 hours 5 minutes."
    const events = parse([
      { type: "thread.started", thread_id: "t1" },
      { type: "turn.started" },
      { type: "error", message },
      { type: "turn.failed", error: { message } },
    ])
    expect(events.slice(1)).toEqual([
      { _tag: "RateLimited", status: 429, resetAt: now + 125 * 60_000, message },
      {
        _tag: "Result",
        isError: true,
        subtype: "error",
        numTurns: 1,
        usage: { inputTokens: 0, outputTokens: 0, cacheRead: 0, cacheCreation: 0 },
        permissionDenials: [],
        text: message,
      },
    ])
  })

  it("a 429 Codex gave up on is RateLimited with the default reset; a usage limit names a clock time", () => {
    const message = "exceeded retry limit, last status: 429 Too Many Requests, request id: req_1"
    expect(
      parse([
        { type: "error", message },
        { type: "turn.failed", error: { message } },
      ]),
    ).toEqual([
      { _tag: "RateLimited", status: 429, resetAt: now + 60_000, message },
      expect.objectContaining({ _tag: "Result", isError: true, text: message }),
    ])
    const limit =
      "You’ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), visit https://chatgpt.com/settings/usage to purchase more credits or try again at Nov 27th, 2026 4:46 AM."
    expect(parse([{ type: "error", message: limit }])).toEqual([
      { _tag: "RateLimited", status: 429, resetAt: new Date(2026, 10, 27, 4, 46).getTime(), message: limit },
    ])
  })

  it("reconnects are Retrying; warning items are kept for the log; a 5xx is an ApiError with its status", () => {
    const warning = {
      type: "item.completed",
      item: { id: "item_0", type: "error", message: "Model metadata for `gpt-fake` not found." },
    }
    const failed = "exceeded retry limit, last status: 500 Internal Server Error, request id: req_2"
    const events = parse([
      warning,
      { type: "error", message: "Reconnecting... 2/5 (stream disconnected before completion: reset)" },
      { type: "error", message: failed },
      { type: "turn.failed", error: { message: failed } },
    ])
    expect(events).toEqual([
      { _tag: "Unparsed", line: JSON.stringify(warning) },
      { _tag: "Retrying", attempt: 2, maxRetries: 5, delayMs: 0 },
      { _tag: "ApiError", status: 500, message: failed },
      expect.objectContaining({ _tag: "Result", isError: true }),
    ])
  })

  it("other failures are ApiError; unknown lines and plain text are kept as Unparsed", () => {
    const events = parse([
      { type: "turn.failed", error: { message: "stream disconnected before completion" } },
      { type: "session.configured", model: "gpt-5" },
    ])
    expect(events.map((e) => e._tag)).toEqual(["ApiError", "Result", "Unparsed"])
    expect(feed(makeCodexParser(), ["Reading prompt from stdin...\n"])).toEqual([
      { _tag: "Unparsed", line: "Reading prompt from stdin..." },
    ])
  })
})
