// test/transports/chat/assistant/assistantSlack.test.ts — the assistant end to end through Slack: the real
// @slack/bolt against the local fake Slack, the adapter registry and the door as serve runs them, and a
// `command`-runtime chat agent. A mention is answered in its thread; the thread's next message resumes the
// conversation; a mention from someone without the ops role is refused.
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Schema } from "effect"
import { join } from "node:path"
import { ChatAssistantLive } from "../../../../src/actors/chatAgents.js"
import { PlatformConfig } from "../../../../src/domain/BotConfig.js"
import { OutboxLive } from "../../../../src/layers/Outbox.js"
import { ServerUrlFixed } from "../../../../src/layers/ServerUrl.js"
import { readUsage } from "../../../../src/layers/Usage.js"
import { runDoor } from "../../../../src/transports/chat/door/Door.js"
import { withTools } from "../../../support/tools.js"
import { awaitHello, mentionInThread, postedAt, scopedSlackFake, slackAdapterOn } from "../slack/support.js"
import { withChatAgent } from "./assistantFixture.js"

// Decoded as bot.toml is, so settings added later get their defaults.
const config = Schema.decodeUnknownSync(PlatformConfig)({
  enabled: true,
  room: [{ id: "C0OPS", role: "ops" }],
  users: { ops: ["UALICE"], read: ["UBOB"] },
  assistant: "mention",
})

const field = (text: string, name: string) => new RegExp(`${name}=(\\S+)`).exec(text)?.[1]

describe("the assistant through Slack", () => {
  it.live("a mention is answered in its thread, the thread's next one resumes, others are refused", () =>
    withTools((root) =>
      Effect.gen(function* () {
        yield* withChatAgent(root)
        const fake = yield* scopedSlackFake
        const slack = yield* slackAdapterOn(fake, root, config)
        const services = Layer.merge(
          OutboxLive(join(root, ".huskies", "outbox.db")),
          ChatAssistantLive({ root }).pipe(Layer.provide(ServerUrlFixed("http://127.0.0.1:9"))),
        )
        yield* Effect.forkScoped(Effect.provide(runDoor(slack, config), yield* Layer.build(services)))
        yield* awaitHello(fake)
        const posted = (count: number) => postedAt(fake, count, Duration.seconds(20))
        const mention = (user: string, text: string, ts: string) => mentionInThread(fake, user, text, ts)

        mention("UALICE", "what is in the backlog?", "1700000000.000010")
        const first = yield* posted(1)
        expect(first.channel).toBe("C0OPS")
        expect(first.thread_ts).toBe("1700000000.000001")
        expect(first.text).toContain(`heard=["slack:UALICE: what is in the backlog?"]`)
        expect(field(first.text, "resumed")).toBe("none")

        mention("UBOB", "and me?", "1700000000.000020")
        expect((yield* posted(2)).text).toMatch(/^Sorry, only people with the ops role/)

        mention("UALICE", "and the first one?", "1700000000.000030")
        const third = yield* posted(3)
        expect(third.thread_ts).toBe("1700000000.000001")
        expect(field(third.text, "conversation")).toBe(field(first.text, "conversation"))
        expect(field(third.text, "resumed")).toMatch(/^sess-/)
        expect((yield* readUsage(root)).records.map((r) => r.storyId)).toEqual(["chat", "chat"])
      }),
    ),
  )
})
