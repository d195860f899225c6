// test/transports/chat/discord/discordDoor.test.ts — end to end through the chat door: a command typed in
// Discord (real discord.js against the local fake Discord) moves an item on a real Store, a read-only person
// is refused, and a permission prompt is answered with its Discord button.
import { PlatformConfig } from "../../../../src/domain/BotConfig.js"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Redacted, Schema } from "effect"
import { join } from "node:path"
import { Decisions } from "../../../../src/actors/Decisions.js"
import { StoryId } from "../../../../src/domain/StoryId.js"
import { OutboxLive } from "../../../../src/layers/Outbox.js"
import { Store } from "../../../../src/layers/Store.js"
import { makeDiscordPlatform } from "../../../../src/transports/chat/discord/DiscordPlatform.js"
import { runDoor } from "../../../../src/transports/chat/door/Door.js"
import { alice, FakeDiscord, type Person } from "../../../fakes/discord/server.js"
import { ok, withTools } from "../../../support/tools.js"

const bob: Person = { id: "200000000000000002", username: "bob" }

/** The fake Discord, the adapter on it, and the door running over both, for the test's scope. */
const connected = (root: string) =>
  Effect.gen(function* () {
    const fake = yield* Effect.acquireRelease(
      Effect.promise(() => FakeDiscord.start()),
      (f) => Effect.promise(() => f.close()),
    )
    // Decoded as bot.toml is, so settings added later get their defaults.
    const config = Schema.decodeUnknownSync(PlatformConfig)({
      enabled: true,
      room: [{ id: fake.channelId, role: "ops", notify: ["moves"] }],
      users: { ops: [alice.id], read: [bob.id] },
      ops_room: fake.channelId,
      assistant: "off",
      coalesce_ms: 0,
    })
    const registered = new Promise((resolve) => fake.once("commands", resolve))
    const discord = yield* makeDiscordPlatform({
      token: Redacted.make(fake.token),
      api: fake.api,
      guildId: fake.guildId,
    })
    const outbox = yield* Layer.build(OutboxLive(join(root, "outbox.db")))
    yield* Effect.forkScoped(Effect.provide(runDoor(discord, config), outbox))
    yield* Effect.promise(() => registered)
    return fake
  })

const stageOf = (id: StoryId) =>
  Effect.flatMap(Store, (s) => s.get(id)).pipe(Effect.map((item) => item.stage))

describe("Discord through the chat door", () => {
  it.live("a mention moves the item for an ops person and is refused for a read-only one", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const fake = yield* connected(root)
        const id = StoryId.make((yield* ok("create_story", { name: "Add login" }))["story_id"] as string)

        fake.say("move 1 coding", { person: bob })
        const refusal = yield* Effect.promise(() => fake.waitFor((m) => m.content.includes("ops role")))
        expect(refusal.channel_id).toBe(fake.channelId)
        expect(yield* stageOf(id)).toEqual({ _tag: "Backlog" })

        fake.say("move 1 coding")
        const moved = yield* Effect.promise(() => fake.waitFor((m) => m.content.startsWith("Moved 1")))
        expect(moved.content).toBe("Moved 1: Backlog → Coding.")
        expect(yield* stageOf(id)).toEqual({ _tag: "Coding" })
      }),
    ),
  )

  it.live("an item's stage moves are notified once each, the later ones in the item's thread", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const fake = yield* connected(root)
        yield* ok("create_story", { name: "Add login" })
        // Once the door has answered, it follows the pipeline's changes.
        fake.slash("help")
        yield* Effect.promise(() => fake.waitFor((m) => m.content.includes("move")))
        const notice = (move: string) =>
          Effect.promise(() =>
            fake.waitFor((m) => m.content.endsWith(move) && !m.content.startsWith("Moved")),
          )

        fake.say("move 1 coding")
        const first = yield* notice("Backlog → Coding")
        expect(first.channel_id).toBe(fake.channelId)
        fake.say("move 1 backlog")
        const second = yield* notice("Coding → Backlog")
        // Discord names a thread opened on a message after that message.
        expect(second.channel_id).toBe(first.id)
        expect(fake.channels.get(first.id)).toMatchObject({ type: 11, parent_id: fake.channelId })
        const notices = [...fake.posted.values()].filter(
          (m) => / → /.test(m.content) && !m.content.startsWith("Moved"),
        )
        expect(notices.map((m) => m.id)).toEqual([first.id, second.id])
      }),
    ),
  )

  it.live("the slash command runs the same command line", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const fake = yield* connected(root)
        const id = StoryId.make((yield* ok("create_story", { name: "Add login" }))["story_id"] as string)
        fake.slash("move 1 coding")
        yield* Effect.promise(() => fake.waitFor((m) => m.content.startsWith("Moved 1")))
        expect(yield* stageOf(id)).toEqual({ _tag: "Coding" })
      }),
    ),
  )

  it.live("a permission prompt is answered with its Deny button and edited to say so", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const fake = yield* connected(root)
        const decisions = yield* Decisions
        const asking = yield* Effect.fork(
          decisions.ask(
            { _tag: "Permission", toolName: "Bash", input: { command: "npm publish" } },
            "5 minutes",
          ),
        )
        const prompt = yield* Effect.promise(() => fake.waitFor((m) => m.content.includes("npm publish")))
        expect(prompt.channel_id).toBe(fake.channelId)
        const deny = prompt.components[0]?.components.find((b) => b["label"] === "Deny")
        expect(deny).toMatchObject({ type: 2, style: 4 })

        const interaction = fake.press(prompt.id, String(deny?.["custom_id"]))
        const decision = yield* Fiber.join(asking)
        // The adapter names the person "discord:alice" (the contract's userName); the door may prefix it again.
        expect(decision.answer?.verdict).toBe("deny")
        expect(decision.answer?.by).toMatch(/(^|:)discord:alice$/)
        expect((yield* Effect.promise(() => fake.callbackFor(interaction))).type).toBe(6)
        const edited = yield* Effect.promise(() => fake.waitFor((m) => m.id === prompt.id && m.edited > 0))
        expect(edited.content).toMatch(/deny by (discord:)?discord:alice/)
        expect(edited.components).toEqual([])
      }),
    ),
  )
})
