// test/layers/runtimes/codexCli.test.ts — the Codex adapter against the real CLI (node_modules/.bin/codex)
// and the fake Responses API: the adapter's own launch run in a PTY in a temp git repo (text, a shell
// command, a huskies MCP tool on the real /mcp endpoint, a resume), and its parser on what it printed.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import type { AgentEvent } from "../../../src/layers/runtimes/agentEvents.js"
import { buildCodex, makeCodexParser } from "../../../src/layers/runtimes/codex.js"
import { type BuildInput, continuePrompt } from "../../../src/layers/runtimes/Runtime.js"
import { anySession, fakeOpenAi, functionOutputsOf, messageTextOf } from "../../fakes/openai.js"
import { codexBin, codexModel, writeCodexHome } from "../../support/codex.js"
import { makeGitRepo } from "../../support/gitRepo.js"
import { withServer } from "../../support/server.js"
import { agentConfig, buildInput, feed, ofTag, runInPty } from "./support.js"

const now = 1_767_225_600_000

const tags = (events: ReadonlyArray<AgentEvent>) => events.map((e) => e._tag)

/** A temp git repo with a CODEX_HOME pointing at the fake; runs the adapter's launch in a PTY. */
const codexRepo = (baseUrl: string, requestRetries = 0) =>
  Effect.gen(function* () {
    const repo = yield* makeGitRepo({ initialCommit: true })
    const gitEnv = Object.fromEntries(
      Object.entries(repo.env).filter((e): e is [string, string] => e[1] !== undefined),
    )
    const home = gitEnv["HOME"] ?? repo.dir
    const codexEnv = yield* Effect.promise(() => writeCodexHome(home, { baseUrl, requestRetries }))
    const input = (overrides: Partial<BuildInput> = {}) =>
      buildInput({
        agent: agentConfig({ runtime: "codex", model: codexModel }),
        worktree: repo.dir,
        ...overrides,
      })
    const run = (build: BuildInput, extraEnv: Record<string, string> = {}) =>
      Effect.gen(function* () {
        const launch = buildCodex(build)
        const pty = yield* runInPty(launch, {
          cwd: repo.dir,
          env: { ...gitEnv, ...codexEnv, ...extraEnv },
          command: codexBin,
          timeoutMs: 45_000,
        })
        return { ...pty, events: feed(makeCodexParser({ now: () => now }), pty.chunks) }
      })
    return { repo, input, run }
  })

describe("the Codex adapter's launch with the real CLI in a PTY", () => {
  it.scopedLive("a text reply: session, text, usage, result; the system prompt is a developer message", () =>
    Effect.gen(function* () {
      const fake = yield* fakeOpenAi
      const { input, run } = yield* codexRepo(fake.url)
      fake.script(anySession, [
        {
          text: "The answer is 42.",
          usage: { input_tokens: 1000, cache_read_input_tokens: 200, output_tokens: 30 },
        },
      ])

      const result = yield* run(
        input({
          agent: agentConfig({ runtime: "codex", model: codexModel, system_prompt: "Only {{story_id}}." }),
          prompt: "Answer?",
        }),
      )

      expect(result.exitCode).toBe(0)
      const structured = result.events.filter((e) => e._tag !== "Unparsed")
      expect(tags(structured)).toEqual(["SessionStarted", "Text", "Usage", "Result"])
      const sessionId = ofTag(result.events, "SessionStarted")[0]?.sessionId ?? ""
      expect(sessionId).toMatch(/^[0-9a-f-]{36}$/)
      expect(structured.slice(1)).toEqual([
        { _tag: "Text", text: "The answer is 42." },
        { _tag: "Usage", inputTokens: 1000, outputTokens: 30, cacheRead: 200, cacheCreation: 0 },
        {
          _tag: "Result",
          isError: false,
          subtype: "success",
          numTurns: 1,
          usage: { inputTokens: 1000, outputTokens: 30, cacheRead: 200, cacheCreation: 0 },
          permissionDenials: [],
          text: "The answer is 42.",
        },
      ])
      const [request] = fake.requestsFor(sessionId, "main")
      expect(request?.body).toMatchObject({ model: codexModel, stream: true })
      expect(messageTextOf(request?.body, "developer")).toContain("Only 12_story_add_login.")
      expect(messageTextOf(request?.body, "user")).toContain("Answer?")
      // Every JSON line was understood; what is left is stderr (the PATH-alias warning under /tmp, the
      // MCP client's log of the unreachable default mcpUrl, which does not stop the run).
      expect(ofTag(result.events, "Unparsed").filter((e) => e.line.startsWith("{"))).toEqual([])
      expect(fake.unexpected).toEqual([])
    }),
  )

  it.scopedLive("a shell call creates a file: ToolUse and ToolResult, then the answer", () =>
    Effect.gen(function* () {
      const fake = yield* fakeOpenAi
      const { repo, input, run } = yield* codexRepo(fake.url)
      fake.script(anySession, [
        {
          toolUses: [
            { id: "call_write", name: "exec_command", input: { cmd: "echo hello > out.txt && cat out.txt" } },
          ],
        },
        { text: "Wrote out.txt." },
      ])

      const result = yield* run(input({ prompt: "Write hello to out.txt" }))

      expect(result.exitCode).toBe(0)
      expect(yield* repo.read("out.txt")).toBe("hello\n")
      expect(tags(result.events.filter((e) => e._tag !== "Unparsed"))).toEqual([
        "SessionStarted",
        "ToolUse",
        "ToolResult",
        "Text",
        "Usage",
        "Result",
      ])
      const [use] = ofTag(result.events, "ToolUse")
      expect(use).toEqual({
        _tag: "ToolUse",
        id: expect.any(String),
        name: "shell",
        input: { command: "/bin/bash -lc 'echo hello > out.txt && cat out.txt'" },
      })
      expect(ofTag(result.events, "ToolResult")).toEqual([
        { _tag: "ToolResult", toolUseId: use?.id, isError: false, text: "hello\n" },
      ])
      // Usage is the run's total over both requests.
      expect(ofTag(result.events, "Result")[0]).toMatchObject({
        isError: false,
        usage: { inputTokens: 20, outputTokens: 10 },
        text: "Wrote out.txt.",
      })
      const second = fake.requests[1]
      expect(functionOutputsOf(second?.body)).toEqual([
        { callId: "call_write", output: expect.stringContaining("hello") },
      ])
    }),
  )

  it.scopedLive(
    "a huskies MCP tool call reaches the real /mcp endpoint, with the token named by bearer_token_env_var",
    () =>
      Effect.gen(function* () {
        const fake = yield* fakeOpenAi
        const { input, run } = yield* codexRepo(fake.url)
        const token = "codex-agent-token-0123456789"
        fake.script(anySession, [
          {
            toolUses: [
              {
                id: "call_story",
                namespace: "mcp__huskies",
                name: "create_story",
                input: {
                  name: "Add login",
                  user_story: "As a user I want to log in",
                  acceptance_criteria: ["ok"],
                },
              },
            ],
          },
          { text: "Filed it." },
        ])

        const { result, items } = yield* Effect.promise(() =>
          withServer(
            async ({ url }) => {
              const build = input({ mcpUrl: `${url}/mcp`, mcpTokenVar: "HUSKIES_TOKEN", prompt: "File it" })
              const result = await Effect.runPromise(Effect.scoped(run(build, { HUSKIES_TOKEN: token })))
              const items = await Effect.runPromise(listItems(url, token))
              return { result, items }
            },
            { access: { token: Redacted.make(token) } },
          ),
        )

        expect(result.exitCode).toBe(0)
        const [use] = ofTag(result.events, "ToolUse")
        expect(use).toMatchObject({ name: "mcp__huskies__create_story", input: { name: "Add login" } })
        expect(ofTag(result.events, "ToolResult")).toEqual([
          {
            _tag: "ToolResult",
            toolUseId: use?.id,
            isError: false,
            text: expect.stringContaining("1_story_add_login"),
          },
        ])
        expect(items).toContain("1_story_add_login")
        expect(ofTag(result.events, "Result")[0]).toMatchObject({ isError: false, text: "Filed it." })
      }),
    60_000,
  )

  it.scopedLive("resumes the thread it printed, with nothing new to say", () =>
    Effect.gen(function* () {
      const fake = yield* fakeOpenAi
      const { input, run } = yield* codexRepo(fake.url)
      fake.script(anySession, [{ text: "First." }, { text: "Nothing left to do." }])

      const first = yield* run(input({ prompt: "Start" }))
      const sessionId = ofTag(first.events, "SessionStarted")[0]?.sessionId ?? ""
      const again = yield* run(input({ prompt: "", resumeSessionId: sessionId }))

      expect(again.exitCode).toBe(0)
      expect(ofTag(again.events, "SessionStarted")[0]?.sessionId).toBe(sessionId)
      expect(ofTag(again.events, "Result")).toMatchObject([{ isError: false, text: "Nothing left to do." }])
      // The thread's totals: the resumed run's usage includes the first run's.
      expect(ofTag(again.events, "Result")[0]?.usage).toMatchObject({ inputTokens: 20, outputTokens: 10 })
      const requests = fake.requestsFor(sessionId, "main")
      expect(requests).toHaveLength(2)
      const resumed = requests[1]?.body
      expect(messageTextOf(resumed, "user")).toContain("Start")
      expect(messageTextOf(resumed, "user")).toContain(continuePrompt("12_story_add_login"))
      expect(messageTextOf(resumed, "assistant")).toContain("First.")
    }),
  )

  it.scopedLive("a 429 is RateLimited and the run fails; a usage limit carries its reset time", () =>
    Effect.gen(function* () {
      const fake = yield* fakeOpenAi
      const { input, run } = yield* codexRepo(fake.url, 3)
      fake.script(anySession, [
        {
          error: {
            status: 429,
            type: "rate_limit_exceeded",
            message: "Rate limit reached",
            retryAfterSecs: 20,
          },
        },
        {
          error: {
            status: 429,
            type: "usage_limit_reached",
            message: "Usage limit",
            retryAfterSecs: 3 * 3600,
          },
        },
      ])

      const limited = yield* run(input({ prompt: "Hi" }))

      expect(limited.exitCode).toBe(1)
      // Codex never retries a 429 and drops retry-after: the reset is the default estimate.
      expect(fake.requests).toHaveLength(1)
      expect(tags(limited.events.filter((e) => e._tag !== "Unparsed"))).toEqual([
        "SessionStarted",
        "RateLimited",
        "Result",
      ])
      expect(ofTag(limited.events, "RateLimited")[0]).toEqual({
        _tag: "RateLimited",
        status: 429,
        resetAt: now + 60_000,
        message: expect.stringContaining("last status: 429 Too Many Requests"),
      })
      expect(ofTag(limited.events, "Result")[0]).toMatchObject({ isError: true, subtype: "error" })

      const usage = yield* run(input({ prompt: "Hi" }))
      // "try again at 8:25 PM." is a local clock time: read it against the real clock. A reset on another
      // day carries its date ("try again at Nov 24th, 2026 12:24 AM."), as it does after 21:00 here.
      const [rateLimited] = ofTag(feed(makeCodexParser(), usage.chunks), "RateLimited")
      expect(rateLimited?.message).toMatch(
        /usage limit.*try again at (?:[A-Z][a-z]{2} \d{1,2}(?:st|nd|rd|th), \d{4} )?\d{1,2}:\d{2} [AP]M/,
      )
      const expected = Date.now() + 3 * 3600_000
      expect(rateLimited?.resetAt).toBeGreaterThan(expected - 3 * 60_000)
      expect(rateLimited?.resetAt).toBeLessThanOrEqual(expected)
    }),
  )
})

const listItems = (url: string, token: string) =>
  Effect.promise(async () => {
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js")
    const { StreamableHTTPClientTransport } =
      await import("@modelcontextprotocol/sdk/client/streamableHttp.js")
    const client = new Client({ name: "check", version: "1.0.0" })
    const headers = { authorization: `Bearer ${token}` }
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }),
    )
    try {
      const result = await client.callTool({ name: "list_items", arguments: {} })
      return JSON.stringify(result.structuredContent)
    } finally {
      await client.close()
    }
  })
