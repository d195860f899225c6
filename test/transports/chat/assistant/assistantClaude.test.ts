// test/transports/chat/assistant/assistantClaude.test.ts — the chat assistant with the real Claude Code CLI
// (node_modules/.bin/claude) as its chat agent, against the fake model API and an MCP server playing
// huskies: a mention is answered, the thread's next message resumes the CLI's session, cost is recorded.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { HuskiesConfig } from "../../../../src/layers/HuskiesConfig.js"
import { readUsage } from "../../../../src/layers/Usage.js"
import { anySession, fakeAnthropic, messagesOf, toolNamesOf, userTextOf } from "../../../fakes/anthropic.js"
import { makeTempDir } from "../../../support/gitRepo.js"
import { withTools } from "../../../support/tools.js"
import { permissionServer } from "../../../layers/runtimes/support.js"
import { assistantConfig, makePlatform, opsRoom, startAssistantDoor } from "./assistantFixture.js"

describe("chat assistant on Claude Code", () => {
  it.live(
    "a mention is answered by the CLI, and the thread's next message resumes its session",
    () =>
      withTools((root) =>
        Effect.gen(function* () {
          const fake = yield* fakeAnthropic
          const mcp = yield* permissionServer
          const home = yield* makeTempDir()
          yield* home.write(".claude/.keep", "")
          fake.script(anySession, [{ text: "The backlog is empty." }, { text: "Still empty, I checked." }])
          mkdirSync(join(root, ".huskies"), { recursive: true })
          writeFileSync(
            join(root, ".huskies", "agents.toml"),
            '[[agent]]\nname = "coder-1"\nstage = "coder"\n\n[[agent]]\nname = "helper"\nstage = "chat"\nmax_turns = 3\n',
          )
          yield* (yield* HuskiesConfig).reload
          const chat = yield* makePlatform()
          yield* startAssistantDoor(root, chat.platform, assistantConfig(), {
            serverUrl: mcp.url.replace(/\/mcp$/, ""),
            agentEnv: {
              HOME: home.dir,
              CLAUDE_CONFIG_DIR: join(home.dir, ".claude"),
              ANTHROPIC_BASE_URL: fake.url,
              ANTHROPIC_API_KEY: "sk-ant-fake-key",
              CLAUDE_CODE_MAX_RETRIES: "0",
            },
          })
          const thread = { room: opsRoom, thread: "t1" }

          yield* chat.say("alice", "what is in the backlog?", thread)
          const first = yield* chat.nextSent(60_000)
          expect(first).toMatchObject({ place: thread, text: "The backlog is empty." })
          yield* chat.say("alice", "are you sure?", thread)
          const second = yield* chat.nextSent(60_000)
          expect(second).toMatchObject({ place: thread, text: "Still empty, I checked." })

          const ledger = (yield* readUsage(root)).records
          expect(ledger).toHaveLength(2)
          const [one, two] = ledger
          expect(one?.storyId).toBe("chat")
          expect(one?.costUsd).toBeGreaterThan(0)
          expect(one?.sessionId).toBeTruthy()
          expect(two?.sessionId).toBe(one?.sessionId)
          const requests = fake.requestsFor(one?.sessionId ?? "", "main")
          expect(requests).toHaveLength(2)
          expect(userTextOf(requests[0]!)).toContain("slack:alice: what is in the backlog?")
          // The resumed turn carries the new message after the conversation so far.
          expect(userTextOf(requests[1]!)).toContain("slack:alice: are you sure?")
          expect(messagesOf(requests[1]!).length).toBeGreaterThanOrEqual(3)
          expect(toolNamesOf(requests[0]!)).toContain("mcp__huskies__status")
          // Its MCP config went to the conversation's folder, not over the project's own .mcp.json.
          expect(existsSync(join(root, ".mcp.json"))).toBe(false)
          expect(fake.unexpected).toEqual([])
        }),
      ),
    120_000,
  )
})
