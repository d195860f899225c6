// test/transports/chat/assistant/assistantFixture.ts — what the assistant tests share: a `command`-runtime
// chat agent (a small node script that answers with what it was given: its conversation id, the session it
// resumed, the messages), agents.toml naming it, a bot.toml table, and a platform at the chat contract
// (queues) where a test says things with or without a mention and reads what was sent.
import { Duration, Effect, Layer, Queue, Stream } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ChatAssistantLive } from "../../../../src/actors/chatAgents.js"
import type { PlatformConfig } from "../../../../src/domain/BotConfig.js"
import { HuskiesConfig } from "../../../../src/layers/HuskiesConfig.js"
import { OutboxLive } from "../../../../src/layers/Outbox.js"
import { ServerUrlFixed } from "../../../../src/layers/ServerUrl.js"
import { runDoor } from "../../../../src/transports/chat/door/Door.js"
import type { ChatPlatform, Incoming, Place } from "../../../../src/transports/chat/platform.js"
import { opsRoom, readRoom, type SentMessage, slackTable } from "../door/fakePlatform.js"

/**
 * The chat agent: prints a SessionStarted (the session it resumes, else a new one), one answer line, and
 * a Result with its cost. A message containing "wait" makes it wait until `<root>/release` exists, so a
 * test can send more while a turn runs; one asking for a "long answer" gets 7,200 more characters; one
 * with "crash" exits 3 before printing anything.
 */
const agentScript = `
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
const env = process.env
const prompt = env.HUSKIES_PROMPT ?? ""
const root = process.cwd()
const resumed = env.HUSKIES_RESUME_SESSION_ID
const session = resumed ?? "sess-" + Math.random().toString(36).slice(2, 10)
if (prompt.includes("crash")) process.exit(3)
console.log(JSON.stringify({ type: "SessionStarted", sessionId: session, tools: [], mcpServers: [] }))
if (prompt.includes("wait")) {
  writeFileSync(join(root, "started"), "")
  while (!existsSync(join(root, "release"))) await new Promise((r) => setTimeout(r, 20))
}
const history = existsSync(env.HUSKIES_CHAT_HISTORY) ? readFileSync(env.HUSKIES_CHAT_HISTORY, "utf8").trim().split("\\n").length : 0
const lines = prompt.split("\\n").filter((l) => /^\\w+:\\S+: /.test(l))
const long = prompt.includes("long answer") ? " " + "lorem ipsum ".repeat(600) : ""
const answer = "conversation=" + env.HUSKIES_CONVERSATION_ID + " resumed=" + (resumed ?? "none") + " fresh=" + prompt.includes("You are huskies' assistant") + " cwd=" + root +
  " history=" + history + " mcp=" + env.HUSKIES_MCP_URL + " heard=" + JSON.stringify(lines) + long
console.log(JSON.stringify({ type: "Result", isError: false, subtype: "success", numTurns: 1, totalCostUsd: 0.25,
  usage: { inputTokens: 100, outputTokens: 20, cacheRead: 0, cacheCreation: 0 }, permissionDenials: [], text: answer }))
`

/** Writes the chat agent and an agents.toml with a coder and it; reloads the config. */
export const withChatAgent = (root: string, concurrency = "") =>
  Effect.gen(function* () {
    const script = join(root, "chat-agent.mjs")
    writeFileSync(script, agentScript)
    mkdirSync(join(root, ".huskies"), { recursive: true })
    writeFileSync(join(root, ".huskies", "project.toml"), `[concurrency]\n${concurrency}\n`)
    writeFileSync(
      join(root, ".huskies", "agents.toml"),
      `[[agent]]
name = "coder-1"
stage = "coder"
runtime = "command"
command = ["true"]

[[agent]]
name = "helper"
stage = "chat"
runtime = "command"
command = [${JSON.stringify(process.execPath)}, ${JSON.stringify(script)}]
`,
    )
    const state = yield* (yield* HuskiesConfig).reload
    if (state.problem._tag === "Some") return yield* Effect.die(state.problem.value)
  })

export { opsRoom, readRoom, type SentMessage } from "../door/fakePlatform.js"
export const ambientRoom = "C-ambient"

/** A [slack] table: the assistant on mention, an ops room, a read room and an ambient ops room. */
export const assistantConfig = (assistant = "mention"): PlatformConfig =>
  slackTable(`[slack]
enabled = true
assistant = "${assistant}"

[slack.users]
ops = ["alice"]
read = ["bob"]

[[slack.room]]
id = "${opsRoom}"
role = "ops"

[[slack.room]]
id = "${readRoom}"
role = "read"

[[slack.room]]
id = "${ambientRoom}"
role = "ops"
ambient = true
`)

/** A platform at the chat contract: `say` delivers a person's message, `nextSent` takes what the door sent. */
export const makePlatform = (limit?: number) =>
  Effect.gen(function* () {
    const events = yield* Queue.unbounded<{ readonly _tag: "Message"; readonly message: Incoming }>()
    const sent = yield* Queue.unbounded<SentMessage>()
    let seq = 0
    const platform: ChatPlatform = {
      name: "slack",
      events: Stream.fromQueue(events),
      threads: true,
      buttons: true,
      send: (message) =>
        Effect.gen(function* () {
          if (limit !== undefined && message.text.length > limit) return yield* Effect.die("over the limit")
          const messageId = `m${++seq}`
          yield* Queue.offer(sent, { ...message, messageId })
          return { messageId }
        }),
      update: () => Effect.void,
    }
    return {
      platform,
      say: (user: string, text: string, place: Place, mentioned = true) =>
        Queue.offer(events, {
          _tag: "Message",
          message: {
            platform: "slack",
            place,
            user,
            userName: `slack:${user}`,
            text,
            mentioned,
            messageId: `in${++seq}`,
          },
        }),
      nextSent: (millis = 15_000) =>
        Queue.take(sent).pipe(
          Effect.timeoutFail({
            duration: Duration.millis(millis),
            onTimeout: () => new Error("waited for a message"),
          }),
          Effect.orDie,
        ),
      /** What was sent within `quiet`, if anything. */
      quiet: (quiet: Duration.DurationInput) => Queue.take(sent).pipe(Effect.timeout(quiet), Effect.option),
    }
  })

/**
 * The chat agent (with `concurrency` in its agents.toml), a platform that takes messages up to `limit` long,
 * and the door with the assistant in `assistant` mode running on it: the platform, for the test to talk on.
 */
export const assistantOnPlatform = (
  root: string,
  options: { readonly assistant?: string; readonly concurrency?: string; readonly limit?: number } = {},
) =>
  Effect.gen(function* () {
    yield* withChatAgent(root, options.concurrency)
    const chat = yield* makePlatform(options.limit)
    yield* startAssistantDoor(root, chat.platform, assistantConfig(options.assistant))
    return chat
  })

/** Runs the door with the assistant (as serve provides it) for `platform`, in the caller's scope. */
export const startAssistantDoor = (
  root: string,
  platform: ChatPlatform,
  config: PlatformConfig,
  // By default nothing listens there: the command agent only reports the URL it was given.
  options: { readonly serverUrl?: string; readonly agentEnv?: Record<string, string> } = {},
) =>
  Effect.forkScoped(
    Effect.provide(
      runDoor(platform, config, { retry: Duration.millis(20) }),
      Layer.merge(
        OutboxLive(join(root, ".huskies", "outbox.db")).pipe(Layer.orDie),
        ChatAssistantLive({ root, agentEnv: options.agentEnv }).pipe(
          Layer.provide(ServerUrlFixed(options.serverUrl ?? "http://127.0.0.1:9")),
        ),
      ),
    ),
  )
