// test/layers/runtimes/claudeCode.test.ts — the Claude Code adapter without running the CLI: the launch
// (argv, environment, .mcp.json) and the parser on recorded real output, mangled the way a terminal and
// chunked reads mangle it. The same parser on live CLI output: claudeCode.cli.test.ts.
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import {
  buildClaudeCode,
  makeClaudeCodeParser,
  permissionPromptTool,
} from "../../../src/layers/runtimes/claudeCode.js"
import { continuePrompt, maxPromptBytes } from "../../../src/layers/runtimes/Runtime.js"
import { bashRun, exitSequences, plainError, rateLimitedRun } from "./claudeFixtures.js"
import { agentConfig, buildInput, feed, ofTag } from "./support.js"

const now = 1_767_225_600_000
const parse = (chunks: ReadonlyArray<string>, options: { readonly maxLineLength?: number } = {}) =>
  feed(makeClaudeCodeParser({ now: () => now, ...options }), chunks)

const stream = (lines: ReadonlyArray<string>) => lines.map((l) => `${l}\n`).join("")
const viaPty = (lines: ReadonlyArray<string>) => lines.map((l) => `${l}\r\n`).join("") + exitSequences

/** The message: the argument after `--`, which ends the options. */
const messageOf = (args: ReadonlyArray<string>) => args[args.indexOf("--") + 1]

describe("Claude Code launch", () => {
  it("runs claude -p with stream-json, huskies as the only MCP server and its permission prompt tool", () => {
    const launch = buildClaudeCode(buildInput())
    const worktree = buildInput().worktree

    expect(launch.command).toBe("claude")
    expect(launch.args).toEqual([
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--mcp-config",
      `${worktree}/.mcp.json`,
      "--strict-mcp-config",
      "--permission-prompt-tool",
      "mcp__huskies__prompt_permission",
      "--",
      "Implement story 12_story_add_login.",
    ])
    expect(permissionPromptTool).toBe("mcp__huskies__prompt_permission")
    expect(launch.files).toEqual([{ path: `${worktree}/.mcp.json`, content: expect.any(String) }])
    expect(JSON.parse(launch.files[0]?.content ?? "")).toEqual({
      mcpServers: { huskies: { type: "http", url: "http://localhost:3001/mcp" } },
    })
  })

  it("names the token's variable in .mcp.json (the CLI expands it), never the token", () => {
    const launch = buildClaudeCode(buildInput({ mcpTokenVar: "HUSKIES_TOKEN" }))
    expect(JSON.parse(launch.files[0]?.content ?? "")).toEqual({
      mcpServers: {
        huskies: {
          type: "http",
          url: "http://localhost:3001/mcp",
          headers: { Authorization: "Bearer ${HUSKIES_TOKEN}" },
        },
      },
    })
  })

  it("passes model, turn and budget limits and the system prompt rendered for the story", () => {
    const agent = agentConfig({
      model: "sonnet",
      max_turns: 60,
      max_budget_usd: 5.5,
      system_prompt: "You work on {{story_id}} only.",
    })
    const { args } = buildClaudeCode(buildInput({ agent }))

    const flag = (name: string) => args[args.indexOf(name) + 1]
    expect(flag("--model")).toBe("sonnet")
    expect(flag("--max-turns")).toBe("60")
    expect(flag("--max-budget-usd")).toBe("5.5")
    expect(flag("--append-system-prompt")).toBe("You work on 12_story_add_login only.")
    expect(args.indexOf("--append-system-prompt")).toBeLessThan(args.indexOf("--"))
  })

  it("always resumes with -p and a non-empty message, even when there is nothing new to say", () => {
    const sessionId = "8f0c7a1e-2d4b-4c4e-9a51-0c2f4f0f3b10"
    for (const prompt of ["", "   "]) {
      const { args } = buildClaudeCode(buildInput({ prompt, resumeSessionId: sessionId }))
      expect(args.slice(0, 3)).toEqual(["-p", "--resume", sessionId])
      expect(messageOf(args)).toBe(continuePrompt("12_story_add_login"))
    }
    const withFailure = buildClaudeCode(
      buildInput({
        prompt: "",
        resumeSessionId: sessionId,
        extraPrompt: "--- gates failed ---\nnpm test: 2 failing",
      }),
    )
    expect(withFailure.args.slice(0, 3)).toEqual(["-p", "--resume", sessionId])
    // After `--`, a message starting with "-" is not taken for an option.
    expect(messageOf(withFailure.args)).toBe("--- gates failed ---\nnpm test: 2 failing")
    expect(withFailure.args.at(-2)).toBe("--")
  })

  it("puts the extra text after the prompt and keeps the message under the exec limit", () => {
    const small = buildClaudeCode(buildInput({ extraPrompt: "The tests failed:\nexpected 1, got 2" }))
    expect(messageOf(small.args)).toBe(
      "Implement story 12_story_add_login.\n\nThe tests failed:\nexpected 1, got 2",
    )

    const output = `FIRST FAILURE\n${"x".repeat(400_000)}\nSUMMARY: 3 failed`
    const big = messageOf(buildClaudeCode(buildInput({ extraPrompt: output })).args) ?? ""
    expect(Buffer.byteLength(big)).toBeLessThanOrEqual(maxPromptBytes)
    expect(big.startsWith("Implement story 12_story_add_login.\n\nFIRST FAILURE")).toBe(true)
    expect(big.endsWith("SUMMARY: 3 failed")).toBe(true)
    expect(big).toMatch(/\[\.\.\. \d+ bytes omitted/)
  })

  it("raises the CLI's MCP timeouts so blocking tools are waited for, and cuts non-essential traffic", () => {
    const { env } = buildClaudeCode(buildInput({ agent: agentConfig({ inactivity_timeout_secs: 900 }) }))

    expect(env).toEqual({
      HUSKIES_STORY_ID: "12_story_add_login",
      HUSKIES_WORKTREE: buildInput().worktree,
      HUSKIES_MCP_URL: "http://localhost:3001/mcp",
      MCP_TOOL_TIMEOUT: String(24 * 60 * 60 * 1000),
      CLAUDE_CODE_MCP_TOOL_IDLE_TIMEOUT: "900000",
      MCP_TIMEOUT: "60000",
      MCP_CONNECT_TIMEOUT_MS: "30000",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    })
    // Never below the CLI's own default idle limit (5 minutes).
    const short = buildClaudeCode(buildInput({ agent: agentConfig({ inactivity_timeout_secs: 60 }) }))
    expect(short.env["CLAUDE_CODE_MCP_TOOL_IDLE_TIMEOUT"]).toBe("300000")
  })
})

describe("Claude Code stream parser on recorded output", () => {
  const expectedBashRun = [
    {
      _tag: "SessionStarted",
      sessionId: "fb63653e-a315-422b-9344-7c0120adcad4",
      model: "claude-opus-4-8[1m]",
      tools: expect.arrayContaining(["Bash", "Edit", "Read"]),
      mcpServers: [],
    },
    { _tag: "Retrying", attempt: 1, maxRetries: 1, delayMs: 1000, status: 429 },
    { _tag: "Text", text: "Writing the file." },
    { _tag: "Usage", inputTokens: 1200, outputTokens: 1, cacheRead: 100, cacheCreation: 0 },
    {
      _tag: "ToolUse",
      id: "toolu_write",
      name: "Bash",
      input: { command: "echo hello > out.txt && cat out.txt", description: "Write out.txt" },
    },
    { _tag: "ToolResult", toolUseId: "toolu_write", isError: false, text: "hello" },
    { _tag: "Text", text: "Wrote out.txt." },
    { _tag: "Usage", inputTokens: 1300, outputTokens: 1, cacheRead: 0, cacheCreation: 0 },
    {
      _tag: "Result",
      isError: false,
      subtype: "success",
      numTurns: 2,
      totalCostUsd: expect.any(Number),
      usage: { inputTokens: 2500, outputTokens: 42, cacheRead: 100, cacheCreation: 0 },
      permissionDenials: [],
      text: "Wrote out.txt.",
    },
  ]

  it("reads session, retries, text, tool use and result, each message's usage once", () => {
    expect(parse([stream(bashRun)])).toEqual(expectedBashRun)
  })

  it("reads the same through a terminal: CRLF line ends, exit sequences, a plain-text error", () => {
    const events = parse([`\u001b[?25l${viaPty(bashRun)}\r\n${plainError}\r\n\u001bc`])
    expect(events.slice(0, -1)).toEqual(expectedBashRun)
    expect(events.at(-1)).toEqual({ _tag: "Unparsed", line: plainError })
  })

  it("does not care where the chunks are cut: mid-line, mid-CRLF, mid-escape-sequence, one char at a time", () => {
    const text = viaPty(bashRun)
    const expected = parse([text])
    expect(parse(text.split(""))).toEqual(expected)
    const crlf = text.indexOf("\r\n")
    expect(parse([text.slice(0, crlf + 1), text.slice(crlf + 1)])).toEqual(expected)
    const escape = text.indexOf("\u001b[?2031l")
    expect(parse([text.slice(0, escape + 4), text.slice(escape + 4)])).toEqual(expected)
  })

  it("yields the same events however the stream is split (property)", () => {
    const text = `\u001b]0;claude\u0007${viaPty(bashRun)}${viaPty(rateLimitedRun)}`
    const expected = parse([text])
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: text.length }), { maxLength: 40 }), (cuts) => {
        const points = [0, ...[...cuts].sort((a, b) => a - b), text.length]
        const chunks = points.slice(1).map((end, i) => text.slice(points[i], end))
        expect(parse(chunks)).toEqual(expected)
      }),
      { numRuns: 300 },
    )
  })

  it("keeps garbage and non-stream JSON as Unparsed and goes on", () => {
    const events = parse([
      "Warning: something odd\n",
      "{not json\n",
      "[1,2,3]\n",
      '{"type":"mystery","x":1}\n',
      '{"type":"assistant","message":"not an object"}\n',
      `${bashRun.at(-1)}\n`,
    ])
    expect(events.map((e) => e._tag)).toEqual([
      "Unparsed",
      "Unparsed",
      "Unparsed",
      "Unparsed",
      "Unparsed",
      "Result",
    ])
    expect(events[0]).toEqual({ _tag: "Unparsed", line: "Warning: something odd" })
    expect(events[3]).toEqual({ _tag: "Unparsed", line: '{"type":"mystery","x":1}' })
  })

  it("parses a very long line whole, and reports one over the limit without losing the next", () => {
    const big = "y".repeat(5_000_000)
    const toolResult = JSON.stringify({
      type: "user",
      message: { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_big", content: big }] },
    })
    const half = Math.floor(toolResult.length / 2)
    const events = parse([toolResult.slice(0, half), toolResult.slice(half), "\r\n", `${bashRun.at(-1)}\n`])
    expect(events[0]).toEqual({ _tag: "ToolResult", toolUseId: "toolu_big", isError: false, text: big })
    expect(events[1]?._tag).toBe("Result")

    const limited = parse([`${toolResult}\n`, `${bashRun.at(-1)}\n`], { maxLineLength: 100_000 })
    expect(limited.map((e) => e._tag)).toEqual(["Unparsed", "Result"])
    expect(limited[0]?._tag === "Unparsed" && limited[0].line).toMatch(/more characters dropped/)
  })
})

describe("Claude Code rate limits and API errors", () => {
  it("a 429 the CLI gave up on is RateLimited once, reset estimated from the default delay", () => {
    const events = parse([stream(rateLimitedRun)])
    expect(events.map((e) => e._tag)).toEqual(["SessionStarted", "RateLimited", "Result"])
    expect(ofTag(events, "RateLimited")).toEqual([
      {
        _tag: "RateLimited",
        status: 429,
        resetAt: now + 60_000,
        message:
          "API Error: Request rejected (429) · Number of request tokens has exceeded your per-minute rate limit",
      },
    ])
    expect(ofTag(events, "Result")[0]).toMatchObject({
      isError: true,
      subtype: "success",
      apiErrorStatus: 429,
    })
  })

  it("after retries, the reset is estimated from the last retry delay", () => {
    const retry = (delay: number) =>
      JSON.stringify({
        type: "system",
        subtype: "api_retry",
        attempt: 1,
        max_retries: 1,
        retry_delay_ms: delay,
        error_status: 529,
        error: "overloaded",
      })
    const overloaded = JSON.stringify({
      type: "assistant",
      message: {
        id: "x",
        model: "<synthetic>",
        role: "assistant",
        content: [
          {
            type: "text",
            text: "API Error: 529 Overloaded. This is a server-side issue, usually temporary.",
          },
        ],
      },
      error: "server_error",
    })
    const events = parse([stream([retry(2000), retry(4500), overloaded])])
    expect(events.map((e) => e._tag)).toEqual(["Retrying", "Retrying", "RateLimited"])
    expect(events[2]).toMatchObject({ status: 529, resetAt: now + 4500 })
  })

  it("uses the reset a rate_limit_event announced, and reads a limit from the result alone", () => {
    const resetsAt = now / 1000 + 3600
    const event = JSON.stringify({
      type: "rate_limit_event",
      rate_limit_info: { status: "rejected", resetsAt, rateLimitType: "five_hour" },
    })
    const result = JSON.stringify({
      type: "result",
      subtype: "success",
      is_error: true,
      api_error_status: 429,
      num_turns: 1,
      result: "You've hit your limit",
      total_cost_usd: 0,
      usage: { input_tokens: 0, output_tokens: 0 },
      permission_denials: [],
    })
    expect(parse([stream([event, result])])).toEqual([
      { _tag: "RateLimited", status: 429, resetAt: resetsAt * 1000, message: "You've hit your limit" },
      {
        _tag: "Result",
        isError: true,
        subtype: "success",
        numTurns: 1,
        totalCostUsd: 0,
        usage: { inputTokens: 0, outputTokens: 0, cacheRead: 0, cacheCreation: 0 },
        apiErrorStatus: 429,
        permissionDenials: [],
        text: "You've hit your limit",
      },
    ])
  })

  it("other API failures are ApiError; permission denials are reported with the result", () => {
    const auth = JSON.stringify({
      type: "assistant",
      message: {
        model: "<synthetic>",
        content: [{ type: "text", text: "API Error: 401 invalid x-api-key" }],
      },
      error: "authentication_failed",
    })
    const denied = JSON.stringify({
      type: "result",
      subtype: "error_max_turns",
      is_error: true,
      num_turns: 3,
      total_cost_usd: 0.5,
      usage: { input_tokens: 10, output_tokens: 2, cache_read_input_tokens: null },
      permission_denials: [
        { tool_name: "Bash", tool_use_id: "toolu_1", tool_input: { command: "rm -rf /" } },
      ],
    })
    expect(parse([stream([auth, denied])])).toEqual([
      { _tag: "ApiError", status: 401, message: "API Error: 401 invalid x-api-key" },
      {
        _tag: "Result",
        isError: true,
        subtype: "error_max_turns",
        numTurns: 3,
        totalCostUsd: 0.5,
        usage: { inputTokens: 10, outputTokens: 2, cacheRead: 0, cacheCreation: 0 },
        permissionDenials: [{ toolName: "Bash", toolUseId: "toolu_1", input: { command: "rm -rf /" } }],
      },
    ])
  })
})
