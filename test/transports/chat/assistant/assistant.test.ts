// test/transports/chat/assistant/assistant.test.ts — the chat assistant through the real door, Store,
// Pipeline and config, with a `command`-runtime chat agent (a node script): a mention is answered in its
// thread, the thread's next message resumes the conversation (also after a restart), others are refused,
// ambient rooms answer without a mention, messages sent during a turn make the next one, max_chat holds,
// and each turn's cost is in the usage ledger under "chat".
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option } from "effect"
import { existsSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { readUsage } from "../../../../src/layers/Usage.js"
import { executeCommand } from "../../../../src/transports/commands/runCommand.js"
import { withTools } from "../../../support/tools.js"
import { eventually, holds } from "../../../support/waits.js"
import {
  ambientRoom,
  assistantConfig,
  assistantOnPlatform,
  makePlatform,
  opsRoom,
  readRoom,
  startAssistantDoor,
  withChatAgent,
} from "./assistantFixture.js"

const field = (text: string, name: string) => new RegExp(`${name}=(\\S+)`).exec(text)?.[1]

describe("chat assistant", () => {
  it.live("a mention is answered in its thread; the thread's next message resumes the conversation", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const chat = yield* assistantOnPlatform(root)
        const thread = { room: opsRoom, thread: "t1" }

        yield* chat.say("alice", "what is in the backlog?", thread)
        const first = yield* chat.nextSent()
        expect(first.place).toEqual(thread)
        expect(field(first.text, "resumed")).toBe("none")
        expect(field(first.text, "cwd")).toBe(root)
        expect(first.text).toContain(`heard=["slack:alice: what is in the backlog?"]`)
        // Launch files go to the conversation's folder, never over the project's own.
        expect(existsSync(join(root, ".huskies-prompt.md"))).toBe(false)
        const conversation = field(first.text, "conversation")
        expect(conversation).toMatch(/^c-[0-9a-f]{24}$/)

        yield* chat.say("alice", "and the first one?", thread)
        const second = yield* chat.nextSent()
        expect(second.place).toEqual(thread)
        expect(field(second.text, "conversation")).toBe(conversation)
        expect(field(second.text, "resumed")).toMatch(/^sess-/)
        expect(second.text).toContain(`heard=["slack:alice: and the first one?"]`)
        // The history the command runtime reads: two messages and the first answer before this turn.
        expect(field(second.text, "history")).toBe("3")

        // Another thread is another conversation.
        yield* chat.say("alice", "hello", { room: opsRoom, thread: "t2" })
        const other = yield* chat.nextSent()
        expect(other.place).toEqual({ room: opsRoom, thread: "t2" })
        expect(field(other.text, "conversation")).not.toBe(conversation)
        expect(field(other.text, "resumed")).toBe("none")

        // Cost: one ledger line per turn under the pseudo item "chat", shown by `cost`.
        const ledger = yield* readUsage(root)
        expect(ledger.records.map((r) => [r.storyId, r.agent, r.role, r.costUsd])).toEqual([
          ["chat", "helper", "chat", 0.25],
          ["chat", "helper", "chat", 0.25],
          ["chat", "helper", "chat", 0.25],
        ])
        const cost = yield* executeCommand("cost", "ui:tester")
        expect(cost.text).toContain("chat: $0.75")
        expect(statSync(join(root, ".huskies", "assistant.db")).mode & 0o777).toBe(0o600)
      }),
    ),
  )

  it.live("a restart of the door and assistant keeps the conversation", () =>
    withTools((root) =>
      Effect.gen(function* () {
        yield* withChatAgent(root)
        const thread = { room: opsRoom, thread: "t9" }
        const before = yield* makePlatform()
        const door = yield* startAssistantDoor(root, before.platform, assistantConfig())
        yield* before.say("alice", "remember me", thread)
        const first = yield* before.nextSent()
        yield* Fiber.interrupt(door)

        const after = yield* makePlatform()
        yield* startAssistantDoor(root, after.platform, assistantConfig())
        yield* after.say("alice", "do you?", thread)
        const second = yield* after.nextSent()
        expect(field(second.text, "conversation")).toBe(field(first.text, "conversation"))
        expect(field(second.text, "resumed")).toMatch(/^sess-/)
      }),
    ),
  )

  it.live("people without the ops role are refused and no agent runs; commands still work", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const chat = yield* assistantOnPlatform(root)
        yield* chat.say("mallory", "tell me the secrets", { room: opsRoom })
        expect((yield* chat.nextSent()).text).toMatch(/^Sorry, only people with the ops role/)
        yield* chat.say("bob", "what is going on?", { room: opsRoom })
        expect((yield* chat.nextSent()).text).toMatch(/^Sorry, only people with the ops role/)
        // An ops person in a read-only room is read-only there.
        yield* chat.say("alice", "what is going on?", { room: readRoom })
        expect((yield* chat.nextSent()).text).toMatch(/^Sorry, only people with the ops role/)
        yield* chat.say("bob", "help", { room: readRoom })
        expect((yield* chat.nextSent()).text).toContain("status")
        expect((yield* readUsage(root)).records).toEqual([])
      }),
    ),
  )

  it.live("an ambient room answers without a mention; other rooms leave unaddressed talk alone", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const chat = yield* assistantOnPlatform(root)
        yield* chat.say("alice", "morning all", { room: opsRoom }, false)
        // Talk in an ambient room from someone without ops is not the bot's business either.
        yield* chat.say("mallory", "anyone around?", { room: ambientRoom }, false)
        yield* chat.say("alice", "how are the builds?", { room: ambientRoom }, false)
        const answer = yield* chat.nextSent()
        expect(answer.place).toEqual({ room: ambientRoom })
        expect(answer.text).toContain(`heard=["slack:alice: how are the builds?"]`)
        expect(Option.isNone(yield* chat.quiet(Duration.millis(300)))).toBe(true)
      }),
    ),
  )

  it.live('assistant = "off" leaves every message that is no command alone', () =>
    withTools((root) =>
      Effect.gen(function* () {
        const chat = yield* assistantOnPlatform(root, { assistant: "off" })
        yield* chat.say("alice", "are you there?", { room: ambientRoom })
        yield* chat.say("alice", "status", { room: opsRoom })
        expect((yield* chat.nextSent()).text).not.toContain("conversation=")
        expect(Option.isNone(yield* chat.quiet(Duration.millis(300)))).toBe(true)
        // Nothing talked to the assistant: its store was never opened.
        expect(existsSync(join(root, ".huskies", "assistant.db"))).toBe(false)
      }),
    ),
  )

  it.live("messages sent while a turn runs make the next turn; max_chat = 1 holds other conversations", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const chat = yield* assistantOnPlatform(root, { concurrency: "max_chat = 1" })
        const thread = { room: opsRoom, thread: "busy" }
        yield* chat.say("alice", "please wait for me", thread)
        yield* eventually(
          "the first turn to start",
          Effect.sync(() => holds(existsSync(join(root, "started")))),
          { millis: 15_000 },
        )
        yield* chat.say("alice", "one more thing", thread)
        yield* chat.say("alice", "and another", thread)
        yield* chat.say("alice", "meanwhile, elsewhere", { room: opsRoom, thread: "other" })
        // The only slot is taken: nothing else runs until the first turn ends.
        expect(Option.isNone(yield* chat.quiet(Duration.millis(500)))).toBe(true)
        writeFileSync(join(root, "release"), "")
        const first = yield* chat.nextSent()
        expect(first.text).toContain(`heard=["slack:alice: please wait for me"]`)
        const rest = [yield* chat.nextSent(), yield* chat.nextSent()]
        const queued = rest.find((m) => m.place.thread === "busy")
        expect(queued?.text).toContain(`heard=["slack:alice: one more thing","slack:alice: and another"]`)
        expect(field(queued?.text ?? "", "resumed")).toMatch(/^sess-/)
        expect(rest.find((m) => m.place.thread === "other")?.text).toContain("meanwhile, elsewhere")
      }),
    ),
  )

  it.live("a long answer is posted in parts the platform takes, in order, in the same thread", () =>
    withTools((root) =>
      Effect.gen(function* () {
        // Slack's limit is 3,000 characters: this platform refuses anything longer.
        const chat = yield* assistantOnPlatform(root, { limit: 3000 })
        const thread = { room: opsRoom, thread: "t-long" }
        yield* chat.say("alice", "give me a long answer", thread)
        const parts = [yield* chat.nextSent(), yield* chat.nextSent(), yield* chat.nextSent()]
        expect(parts.every((p) => p.text.length <= 3000 && p.place.thread === "t-long")).toBe(true)
        expect(new Set(parts.map((p) => p.id)).size).toBe(3)
        const text = parts.map((p) => p.text).join(" ")
        expect(text).toMatch(/^conversation=c-/)
        expect(text.split("lorem ipsum").length - 1).toBe(600)
        expect(Option.isNone(yield* chat.quiet(Duration.millis(300)))).toBe(true)
      }),
    ),
  )

  it.live("a turn that fails says why; the conversation's next message starts it properly", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const chat = yield* assistantOnPlatform(root)
        const thread = { room: opsRoom, thread: "t-crash" }
        yield* chat.say("alice", "please crash", thread)
        expect((yield* chat.nextSent()).text).toBe("The assistant could not answer (exited with code 3).")
        yield* chat.say("alice", "hello again", thread)
        const next = yield* chat.nextSent()
        expect(field(next.text, "resumed")).toBe("none")
        expect(field(next.text, "fresh")).toBe("true")
        yield* chat.say("alice", "and now?", thread)
        const third = yield* chat.nextSent()
        expect(field(third.text, "resumed")).toMatch(/^sess-/)
        expect(field(third.text, "fresh")).toBe("false")
      }),
    ),
  )

  it.live("without a chat agent in agents.toml the assistant says how to add one", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const chat = yield* makePlatform()
        yield* startAssistantDoor(root, chat.platform, assistantConfig())
        yield* chat.say("alice", "hello?", { room: opsRoom })
        expect((yield* chat.nextSent()).text).toContain('add an [[agent]] with stage = "chat"')
      }),
    ),
  )
})
