// test/layers/runtimes/gemini.test.ts — the Gemini adapter: its launch and settings file, and its parser
// on stream-json events as Gemini CLI 0.61 prints them (test/support/gemini.ts); cliContract.test.ts runs
// the real CLI.
import { describe, expect, it } from "@effect/vitest"
import { buildGemini, makeGeminiParser } from "../../../src/layers/runtimes/gemini.js"
import { continuePrompt } from "../../../src/layers/runtimes/Runtime.js"
import { agentConfig, buildInput, feed } from "./support.js"

const now = 1_767_225_600_000
const ts = "2026-01-01T00:00:00.000Z"
const parse = (lines: ReadonlyArray<unknown>) =>
  feed(makeGeminiParser({ now: () => now }), [lines.map((l) => `${JSON.stringify(l)}\n`).join("")])

describe("Gemini launch", () => {
  it("runs gemini with stream-json, yolo approvals and huskies in .gemini/settings.json", () => {
    const agent = agentConfig({ runtime: "gemini", model: "gemini-2.5-pro", max_turns: 40 })
    const launch = buildGemini(buildInput({ agent }))
    const worktree = buildInput().worktree

    expect(launch.command).toBe("gemini")
    expect(launch.args).toEqual([
      "--output-format",
      "stream-json",
      "--model",
      "gemini-2.5-pro",
      "--approval-mode",
      "yolo",
      "--prompt=Implement story 12_story_add_login.",
    ])
    expect(launch.env).toMatchObject({
      HUSKIES_MCP_URL: "http://localhost:3001/mcp",
      GEMINI_CLI_TRUST_WORKSPACE: "true",
    })
    expect(launch.files.map((f) => f.path)).toEqual([`${worktree}/.gemini/settings.json`])
    expect(JSON.parse(launch.files[0]?.content ?? "")).toEqual({
      mcpServers: { huskies: { httpUrl: "http://localhost:3001/mcp", timeout: 86_400_000, trust: true } },
      model: { maxSessionTurns: 40 },
    })
  })

  it("names the token's variable in the Authorization header (Gemini expands it), never the token", () => {
    const launch = buildGemini(
      buildInput({ agent: agentConfig({ runtime: "gemini" }), mcpTokenVar: "HUSKIES_TOKEN" }),
    )
    const settings = JSON.parse(launch.files[0]?.content ?? "") as {
      mcpServers: { huskies: { headers: Record<string, string> } }
    }
    expect(settings.mcpServers.huskies.headers).toEqual({ Authorization: "Bearer ${HUSKIES_TOKEN}" })
  })

  it("starts a new session's message with the system prompt; resumes with a message that is never empty", () => {
    const agent = agentConfig({ runtime: "gemini", system_prompt: "Only {{story_id}}." })
    expect(buildGemini(buildInput({ agent })).args.at(-1)).toBe(
      "--prompt=Only 12_story_add_login.\n\nImplement story 12_story_add_login.",
    )
    const resumed = buildGemini(buildInput({ agent, prompt: "", resumeSessionId: "c1b2" })).args
    expect(resumed.slice(-3)).toEqual([
      "--resume",
      "c1b2",
      `--prompt=${continuePrompt("12_story_add_login")}`,
    ])
  })
})

describe("Gemini stream parser", () => {
  it("joins text deltas, maps tools and counts model responses as turns", () => {
    const events = parse([
      { type: "init", timestamp: ts, session_id: "c1b2", model: "gemini-2.5-pro" },
      { type: "message", timestamp: ts, role: "user", content: "Implement it" },
      { type: "message", timestamp: ts, role: "assistant", content: "Let me ", delta: true },
      { type: "message", timestamp: ts, role: "assistant", content: "look.", delta: true },
      {
        type: "tool_use",
        timestamp: ts,
        tool_name: "run_shell_command",
        tool_id: "t1",
        parameters: { command: "ls" },
      },
      { type: "tool_result", timestamp: ts, tool_id: "t1", status: "success", output: "README.md" },
      { type: "tool_use", timestamp: ts, tool_name: "mcp_huskies_status", tool_id: "t2", parameters: {} },
      {
        type: "tool_result",
        timestamp: ts,
        tool_id: "t2",
        status: "error",
        error: { type: "x", message: "no such story" },
      },
      { type: "message", timestamp: ts, role: "assistant", content: "Done.", delta: true },
      {
        type: "result",
        timestamp: ts,
        status: "success",
        stats: {
          total_tokens: 150,
          input_tokens: 120,
          output_tokens: 30,
          cached: 100,
          input: 20,
          duration_ms: 900,
          tool_calls: 2,
        },
      },
    ])
    expect(events).toEqual([
      { _tag: "SessionStarted", sessionId: "c1b2", model: "gemini-2.5-pro", tools: [], mcpServers: [] },
      { _tag: "Text", text: "Let me look." },
      { _tag: "ToolUse", id: "t1", name: "run_shell_command", input: { command: "ls" } },
      { _tag: "ToolResult", toolUseId: "t1", isError: false, text: "README.md" },
      // MCP tools are named as for Claude Code.
      { _tag: "ToolUse", id: "t2", name: "mcp__huskies__status", input: {} },
      { _tag: "ToolResult", toolUseId: "t2", isError: true, text: "no such story" },
      { _tag: "Text", text: "Done." },
      {
        _tag: "Result",
        isError: false,
        subtype: "success",
        numTurns: 3,
        // input_tokens (120) include the cached 100: inputTokens are the rest, `input`.
        usage: { inputTokens: 20, outputTokens: 30, cacheRead: 100, cacheCreation: 0 },
        permissionDenials: [],
        text: "Done.",
      },
    ])
  })

  it("a quota error is RateLimited with the retry delay it names; warnings stay in the log", () => {
    const quota = "Quota exceeded for quota metric 'Gemini 2.5 Pro Requests'. Please retry in 37.5s."
    const events = parse([
      { type: "init", timestamp: ts, session_id: "c1b2", model: "gemini-2.5-pro" },
      { type: "error", timestamp: ts, severity: "warning", message: "Loop detected" },
      { type: "error", timestamp: ts, severity: "error", message: quota },
      { type: "result", timestamp: ts, status: "error", error: { type: "FatalError", message: quota } },
    ])
    expect(events.map((e) => e._tag)).toEqual(["SessionStarted", "Unparsed", "RateLimited", "Result"])
    expect(events[2]).toEqual({ _tag: "RateLimited", status: 429, resetAt: now + 37_500, message: quota })
    expect(events[3]).toMatchObject({ _tag: "Result", isError: true, subtype: "error", text: quota })
  })

  it("a terminal 429 ends the run RateLimited until the delay it suggests; other API errors keep their status", () => {
    const quota =
      "[API Error: You exceeded your current quota, please check your plan and billing details.\nSuggested retry after 3600s.]\nPlease wait and try again later. To increase your limits, request a quota increase through AI Studio, or switch to another /auth method"
    const stats = { total_tokens: 2, input_tokens: 1, output_tokens: 1, cached: 0, input: 1 }
    expect(
      parse([
        { type: "result", timestamp: ts, status: "error", error: { type: "unknown", message: quota }, stats },
      ]),
    ).toEqual([
      { _tag: "RateLimited", status: 429, resetAt: now + 3_600_000, message: quota },
      expect.objectContaining({ _tag: "Result", isError: true, subtype: "error", text: quota }),
    ])
    const invalid =
      '[API Error: {"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}]'
    expect(
      parse([
        {
          type: "result",
          timestamp: ts,
          status: "error",
          error: { type: "unknown", message: invalid },
          stats,
        },
      ])[0],
    ).toEqual({
      _tag: "ApiError",
      status: 400,
      message: invalid,
    })
  })

  it("the CLI's retries on stderr are Retrying, with the delay it waits", () => {
    const events = feed(makeGeminiParser(), [
      "Attempt 2 failed: You exceeded your current quota. Please retry in 1.5s.\r\nSuggested retry after 1s.. Retrying after 5392ms...\r\n",
    ])
    expect(events).toEqual([
      { _tag: "Unparsed", line: "Attempt 2 failed: You exceeded your current quota. Please retry in 1.5s." },
      { _tag: "Unparsed", line: "Suggested retry after 1s.. Retrying after 5392ms..." },
      { _tag: "Retrying", attempt: 2, maxRetries: 9, delayMs: 5392 },
    ])
  })

  it("flushes a text still being streamed when the output ends", () => {
    const parser = makeGeminiParser()
    expect(
      parser.push(
        `${JSON.stringify({ type: "message", role: "assistant", content: "Half", delta: true })}\n`,
      ),
    ).toEqual([])
    expect(parser.end()).toEqual([{ _tag: "Text", text: "Half" }])
  })
})
