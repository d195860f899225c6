// test/fakes/anthropic.test.ts — the fake Anthropic API driven by the real Claude Code CLI: scripted
// text and tool turns, rate-limit errors, the CLI's side calls, and what happens past a script's end.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { type ClaudeOptions, runClaude, type StreamLine } from "../support/claude.js"
import { makeGitRepo, makeTempDir } from "../support/gitRepo.js"
import { fakeAnthropic, toolResultsOf, toolResultText, userTextOf } from "./anthropic.js"

const claude = (options: ClaudeOptions) => Effect.promise(() => runClaude(options))

const ofType = (lines: ReadonlyArray<StreamLine>, type: string, subtype?: string) =>
  lines.filter((l) => l.type === type && (subtype === undefined || l.subtype === subtype))

describe("fake Anthropic API with the real Claude Code CLI", () => {
  it.scopedLive("a scripted text answer is the run's result, with usage and cost", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAnthropic
      const { dir } = yield* makeTempDir()
      const sessionId = randomUUID()
      fake.script(sessionId, [
        { text: "The answer is 42.", usage: { input_tokens: 1200, output_tokens: 30 } },
      ])

      const run = yield* claude({ baseUrl: fake.url, prompt: "What is the answer?", cwd: dir, sessionId })

      expect(run.exitCode).toBe(0)
      expect(run.init).toMatchObject({ session_id: sessionId, cwd: dir, apiKeySource: "ANTHROPIC_API_KEY" })
      expect(run.result).toMatchObject({
        subtype: "success",
        is_error: false,
        result: "The answer is 42.",
        num_turns: 1,
        session_id: sessionId,
        usage: { input_tokens: 1200, output_tokens: 30 },
      })
      expect(run.result?.total_cost_usd).toBeGreaterThan(0)
      const main = fake.requestsFor(sessionId, "main")
      expect(main).toHaveLength(1)
      expect(main[0] && userTextOf(main[0])).toContain("What is the answer?")
      expect(fake.unexpected).toEqual([])
    }),
  )

  it.scopedLive("a scripted Bash tool_use runs, and its tool_result comes back in the next request", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAnthropic
      const repo = yield* makeGitRepo({ initialCommit: true })
      const sessionId = randomUUID()
      fake.script(sessionId, [
        {
          text: "Writing the file.",
          toolUses: [
            {
              id: "toolu_write",
              name: "Bash",
              input: { command: "echo hello > out.txt && cat out.txt", description: "Write out.txt" },
            },
          ],
        },
        { text: "Wrote out.txt." },
      ])

      const run = yield* claude({
        baseUrl: fake.url,
        prompt: "Write hello to out.txt",
        cwd: repo.dir,
        sessionId,
        allowedTools: ["Bash"],
        env: repo.env,
      })

      expect(run.result).toMatchObject({ is_error: false, result: "Wrote out.txt.", num_turns: 2 })
      expect(yield* repo.read("out.txt")).toBe("hello\n")
      const main = fake.requestsFor(sessionId, "main")
      expect(main.map((r) => r.turn)).toEqual([0, 1])
      const results = main[1] === undefined ? [] : toolResultsOf(main[1])
      expect(results).toMatchObject([{ tool_use_id: "toolu_write", is_error: false }])
      expect(results[0] && toolResultText(results[0])).toBe("hello")
      // The stream shows the call and its result as the adapter will see them.
      const calls = ofType(run.lines, "assistant").flatMap(
        (l) => (l["message"] as { content: ReadonlyArray<{ type: string; id?: string }> }).content,
      )
      expect(calls).toContainEqual(
        expect.objectContaining({ type: "tool_use", id: "toolu_write", name: "Bash" }),
      )
      expect(ofType(run.lines, "user")).toContainEqual(
        expect.objectContaining({
          message: { role: "user", content: [expect.objectContaining({ tool_use_id: "toolu_write" })] },
        }),
      )
      expect(fake.unexpected).toEqual([])
    }),
  )

  it.scopedLive("a 429 is reported in the result; with a retry allowed, the CLI retries and recovers", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAnthropic
      const { dir } = yield* makeTempDir()
      const rateLimit = {
        error: {
          status: 429,
          type: "rate_limit_error",
          message: "Number of request tokens has exceeded your per-minute rate limit",
          retryAfterSecs: 0,
        },
      }
      const failing = randomUUID()
      fake.script(failing, [rateLimit])

      const failed = yield* claude({ baseUrl: fake.url, prompt: "Hello", cwd: dir, sessionId: failing })

      expect(failed.exitCode).toBe(1)
      expect(failed.result).toMatchObject({ subtype: "success", is_error: true, api_error_status: 429 })
      expect(failed.result?.result).toContain("429")
      expect(ofType(failed.lines, "assistant")).toContainEqual(
        expect.objectContaining({
          error: "rate_limit",
          message: expect.objectContaining({ model: "<synthetic>" }),
        }),
      )

      const retrying = randomUUID()
      fake.script(retrying, [rateLimit, { text: "Recovered." }])

      const recovered = yield* claude({
        baseUrl: fake.url,
        prompt: "Hello",
        cwd: dir,
        sessionId: retrying,
        env: { CLAUDE_CODE_MAX_RETRIES: "1" },
      })

      expect(ofType(recovered.lines, "system", "api_retry")).toMatchObject([
        { attempt: 1, max_retries: 1, error_status: 429, error: "rate_limit" },
      ])
      expect(recovered.result).toMatchObject({ is_error: false, result: "Recovered." })
      expect(fake.unexpected).toEqual([])
    }),
  )

  it.scopedLive("the CLI's side calls (session title) are answered without taking scripted turns", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAnthropic
      const { dir } = yield* makeTempDir()
      const sessionId = randomUUID()
      fake.script(sessionId, [{ text: "Only turn." }])

      const run = yield* claude({
        baseUrl: fake.url,
        // Long enough that the CLI asks the model for a session title.
        prompt: "Please summarise the layout of this repository for me",
        cwd: dir,
        sessionId,
        nonessentialTraffic: true,
      })

      expect(run.result).toMatchObject({ is_error: false, result: "Only turn." })
      expect(fake.requestsFor(sessionId, "side").length).toBeGreaterThan(0)
      expect(fake.requestsFor(sessionId, "main")).toHaveLength(1)
      expect(fake.unexpected).toEqual([])
    }),
  )

  it.scopedLive("a main request past the script's end gets a final answer and is reported", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAnthropic
      const { dir } = yield* makeTempDir()
      const sessionId = randomUUID()
      fake.script(sessionId, [{ toolUses: [{ name: "Bash", input: { command: "true" } }] }])

      const run = yield* claude({
        baseUrl: fake.url,
        prompt: "Run true",
        cwd: dir,
        sessionId,
        allowedTools: ["Bash"],
      })

      expect(run.result).toMatchObject({ is_error: false, result: "script exhausted" })
      expect(fake.unexpected).toMatchObject([
        { sessionId, reason: expect.stringContaining("script exhausted") },
      ])
    }),
  )

  it.scopedLive("a CLI waiting on a slow model is killed at the timeout", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAnthropic
      const { dir } = yield* makeTempDir()
      const sessionId = randomUUID()
      fake.script(sessionId, [{ text: "Too late.", delayMs: 30_000 }])

      const run = yield* claude({ baseUrl: fake.url, prompt: "Hello", cwd: dir, sessionId, timeoutMs: 2_500 })

      expect(run).toMatchObject({ timedOut: true, signal: "SIGKILL", result: undefined })
      expect(fake.requestsFor(sessionId, "main")).toHaveLength(1)
    }),
  )

  it.scopedLive("answers probes, token counts and non-streaming requests", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAnthropic
      const post = (path: string, body: unknown) =>
        Effect.promise(() =>
          fetch(`${fake.url}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-claude-code-session-id": "s1" },
            body: JSON.stringify(body),
          }).then(async (r) => ({ status: r.status, body: (await r.json()) as unknown })),
        )
      fake.script("s1", [{ text: "Scripted." }])

      const quota = yield* post("/v1/messages?beta=true", {
        model: "claude-haiku-4-5",
        max_tokens: 1,
        messages: [{ role: "user", content: "quota" }],
      })
      const count = yield* post("/v1/messages/count_tokens", { messages: [{ role: "user", content: "hi" }] })
      const main = yield* post("/v1/messages", {
        model: "claude-opus-4-8",
        max_tokens: 100,
        tools: [{ name: "Bash" }],
        messages: [{ role: "user", content: "hi" }],
      })

      expect(quota).toMatchObject({ status: 200, body: { type: "message", role: "assistant" } })
      expect(count).toMatchObject({ status: 200, body: { input_tokens: expect.any(Number) } })
      expect(main).toMatchObject({
        status: 200,
        body: { content: [{ type: "text", text: "Scripted." }], stop_reason: "end_turn" },
      })
      expect(fake.requests.map((r) => r.kind)).toEqual(["side", "other", "main"])
      expect(fake.unexpected).toEqual([])
    }),
  )
})
