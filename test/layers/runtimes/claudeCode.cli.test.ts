// test/layers/runtimes/claudeCode.cli.test.ts — the Claude Code adapter against the real CLI
// (node_modules/.bin/claude) and the fake model API: the parser on live stream-json output, and the
// adapter's own launch run in a PTY, fresh and resumed, with an MCP server playing huskies.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { join } from "node:path"
import { anySession, fakeAnthropic, systemTextOf, toolNamesOf, userTextOf } from "../../fakes/anthropic.js"
import { type ClaudeOptions, claudeBin, runClaude } from "../../support/claude.js"
import { makeGitRepo, makeTempDir } from "../../support/gitRepo.js"
import type { AgentEvent } from "../../../src/layers/runtimes/agentEvents.js"
import { buildClaudeCode, makeClaudeCodeParser } from "../../../src/layers/runtimes/claudeCode.js"
import { continuePrompt } from "../../../src/layers/runtimes/Runtime.js"
import { agentConfig, buildInput, feed, ofTag, permissionServer, runInPty } from "./support.js"

const now = 1_767_225_600_000

/** Runs the CLI headless and parses its stdout as AgentActor would, in odd-sized chunks. */
const claudeEvents = (options: ClaudeOptions) =>
  Effect.promise(async () => {
    const run = await runClaude(options)
    const chunks = run.stdout.match(/[\s\S]{1,333}/g) ?? []
    return { run, events: feed(makeClaudeCodeParser({ now: () => now }), chunks) }
  })

const tags = (events: ReadonlyArray<AgentEvent>) => events.map((e) => e._tag)

const rateLimit = {
  error: {
    status: 429,
    type: "rate_limit_error",
    message: "Number of request tokens has exceeded your per-minute rate limit",
    retryAfterSecs: 1,
  },
}

describe("Claude Code stream parser on live CLI output", () => {
  it.scopedLive("a text turn: session, text, usage, result with cost", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAnthropic
      const { dir } = yield* makeTempDir()
      const sessionId = randomUUID()
      fake.script(sessionId, [
        { text: "The answer is 42.", usage: { input_tokens: 1200, output_tokens: 30 } },
      ])

      const { run, events } = yield* claudeEvents({
        baseUrl: fake.url,
        prompt: "Answer?",
        cwd: dir,
        sessionId,
      })

      expect(run.exitCode).toBe(0)
      expect(tags(events)).toEqual(["SessionStarted", "Text", "Usage", "Result"])
      expect(events[0]).toMatchObject({
        _tag: "SessionStarted",
        sessionId,
        tools: expect.arrayContaining(["Bash"]),
      })
      expect(events[1]).toEqual({ _tag: "Text", text: "The answer is 42." })
      expect(events[2]).toMatchObject({ _tag: "Usage", inputTokens: 1200 })
      expect(events[3]).toMatchObject({
        _tag: "Result",
        isError: false,
        subtype: "success",
        numTurns: 1,
        usage: { inputTokens: 1200, outputTokens: 30 },
        text: "The answer is 42.",
      })
      expect(ofTag(events, "Result")[0]?.totalCostUsd).toBeGreaterThan(0)
    }),
  )

  it.scopedLive("a Bash tool_use turn: the call, its result, then the final answer", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAnthropic
      const repo = yield* makeGitRepo({ initialCommit: true })
      const sessionId = randomUUID()
      fake.script(sessionId, [
        {
          text: "Writing the file.",
          toolUses: [
            { id: "toolu_write", name: "Bash", input: { command: "echo hello > out.txt && cat out.txt" } },
          ],
        },
        { text: "Wrote out.txt." },
      ])

      const { events } = yield* claudeEvents({
        baseUrl: fake.url,
        prompt: "Write hello to out.txt",
        cwd: repo.dir,
        sessionId,
        allowedTools: ["Bash"],
        env: repo.env,
      })

      expect(tags(events)).toEqual([
        "SessionStarted",
        "Text",
        "Usage",
        "ToolUse",
        "ToolResult",
        "Text",
        "Usage",
        "Result",
      ])
      expect(ofTag(events, "ToolUse")).toEqual([
        {
          _tag: "ToolUse",
          id: "toolu_write",
          name: "Bash",
          input: { command: "echo hello > out.txt && cat out.txt" },
        },
      ])
      expect(ofTag(events, "ToolResult")).toEqual([
        { _tag: "ToolResult", toolUseId: "toolu_write", isError: false, text: "hello" },
      ])
      expect(ofTag(events, "Result")[0]).toMatchObject({
        isError: false,
        numTurns: 2,
        text: "Wrote out.txt.",
      })
    }),
  )

  it.scopedLive("a 429 with no retries left is RateLimited; with one retry it is Retrying and recovers", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAnthropic
      const { dir } = yield* makeTempDir()
      const failing = randomUUID()
      fake.script(failing, [rateLimit])

      const failed = yield* claudeEvents({ baseUrl: fake.url, prompt: "Hello", cwd: dir, sessionId: failing })

      expect(failed.run.exitCode).toBe(1)
      expect(tags(failed.events)).toEqual(["SessionStarted", "RateLimited", "Result"])
      expect(ofTag(failed.events, "RateLimited")[0]).toEqual({
        _tag: "RateLimited",
        status: 429,
        resetAt: now + 60_000,
        message: expect.stringContaining("(429)"),
      })
      expect(ofTag(failed.events, "Result")[0]).toMatchObject({ isError: true, apiErrorStatus: 429 })

      const retrying = randomUUID()
      fake.script(retrying, [rateLimit, { text: "Recovered." }])

      const recovered = yield* claudeEvents({
        baseUrl: fake.url,
        prompt: "Hello",
        cwd: dir,
        sessionId: retrying,
        env: { CLAUDE_CODE_MAX_RETRIES: "1" },
      })

      expect(tags(recovered.events)).toEqual(["SessionStarted", "Retrying", "Text", "Usage", "Result"])
      // retry-after: 1 is the delay the CLI waits and reports.
      expect(ofTag(recovered.events, "Retrying")).toEqual([
        { _tag: "Retrying", attempt: 1, maxRetries: 1, delayMs: 1000, status: 429 },
      ])
      expect(ofTag(recovered.events, "Result")[0]).toMatchObject({ isError: false, text: "Recovered." })
    }),
  )

  it.scopedLive("a 529 overload with no retries left is RateLimited with status 529", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAnthropic
      const { dir } = yield* makeTempDir()
      const sessionId = randomUUID()
      fake.script(sessionId, [{ error: { status: 529, type: "overloaded_error", message: "Overloaded" } }])

      const { events } = yield* claudeEvents({ baseUrl: fake.url, prompt: "Hello", cwd: dir, sessionId })

      expect(ofTag(events, "RateLimited")).toEqual([
        {
          _tag: "RateLimited",
          status: 529,
          resetAt: now + 60_000,
          message: expect.stringContaining("529 Overloaded"),
        },
      ])
      expect(ofTag(events, "Result")[0]).toMatchObject({ isError: true, apiErrorStatus: 529 })
    }),
  )
})

describe("the adapter's launch with the real CLI in a PTY", () => {
  it.scopedLive(
    "runs with huskies' MCP server and permission prompt tool, then resumes with nothing new to say",
    () =>
      Effect.gen(function* () {
        const fake = yield* fakeAnthropic
        const mcp = yield* permissionServer
        const repo = yield* makeGitRepo({ initialCommit: true })
        const home = yield* makeTempDir()
        yield* home.write(".claude/.keep", "")
        fake.script(anySession, [
          {
            text: "Writing the file.",
            toolUses: [{ id: "toolu_write", name: "Bash", input: { command: "echo hello > out.txt" } }],
          },
          { text: "Wrote out.txt." },
          { text: "Nothing left to do." },
        ])
        const env = {
          ...Object.fromEntries(
            Object.entries(repo.env).filter((e): e is [string, string] => e[1] !== undefined),
          ),
          HOME: home.dir,
          CLAUDE_CONFIG_DIR: join(home.dir, ".claude"),
          ANTHROPIC_BASE_URL: fake.url,
          ANTHROPIC_API_KEY: "sk-ant-fake-key",
          CLAUDE_CODE_MAX_RETRIES: "0",
        }
        const input = buildInput({
          agent: agentConfig({
            max_turns: 5,
            max_budget_usd: 2,
            system_prompt: "You only work on {{story_id}}.",
          }),
          worktree: repo.dir,
          mcpUrl: mcp.url,
          prompt: "Write hello to out.txt",
        })
        const first = buildClaudeCode(input)
        expect(first.command).toBe("claude")

        const run = yield* runInPty(first, { cwd: repo.dir, env, command: claudeBin })
        const events = feed(makeClaudeCodeParser({ now: () => now }), run.chunks)

        expect(run.exitCode).toBe(0)
        expect(yield* repo.read(".mcp.json")).toContain('"type": "http"')
        const started = ofTag(events, "SessionStarted")[0]
        expect(started?.mcpServers).toEqual([{ name: "huskies", status: "connected" }])
        // The Bash call needed approval: the CLI asked huskies' tool, which allowed it.
        expect(mcp.calls).toEqual([{ tool_name: "Bash", input: { command: "echo hello > out.txt" } }])
        expect(yield* repo.read("out.txt")).toBe("hello\n")
        expect(ofTag(events, "Result")).toMatchObject([{ isError: false, text: "Wrote out.txt." }])
        expect(ofTag(events, "Unparsed")).toEqual([])
        const firstRequest = fake.requestsFor(started?.sessionId ?? "", "main")[0]
        expect(firstRequest && systemTextOf(firstRequest)).toContain("You only work on 12_story_add_login.")
        // huskies' tools reach the model; the permission prompt tool is the CLI's, not the model's.
        expect(firstRequest && toolNamesOf(firstRequest)).toContain("mcp__huskies__status")
        expect(firstRequest && toolNamesOf(firstRequest)).not.toContain("mcp__huskies__prompt_permission")

        // Respawn: the same session, nothing new to say. The earlier implementation's respawns died here.
        const resumed = buildClaudeCode({ ...input, prompt: "", resumeSessionId: started?.sessionId ?? "" })
        const again = yield* runInPty(resumed, { cwd: repo.dir, env, command: claudeBin })
        const resumedEvents = feed(makeClaudeCodeParser({ now: () => now }), again.chunks)

        expect(again.exitCode).toBe(0)
        expect(ofTag(resumedEvents, "SessionStarted")[0]?.sessionId).toBe(started?.sessionId)
        expect(ofTag(resumedEvents, "Result")).toMatchObject([
          { isError: false, text: "Nothing left to do." },
        ])
        const requests = fake.requestsFor(started?.sessionId ?? "", "main")
        expect(requests).toHaveLength(3)
        expect(userTextOf(requests[2] ?? requests[0]!)).toContain(continuePrompt("12_story_add_login"))
        expect(fake.unexpected).toEqual([])
      }),
    60_000,
  )
})
