// End to end through the adapter registry and the chat door: a person's command in Slack (the real @slack/bolt against the local
// fake Slack) moves an item on a real Store, and the door's reply lands in the fake, in the same thread.
import { PlatformConfig } from "../../../../src/domain/BotConfig.js"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Schema } from "effect"
import { Decisions } from "../../../../src/actors/Decisions.js"
import { join } from "node:path"
import { Store } from "../../../../src/layers/Store.js"
import { OutboxLive } from "../../../../src/layers/Outbox.js"
import { StoryId } from "../../../../src/domain/StoryId.js"
import { runDoor } from "../../../../src/transports/chat/door/Door.js"
import { ok, withTools } from "../../../support/tools.js"
import { awaitHello, mentionInThread, postedAt, scopedSlackFake, slackAdapterOn } from "./support.js"

// Decoded as bot.toml is, so settings added later get their defaults.
const config = Schema.decodeUnknownSync(PlatformConfig)({
  enabled: true,
  room: [{ id: "C0OPS", role: "ops", notify: [] }],
  users: { ops: ["UALICE"], read: ["UBOB"] },
  ops_room: "C0OPS",
  assistant: "off",
  coalesce_ms: 0,
})

/** The fake Slack, the adapter on it, and the door running over both, for the test's scope. */
const connected = (root: string) =>
  Effect.gen(function* () {
    const fake = yield* scopedSlackFake
    const slack = yield* slackAdapterOn(fake, root, config)
    const outbox = yield* Layer.build(OutboxLive(join(root, "outbox.db")))
    yield* Effect.forkScoped(Effect.provide(runDoor(slack, config), outbox))
    yield* awaitHello(fake)
    return { fake }
  })

describe("Slack through the chat door", () => {
  it.live("a mention with a command moves the item and the answer is posted in the thread", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const { fake } = yield* connected(root)
        const id = StoryId.make((yield* ok("create_story", { name: "Add login" }))["story_id"] as string)

        const ask = (user: string, text: string, ts: string) => mentionInThread(fake, user, text, ts)
        const reply = (count: number) => postedAt(fake, count)

        ask("UBOB", "move 1 coding", "1700000000.000010")
        const refusal = yield* reply(1)
        expect(refusal.text).toContain("needs the ops role")
        expect((yield* Effect.flatMap(Store, (s) => s.get(id))).stage).toEqual({ _tag: "Backlog" })

        ask("UALICE", "move 1 coding", "1700000000.000020")
        const moved = yield* reply(2)
        expect(moved.text).toBe("Moved 1: Backlog → Coding.")
        expect(moved.thread_ts).toBe("1700000000.000001")
        expect(moved.blocks?.[0]).toEqual({
          type: "section",
          text: { type: "mrkdwn", text: "Moved 1: Backlog → Coding." },
        })
        expect((yield* Effect.flatMap(Store, (s) => s.get(id))).stage).toEqual({ _tag: "Coding" })
      }),
    ),
  )

  it.live("a permission prompt is answered with its Deny button, and the prompt is edited to say so", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const { fake } = yield* connected(root)
        const decisions = yield* Decisions
        const asking = yield* Effect.fork(
          decisions.ask(
            { _tag: "Permission", toolName: "Bash", input: { command: "npm publish" } },
            "5 minutes",
          ),
        )
        const prompt = yield* postedAt(fake, 1)
        expect(prompt.channel).toBe("C0OPS")
        expect(prompt.text).toContain("npm publish")

        const envelope = fake.pressButton(prompt, 1, { id: "UALICE", username: "alice" })
        const decision = yield* Fiber.join(asking)
        expect(decision.answer?.verdict).toBe("deny")
        yield* Effect.promise(() => fake.until(() => fake.acks.has(envelope))).pipe(
          Effect.timeout("10 seconds"),
        )
        yield* Effect.promise(() => fake.until(() => prompt.edits > 0)).pipe(Effect.timeout("10 seconds"))
        expect(prompt.text).toContain("deny by slack:")
        expect(prompt.blocks?.some((b) => b["type"] === "actions")).toBe(false)
      }),
    ),
  )
})
