// End to end through the adapter registry and the chat door: a command sent on WhatsApp (signed webhook into
// the adapter's receiver) moves an item on a real Store and the answer goes out through the fake Graph API;
// a permission prompt goes out with reply buttons and a pressed button answers it.
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Fiber, Layer, Schema } from "effect"
import { join } from "node:path"
import { Decisions } from "../../../../src/actors/Decisions.js"
import { PlatformConfig } from "../../../../src/domain/BotConfig.js"
import { StoryId } from "../../../../src/domain/StoryId.js"
import { OutboxLive } from "../../../../src/layers/Outbox.js"
import { Store } from "../../../../src/layers/Store.js"
import { platformAdapters } from "../../../../src/transports/chat/adapters.js"
import { adapterEnv } from "../../../../src/transports/chat/credentials.js"
import { runDoor } from "../../../../src/transports/chat/door/Door.js"
import {
  webhookPath,
  type WhatsAppPlatform,
} from "../../../../src/transports/chat/whatsapp/WhatsAppPlatform.js"
import { delivery, postWebhook } from "../../../fakes/whatsapp/graph.js"
import { ok, withTools } from "../../../support/tools.js"
import { alice, appSecret, fakeGraphApi, phoneNumberId, token } from "./support.js"

const bob = "15557654321"

// Decoded as bot.toml is, so every setting not named here takes its default.
const config = Schema.decodeUnknownSync(PlatformConfig)({
  enabled: true,
  room: [
    { id: alice, role: "ops", notify: [] },
    { id: bob, role: "read", notify: [] },
  ],
  users: { ops: [alice], read: [bob] },
  ops_room: alice,
  assistant: "off",
  coalesce_ms: 0,
})

const connected = (root: string) =>
  Effect.gen(function* () {
    const graph = yield* fakeGraphApi
    const env = adapterEnv(root, "whatsapp", config, {
      HUSKIES_WHATSAPP_TOKEN: token,
      HUSKIES_WHATSAPP_APP_SECRET: appSecret,
      HUSKIES_WHATSAPP_VERIFY_TOKEN: "verify-me",
      HUSKIES_WHATSAPP_PHONE_NUMBER_ID: phoneNumberId,
    })
    const platform = yield* platformAdapters.whatsapp(config, env).pipe(
      Effect.withConfigProvider(
        ConfigProvider.fromMap(
          new Map([
            ["HUSKIES_WHATSAPP_GRAPH_URL", graph.url],
            ["HUSKIES_WHATSAPP_WEBHOOK_PORT", "0"],
          ]),
        ),
      ),
    )
    const outbox = yield* Layer.build(OutboxLive(join(root, "outbox.db")))
    yield* Effect.forkScoped(Effect.provide(runDoor(platform, config), outbox))
    const webhook = `http://127.0.0.1:${(platform as WhatsAppPlatform).webhookPort}${webhookPath}`
    return { graph, webhook }
  })

describe("WhatsApp through the chat door", () => {
  it.live("a command moves the item; a read-only number is refused", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const { graph, webhook } = yield* connected(root)
        const id = StoryId.make((yield* ok("create_story", { name: "Add login" }))["story_id"] as string)
        const say = (from: string, wamid: string, text: string) =>
          Effect.promise(() =>
            postWebhook(
              webhook,
              delivery(phoneNumberId, from, "Someone", { id: wamid, type: "text", text: { body: text } }),
              appSecret,
            ),
          )
        yield* say(bob, "wamid.b1", "move 1 coding")
        yield* Effect.promise(() => graph.until((m) => m.length >= 1))
        expect(graph.messages[0]).toMatchObject({ to: bob, type: "text" })
        expect(JSON.stringify(graph.messages[0]?.body)).toContain("needs the ops role")
        expect((yield* Effect.flatMap(Store, (s) => s.get(id))).stage).toEqual({ _tag: "Backlog" })

        yield* say(alice, "wamid.a1", "move 1 coding")
        yield* Effect.promise(() => graph.until((m) => m.length >= 2))
        expect(graph.messages[1]?.body["text"]).toEqual({
          body: "Moved 1: Backlog → Coding.",
          preview_url: false,
        })
        expect((yield* Effect.flatMap(Store, (s) => s.get(id))).stage).toEqual({ _tag: "Coding" })
      }),
    ),
  )

  it.live("a permission prompt is answered with its Approve reply button", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const { graph, webhook } = yield* connected(root)
        // Alice wrote recently, so the prompt may be an interactive message rather than the template.
        yield* Effect.promise(() =>
          postWebhook(
            webhook,
            delivery(phoneNumberId, alice, "Alice", { id: "wamid.a0", type: "text", text: { body: "help" } }),
            appSecret,
          ),
        )
        yield* Effect.promise(() => graph.until((m) => m.length >= 1))
        const decisions = yield* Decisions
        const asking = yield* Effect.fork(
          decisions.ask(
            { _tag: "Permission", toolName: "Bash", input: { command: "npm publish" } },
            "5 minutes",
          ),
        )
        yield* Effect.promise(() => graph.until((ms) => ms.some((m) => m.type === "interactive")))
        const prompt = graph.messages.findIndex((m) => m.type === "interactive")
        const buttons = (
          graph.messages[prompt]?.body["interactive"] as {
            action: { buttons: ReadonlyArray<{ reply: { id: string; title: string } }> }
          }
        ).action.buttons
        expect(buttons.map((b) => b.reply.title)).toEqual(["Approve", "Deny"])
        yield* Effect.promise(() =>
          postWebhook(
            webhook,
            delivery(phoneNumberId, alice, "Alice", {
              id: "wamid.a2",
              type: "interactive",
              context: { from: "15550001111", id: `wamid.out${prompt + 1}` },
              interactive: { type: "button_reply", button_reply: buttons[0]?.reply },
            }),
            appSecret,
          ),
        )
        const decision = yield* Fiber.join(asking)
        expect(decision.answer?.verdict).toBe("allow")
        expect(decision.answer?.by).toContain("Alice")
      }),
    ),
  )
})
