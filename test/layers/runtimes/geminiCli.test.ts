// test/layers/runtimes/geminiCli.test.ts — the Gemini adapter against the real CLI
// (node_modules/.bin/gemini) and the fake Gemini API: the adapter's own launch run in a PTY in a temp
// git repo (text, a shell command, a huskies MCP tool on the real /mcp endpoint, a resume, a 429), and
// its parser on what it printed.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import type { AgentEvent } from "../../../src/layers/runtimes/agentEvents.js"
import { buildGemini, makeGeminiParser } from "../../../src/layers/runtimes/gemini.js"
import { type BuildInput, continuePrompt } from "../../../src/layers/runtimes/Runtime.js"
import { anySession, fakeGemini, functionResponsesOf, userTextOf } from "../../fakes/gemini.js"
import { geminiBin, writeGeminiHome } from "../../support/gemini.js"
import { makeGitRepo } from "../../support/gitRepo.js"
import { withServer } from "../../support/server.js"
import { agentConfig, buildInput, feed, ofTag, runInPty } from "./support.js"

const now = 1_767_225_600_000

const tags = (events: ReadonlyArray<AgentEvent>) =>
  events.filter((e) => e._tag !== "Unparsed").map((e) => e._tag)

/** A temp git repo with a HOME set up for the fake; runs the adapter's launch in a PTY. */
const geminiRepo = (baseUrl: string) =>
  Effect.gen(function* () {
    const repo = yield* makeGitRepo({ initialCommit: true })
    const gitEnv = Object.fromEntries(
      Object.entries(repo.env).filter((e): e is [string, string] => e[1] !== undefined),
    )
    const geminiEnv = yield* Effect.promise(() => writeGeminiHome(gitEnv["HOME"] ?? repo.dir, baseUrl))
    const input = (overrides: Partial<BuildInput> = {}) =>
      buildInput({ agent: agentConfig({ runtime: "gemini" }), worktree: repo.dir, ...overrides })
    const run = (build: BuildInput, extraEnv: Record<string, string> = {}) =>
      Effect.gen(function* () {
        const pty = yield* runInPty(buildGemini(build), {
          cwd: repo.dir,
          env: { ...gitEnv, ...geminiEnv, ...extraEnv },
          command: geminiBin,
          timeoutMs: 45_000,
        })
        return { ...pty, events: feed(makeGeminiParser({ now: () => now }), pty.chunks) }
      })
    return { repo, input, run }
  })

describe("the Gemini adapter's launch with the real CLI in a PTY", () => {
  it.scopedLive("a text reply: session, text, result with usage; the system prompt leads the message", () =>
    Effect.gen(function* () {
      const fake = yield* fakeGemini
      const { input, run } = yield* geminiRepo(fake.url)
      fake.script(anySession, [
        { text: "The answer is 42.", usage: { input_tokens: 1000, output_tokens: 30 } },
      ])

      const result = yield* run(
        input({
          agent: agentConfig({ runtime: "gemini", system_prompt: "Only {{story_id}}." }),
          prompt: "Answer?",
        }),
      )

      expect(result.exitCode).toBe(0)
      expect(tags(result.events)).toEqual(["SessionStarted", "Text", "Result"])
      const [started] = ofTag(result.events, "SessionStarted")
      expect(started?.sessionId).toMatch(/^[0-9a-f-]{36}$/)
      expect(started?.model).toBe("auto")
      expect(ofTag(result.events, "Text")).toEqual([{ _tag: "Text", text: "The answer is 42." }])
      // The run's totals include the CLI's routing side call (1 in, 1 out).
      expect(ofTag(result.events, "Result")).toEqual([
        {
          _tag: "Result",
          isError: false,
          subtype: "success",
          numTurns: 1,
          usage: { inputTokens: 1001, outputTokens: 31, cacheRead: 0, cacheCreation: 0 },
          permissionDenials: [],
          text: "The answer is 42.",
        },
      ])
      const [request] = fake.requests.filter((r) => r.kind === "main")
      expect(userTextOf(request?.body)).toContain("Only 12_story_add_login.\n\nAnswer?")
      // Every JSON line was understood; what is left is the CLI's stderr.
      expect(ofTag(result.events, "Unparsed").filter((e) => e.line.startsWith("{"))).toEqual([])
      expect(fake.unexpected).toEqual([])
    }),
  )

  it.scopedLive("a shell call creates a file: ToolUse and ToolResult, then the answer", () =>
    Effect.gen(function* () {
      const fake = yield* fakeGemini
      const { repo, input, run } = yield* geminiRepo(fake.url)
      fake.script(anySession, [
        {
          text: "Writing the file.",
          toolUses: [
            { name: "run_shell_command", input: { command: "echo hello > out.txt && cat out.txt" } },
          ],
        },
        { text: "Wrote out.txt." },
      ])

      const result = yield* run(input({ prompt: "Write hello to out.txt" }))

      expect(result.exitCode).toBe(0)
      expect(yield* repo.read("out.txt")).toBe("hello\n")
      expect(tags(result.events)).toEqual([
        "SessionStarted",
        "Text",
        "ToolUse",
        "ToolResult",
        "Text",
        "Result",
      ])
      const [use] = ofTag(result.events, "ToolUse")
      expect(use).toMatchObject({
        name: "run_shell_command",
        input: { command: "echo hello > out.txt && cat out.txt" },
      })
      expect(ofTag(result.events, "ToolResult")).toEqual([
        { _tag: "ToolResult", toolUseId: use?.id, isError: false, text: "hello" },
      ])
      expect(ofTag(result.events, "Result")[0]).toMatchObject({
        isError: false,
        numTurns: 2,
        text: "Wrote out.txt.",
      })
      const last = fake.requests.filter((r) => r.kind === "main").at(-1)
      expect(functionResponsesOf(last?.body)).toEqual([
        expect.objectContaining({
          name: "run_shell_command",
          response: { output: expect.stringContaining("hello") },
        }),
      ])
    }),
  )

  it.scopedLive(
    "a huskies MCP tool call reaches the real /mcp endpoint through .gemini/settings.json, with the token it names",
    () =>
      Effect.gen(function* () {
        const fake = yield* fakeGemini
        const { repo, input, run } = yield* geminiRepo(fake.url)
        fake.script(anySession, [
          {
            toolUses: [
              {
                name: "mcp_huskies_create_story",
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

        // The server needs a token; the settings name HUSKIES_TOKEN, which Gemini expands.
        const token = "gemini-agent-token-0123456789"
        const result = yield* Effect.promise(() =>
          withServer(
            ({ url }) =>
              Effect.runPromise(
                run(input({ mcpUrl: `${url}/mcp`, mcpTokenVar: "HUSKIES_TOKEN", prompt: "File it" }), {
                  HUSKIES_TOKEN: token,
                }),
              ),
            { access: { token: Redacted.make(token) } },
          ),
        )

        expect(result.exitCode).toBe(0)
        expect(yield* repo.read(".gemini/settings.json")).toContain('"httpUrl"')
        const [use] = ofTag(result.events, "ToolUse")
        expect(use).toMatchObject({ name: "mcp__huskies__create_story", input: { name: "Add login" } })
        expect(ofTag(result.events, "ToolResult")).toEqual([
          {
            _tag: "ToolResult",
            toolUseId: use?.id,
            isError: false,
            text: expect.stringContaining('"story_id": "1_story_add_login"'),
          },
        ])
        expect(ofTag(result.events, "Result")[0]).toMatchObject({ isError: false, text: "Filed it." })
      }),
    60_000,
  )

  it.scopedLive("resumes the session it printed, with nothing new to say", () =>
    Effect.gen(function* () {
      const fake = yield* fakeGemini
      const { input, run } = yield* geminiRepo(fake.url)
      fake.script(anySession, [{ text: "First." }, { text: "Nothing left to do." }])

      const first = yield* run(input({ prompt: "Start" }))
      const sessionId = ofTag(first.events, "SessionStarted")[0]?.sessionId ?? ""
      const again = yield* run(input({ prompt: "", resumeSessionId: sessionId }))

      expect(again.exitCode).toBe(0)
      expect(ofTag(again.events, "SessionStarted")[0]?.sessionId).toBe(sessionId)
      expect(ofTag(again.events, "Result")).toMatchObject([{ isError: false, text: "Nothing left to do." }])
      const resumed = fake.requests.filter((r) => r.kind === "main")[1]?.body
      expect(userTextOf(resumed)).toContain("Start")
      expect(userTextOf(resumed)).toContain(continuePrompt("12_story_add_login"))
    }),
  )

  it.scopedLive("a quota 429 the CLI will not retry is RateLimited until the delay it names", () =>
    Effect.gen(function* () {
      const fake = yield* fakeGemini
      const { input, run } = yield* geminiRepo(fake.url)
      fake.script(anySession, [
        {
          error: {
            status: 429,
            type: "RESOURCE_EXHAUSTED",
            message: "You exceeded your current quota.",
            retryAfterSecs: 3600,
          },
        },
      ])

      const result = yield* run(input({ prompt: "Hi" }))

      expect(result.exitCode).toBe(173)
      expect(fake.requests.filter((r) => r.kind === "main")).toHaveLength(1)
      expect(tags(result.events)).toEqual(["SessionStarted", "RateLimited", "Result"])
      expect(ofTag(result.events, "RateLimited")[0]).toEqual({
        _tag: "RateLimited",
        status: 429,
        resetAt: now + 3_600_000,
        message: expect.stringContaining("You exceeded your current quota."),
      })
      expect(ofTag(result.events, "Result")[0]).toMatchObject({ isError: true, subtype: "error" })
    }),
  )
})
