// test/layers/runtimes/cliContract.test.ts — the contract every CLI runtime adapter keeps, run against
// each real CLI (Codex, Gemini) and its fake model API: the adapter's own launch in a PTY in a temp git
// repo (text, a shell command, a huskies MCP tool on the real /mcp endpoint, a resume, a 429), and its
// parser on what the CLI printed. The same assertions for each; what one CLI alone does is at the end.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted, type Scope } from "effect"
import type { AgentConfig } from "../../../src/domain/Config.js"
import type { AgentEvent } from "../../../src/layers/runtimes/agentEvents.js"
import { buildCodex, makeCodexParser } from "../../../src/layers/runtimes/codex.js"
import { buildGemini, makeGeminiParser } from "../../../src/layers/runtimes/gemini.js"
import {
  type BuildInput,
  continuePrompt,
  type LaunchSpec,
  type StreamParser,
} from "../../../src/layers/runtimes/Runtime.js"
import * as gemini from "../../fakes/gemini.js"
import type { FakeModelApi } from "../../fakes/modelServer.js"
import type { ApiErrorSpec, ToolUse } from "../../fakes/modelScript.js"
import { anySession } from "../../fakes/modelScript.js"
import * as openAi from "../../fakes/openai.js"
import { codexBin, codexModel, writeCodexHome } from "../../support/codex.js"
import { geminiBin, writeGeminiHome } from "../../support/gemini.js"
import { makeGitRepo } from "../../support/gitRepo.js"
import { listItems } from "../../support/mcpClient.js"
import { withServer } from "../../support/server.js"
import { agentConfig, buildInput, feed, ofTag, runInPty } from "./support.js"

const now = 1_767_225_600_000

/** What the contract needs to know of one CLI: how to run it, and how to read its model requests. */
interface CliRuntime {
  readonly name: string
  readonly bin: string
  readonly fake: Effect.Effect<FakeModelApi, never, Scope.Scope>
  /** Sets up `home` for the fake at `baseUrl`; the environment to run the CLI with. */
  readonly home: (home: string, baseUrl: string) => Promise<Record<string, string>>
  readonly agent: (entry?: Readonly<Record<string, unknown>>) => AgentConfig
  readonly build: (input: BuildInput) => LaunchSpec
  readonly parser: (options: { readonly now: () => number }) => StreamParser
  /** Where a model request carries the system prompt, the user's text, and the model's earlier text. */
  readonly systemText: (body: unknown) => string
  readonly userText: (body: unknown) => string
  readonly modelText: (body: unknown) => string
  /** The tool outputs a request sends back to the model. */
  readonly toolOutputs: (body: unknown) => ReadonlyArray<string>
  /** The model's call of the CLI's shell tool running `command`, and the name the adapter reports. */
  readonly shellCall: (command: string) => ToolUse
  readonly shellToolName: string
  /** The model's call of huskies' MCP tool `tool`, as this CLI lists it. */
  readonly mcpCall: (tool: string, input: unknown) => ToolUse
  /** A 429 this CLI does not retry, how it exits, and what the adapter makes of it. */
  readonly quota: {
    readonly error: ApiErrorSpec
    readonly exitCode: number
    readonly resetAt: number
    readonly message: string
  }
}

const codex: CliRuntime = {
  name: "Codex",
  bin: codexBin,
  fake: openAi.fakeOpenAi,
  // Retries allowed, so the 429 case shows that Codex itself never retries one.
  home: (home, baseUrl) => writeCodexHome(home, { baseUrl, requestRetries: 3 }),
  agent: (entry = {}) => agentConfig({ runtime: "codex", model: codexModel, ...entry }),
  build: buildCodex,
  parser: makeCodexParser,
  systemText: (body) => openAi.messageTextOf(body, "developer"),
  userText: (body) => openAi.messageTextOf(body, "user"),
  modelText: (body) => openAi.messageTextOf(body, "assistant"),
  toolOutputs: (body) => openAi.functionOutputsOf(body).map((o) => o.output),
  shellCall: (command) => ({ id: "call_shell", name: "exec_command", input: { cmd: command } }),
  shellToolName: "shell",
  mcpCall: (tool, input) => ({ id: "call_mcp", namespace: "mcp__huskies", name: tool, input }),
  quota: {
    error: { status: 429, type: "rate_limit_exceeded", message: "Rate limit reached", retryAfterSecs: 20 },
    exitCode: 1,
    // Codex drops retry-after: the reset is the adapter's default estimate.
    resetAt: now + 60_000,
    message: "last status: 429 Too Many Requests",
  },
}

const geminiCli: CliRuntime = {
  name: "Gemini",
  bin: geminiBin,
  fake: gemini.fakeGemini,
  home: writeGeminiHome,
  agent: (entry = {}) => agentConfig({ runtime: "gemini", ...entry }),
  build: buildGemini,
  parser: makeGeminiParser,
  // Gemini has no system role here: the system prompt leads the first user message.
  systemText: gemini.userTextOf,
  userText: gemini.userTextOf,
  modelText: (body) =>
    (gemini.asGenerateRequest(body).contents ?? [])
      .filter((c) => c.role === "model")
      .flatMap((c) => (c.parts ?? []).flatMap((p) => (p.text === undefined ? [] : [p.text])))
      .join("\n"),
  toolOutputs: (body) => gemini.functionResponsesOf(body).map((r) => JSON.stringify(r.response)),
  shellCall: (command) => ({ name: "run_shell_command", input: { command } }),
  shellToolName: "run_shell_command",
  mcpCall: (tool, input) => ({ name: `mcp_huskies_${tool}`, input }),
  quota: {
    error: {
      status: 429,
      type: "RESOURCE_EXHAUSTED",
      message: "You exceeded your current quota.",
      retryAfterSecs: 3600,
    },
    exitCode: 173,
    resetAt: now + 3_600_000,
    message: "You exceeded your current quota.",
  },
}

const structured = (events: ReadonlyArray<AgentEvent>) => events.filter((e) => e._tag !== "Unparsed")

/** The event tags in order, without Usage (a CLI may report usage per turn, or only in its result). */
const tags = (events: ReadonlyArray<AgentEvent>) =>
  structured(events)
    .map((e) => e._tag)
    .filter((t) => t !== "Usage")

const mainRequests = (fake: FakeModelApi) => fake.requests.filter((r) => r.kind === "main")

/** A temp git repo with a HOME set up for the fake; runs the adapter's launch in a PTY there. */
const cliRepo = (cli: CliRuntime, baseUrl: string) =>
  Effect.gen(function* () {
    const repo = yield* makeGitRepo({ initialCommit: true })
    const gitEnv = Object.fromEntries(
      Object.entries(repo.env).filter((e): e is [string, string] => e[1] !== undefined),
    )
    const cliEnv = yield* Effect.promise(() => cli.home(gitEnv["HOME"] ?? repo.dir, baseUrl))
    const input = (overrides: Partial<BuildInput> = {}) =>
      buildInput({ agent: cli.agent(), worktree: repo.dir, ...overrides })
    const run = (build: BuildInput, extraEnv: Record<string, string> = {}) =>
      Effect.gen(function* () {
        const pty = yield* runInPty(cli.build(build), {
          cwd: repo.dir,
          env: { ...gitEnv, ...cliEnv, ...extraEnv },
          command: cli.bin,
          timeoutMs: 45_000,
        })
        return { ...pty, events: feed(cli.parser({ now: () => now }), pty.chunks) }
      })
    return { repo, input, run }
  })

describe.each([
  ["Codex", codex],
  ["Gemini", geminiCli],
] as const)("the %s adapter's launch with the real CLI in a PTY", (_name, cli) => {
  it.scopedLive("a text reply: session, text, result with usage; the model sees the system prompt", () =>
    Effect.gen(function* () {
      const fake = yield* cli.fake
      const { input, run } = yield* cliRepo(cli, fake.url)
      fake.script(anySession, [
        { text: "The answer is 42.", usage: { input_tokens: 1000, output_tokens: 30 } },
      ])

      const result = yield* run(
        input({ agent: cli.agent({ system_prompt: "Only {{story_id}}." }), prompt: "Answer?" }),
      )

      expect(result.exitCode).toBe(0)
      expect(tags(result.events)).toEqual(["SessionStarted", "Text", "Result"])
      expect(ofTag(result.events, "SessionStarted")[0]?.sessionId).toMatch(/^[0-9a-f-]{36}$/)
      expect(ofTag(result.events, "Text")).toEqual([{ _tag: "Text", text: "The answer is 42." }])
      const [final] = ofTag(result.events, "Result")
      expect(final).toMatchObject({
        _tag: "Result",
        isError: false,
        subtype: "success",
        numTurns: 1,
        permissionDenials: [],
        text: "The answer is 42.",
      })
      // At least the scripted reply's tokens (a CLI's own side calls may add to them).
      expect(final?.usage.inputTokens).toBeGreaterThanOrEqual(1000)
      expect(final?.usage.outputTokens).toBeGreaterThanOrEqual(30)
      // A Usage event, where the CLI prints one, says what the result says.
      for (const usage of ofTag(result.events, "Usage")) expect(usage).toMatchObject(final?.usage ?? {})
      const [request] = mainRequests(fake)
      expect(cli.systemText(request?.body)).toContain("Only 12_story_add_login.")
      expect(cli.userText(request?.body)).toContain("Answer?")
      // Every JSON line was understood; what is left is the CLI's stderr.
      expect(ofTag(result.events, "Unparsed").filter((e) => e.line.startsWith("{"))).toEqual([])
      expect(fake.unexpected).toEqual([])
    }),
  )

  it.scopedLive("a shell call creates a file: ToolUse and ToolResult, then the answer", () =>
    Effect.gen(function* () {
      const fake = yield* cli.fake
      const { repo, input, run } = yield* cliRepo(cli, fake.url)
      const command = "echo hello > out.txt && cat out.txt"
      fake.script(anySession, [{ toolUses: [cli.shellCall(command)] }, { text: "Wrote out.txt." }])

      const result = yield* run(input({ prompt: "Write hello to out.txt" }))

      expect(result.exitCode).toBe(0)
      expect(yield* repo.read("out.txt")).toBe("hello\n")
      expect(tags(result.events)).toEqual(["SessionStarted", "ToolUse", "ToolResult", "Text", "Result"])
      const [use] = ofTag(result.events, "ToolUse")
      expect(use?.name).toBe(cli.shellToolName)
      expect(JSON.stringify(use?.input)).toContain(command)
      const [toolResult] = ofTag(result.events, "ToolResult")
      expect(toolResult).toMatchObject({ toolUseId: use?.id, isError: false })
      expect(toolResult?.text.trim()).toBe("hello")
      expect(ofTag(result.events, "Result")[0]).toMatchObject({ isError: false, text: "Wrote out.txt." })
      // The command's output went back to the model.
      expect(cli.toolOutputs(mainRequests(fake).at(-1)?.body).join("\n")).toContain("hello")
    }),
  )

  it.scopedLive(
    "a huskies MCP tool call reaches the real /mcp endpoint, with the token the launch names",
    () =>
      Effect.gen(function* () {
        const fake = yield* cli.fake
        const { input, run } = yield* cliRepo(cli, fake.url)
        const token = `${cli.name.toLowerCase()}-agent-token-0123456789`
        const story = {
          name: "Add login",
          user_story: "As a user I want to log in",
          acceptance_criteria: ["ok"],
        }
        fake.script(anySession, [{ toolUses: [cli.mcpCall("create_story", story)] }, { text: "Filed it." }])

        // The server needs a token; the launch names HUSKIES_TOKEN, which the CLI reads.
        const { result, items } = yield* Effect.promise(() =>
          withServer(
            async ({ url }) => {
              const build = input({ mcpUrl: `${url}/mcp`, mcpTokenVar: "HUSKIES_TOKEN", prompt: "File it" })
              const result = await Effect.runPromise(Effect.scoped(run(build, { HUSKIES_TOKEN: token })))
              const items = await listItems(url, { authorization: `Bearer ${token}` })
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
        expect(items.map((i) => i.id)).toEqual(["1_story_add_login"])
        expect(ofTag(result.events, "Result")[0]).toMatchObject({ isError: false, text: "Filed it." })
      }),
    60_000,
  )

  it.scopedLive("resumes the session it printed, with nothing new to say", () =>
    Effect.gen(function* () {
      const fake = yield* cli.fake
      const { input, run } = yield* cliRepo(cli, fake.url)
      fake.script(anySession, [{ text: "First." }, { text: "Nothing left to do." }])

      const first = yield* run(input({ prompt: "Start" }))
      const sessionId = ofTag(first.events, "SessionStarted")[0]?.sessionId ?? ""
      const again = yield* run(input({ prompt: "", resumeSessionId: sessionId }))

      expect(again.exitCode).toBe(0)
      expect(ofTag(again.events, "SessionStarted")[0]?.sessionId).toBe(sessionId)
      expect(ofTag(again.events, "Result")).toMatchObject([{ isError: false, text: "Nothing left to do." }])
      const requests = mainRequests(fake)
      expect(requests).toHaveLength(2)
      // The resumed request carries the earlier conversation, and a message that is never empty.
      const resumed = requests[1]?.body
      expect(cli.userText(resumed)).toContain("Start")
      expect(cli.modelText(resumed)).toContain("First.")
      expect(cli.userText(resumed)).toContain(continuePrompt("12_story_add_login"))
    }),
  )

  it.scopedLive(
    "a 429 the CLI does not retry is RateLimited until the reset it gives, and the run fails",
    () =>
      Effect.gen(function* () {
        const fake = yield* cli.fake
        const { input, run } = yield* cliRepo(cli, fake.url)
        fake.script(anySession, [{ error: cli.quota.error }])

        const result = yield* run(input({ prompt: "Hi" }))

        expect(result.exitCode).toBe(cli.quota.exitCode)
        expect(mainRequests(fake)).toHaveLength(1)
        expect(tags(result.events)).toEqual(["SessionStarted", "RateLimited", "Result"])
        expect(ofTag(result.events, "RateLimited")).toEqual([
          {
            _tag: "RateLimited",
            status: 429,
            resetAt: cli.quota.resetAt,
            message: expect.stringContaining(cli.quota.message),
          },
        ])
        expect(ofTag(result.events, "Result")[0]).toMatchObject({ isError: true, subtype: "error" })
      }),
  )
})

describe("what the Codex CLI alone does", () => {
  it.scopedLive("a resumed run's usage is the thread's total, the earlier runs' included", () =>
    Effect.gen(function* () {
      const fake = yield* codex.fake
      const { input, run } = yield* cliRepo(codex, fake.url)
      fake.script(anySession, [{ text: "First." }, { text: "Again." }])

      const first = yield* run(input({ prompt: "Start" }))
      const sessionId = ofTag(first.events, "SessionStarted")[0]?.sessionId ?? ""
      const again = yield* run(input({ prompt: "", resumeSessionId: sessionId }))

      // The fake counts 10 in and 5 out per reply: two replies so far.
      expect(ofTag(first.events, "Result")[0]?.usage).toMatchObject({ inputTokens: 10, outputTokens: 5 })
      expect(ofTag(again.events, "Result")[0]?.usage).toMatchObject({ inputTokens: 20, outputTokens: 10 })
    }),
  )

  it.scopedLive("a usage limit names a local clock time, which the adapter reads as the reset", () =>
    Effect.gen(function* () {
      const fake = yield* codex.fake
      const { input, run } = yield* cliRepo(codex, fake.url)
      fake.script(anySession, [
        {
          error: {
            status: 429,
            type: "usage_limit_reached",
            message: "Usage limit",
            retryAfterSecs: 3 * 3600,
          },
        },
      ])

      const usage = yield* run(input({ prompt: "Hi" }))

      expect(usage.exitCode).toBe(1)
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
