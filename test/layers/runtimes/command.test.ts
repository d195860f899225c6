// test/layers/runtimes/command.test.ts — the `command` runtime: any program, with the story, prompt and
// MCP URL in its environment, reporting agent events as JSON lines; run for real in a PTY.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { buildCommand, makeCommandParser, promptFile } from "../../../src/layers/runtimes/command.js"
import { makeTempDir } from "../../support/gitRepo.js"
import { agentConfig, buildInput, feed, runInPty } from "./support.js"

const scripted = (command: ReadonlyArray<string>) => agentConfig({ runtime: "command", command })

describe("command launch", () => {
  it("runs the configured argv with the story, prompt and MCP URL in its environment and a prompt file", () => {
    const input = buildInput({
      agent: scripted(["./scripts/agent.sh", "--fast"]),
      extraPrompt: "Tests failed.",
    })
    const launch = buildCommand(input)

    expect(launch.command).toBe("./scripts/agent.sh")
    expect(launch.args).toEqual(["--fast"])
    expect(launch.env).toEqual({
      HUSKIES_STORY_ID: "12_story_add_login",
      HUSKIES_WORKTREE: input.worktree,
      HUSKIES_MCP_URL: "http://localhost:3001/mcp",
      HUSKIES_AGENT: "coder-1",
      HUSKIES_PROMPT: "Implement story 12_story_add_login.\n\nTests failed.",
      HUSKIES_PROMPT_FILE: promptFile(input.worktree),
    })
    expect(launch.files).toEqual([
      {
        path: `${input.worktree}/.huskies-prompt.md`,
        content: "Implement story 12_story_add_login.\n\nTests failed.\n",
      },
    ])
    const resumed = buildCommand({ ...input, resumeSessionId: "run-7" })
    expect(resumed.env["HUSKIES_RESUME_SESSION_ID"]).toBe("run-7")
  })
})

describe("command output", () => {
  it("is text, except JSON lines that are agent events", () => {
    const events = feed(makeCommandParser(), [
      "hello\r\n",
      '{"type":"Usage","inputTokens":10,"outputTokens":5,"cacheRead":0,"cacheCreation":0}\n',
      '{"type":"Usage","inputTokens":"ten"}\n',
      '{"type":"progress","pct":5}\n',
      '{"type":"Result","isError":false,"subtype":"success","numTurns":1,"totalCostUsd":0.01,',
      '"usage":{"inputTokens":10,"outputTokens":5,"cacheRead":0,"cacheCreation":0},"permissionDenials":[]}\n',
      "bye",
    ])
    expect(events).toEqual([
      { _tag: "Text", text: "hello" },
      { _tag: "Usage", inputTokens: 10, outputTokens: 5, cacheRead: 0, cacheCreation: 0 },
      { _tag: "Text", text: '{"type":"Usage","inputTokens":"ten"}' },
      { _tag: "Text", text: '{"type":"progress","pct":5}' },
      {
        _tag: "Result",
        isError: false,
        subtype: "success",
        numTurns: 1,
        totalCostUsd: 0.01,
        usage: { inputTokens: 10, outputTokens: 5, cacheRead: 0, cacheCreation: 0 },
        permissionDenials: [],
      },
      { _tag: "Text", text: "bye" },
    ])
  })

  it.scopedLive("a real program in a PTY reads its prompt and reports a rate limit", () =>
    Effect.gen(function* () {
      const { dir } = yield* makeTempDir()
      const script = [
        "const fs = require('node:fs')",
        "console.log('story ' + process.env.HUSKIES_STORY_ID)",
        "console.log(fs.readFileSync(process.env.HUSKIES_PROMPT_FILE, 'utf8').trim() === process.env.HUSKIES_PROMPT)",
        "console.log(JSON.stringify({ type: 'RateLimited', status: 429, resetAt: 1767225600000, message: 'slow down' }))",
      ].join("; ")
      const launch = buildCommand(
        buildInput({ agent: scripted([process.execPath, "-e", script]), worktree: dir }),
      )

      const run = yield* runInPty(launch, { cwd: dir })

      expect(run.exitCode).toBe(0)
      expect(feed(makeCommandParser(), run.chunks)).toEqual([
        { _tag: "Text", text: "story 12_story_add_login" },
        { _tag: "Text", text: "true" },
        { _tag: "RateLimited", status: 429, resetAt: 1767225600000, message: "slow down" },
      ])
    }),
  )
})
