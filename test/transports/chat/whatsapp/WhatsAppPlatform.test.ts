// test/transports/chat/whatsapp/WhatsAppPlatform.test.ts — the WhatsApp adapter against a local fake of
// the Cloud API: signed webhooks in (forged ones refused), Graph API sends out, reply buttons pressed,
// and a template once the person's 24-hour window has closed.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Redacted, Stream, TestClock } from "effect"
import {
  makeWhatsAppPlatform,
  webhookPath,
  type WhatsAppPlatform,
} from "../../../../src/transports/chat/whatsapp/WhatsAppPlatform.js"
import { delivery, postWebhook } from "../../../fakes/whatsapp/graph.js"
import { alice, appSecret, connectWhatsApp, fakeGraphApi, phoneNumberId } from "./support.js"

const setup = Effect.gen(function* () {
  const graph = yield* fakeGraphApi
  const platform = yield* connectWhatsApp(graph)
  const webhook = `http://127.0.0.1:${platform.webhookPort}${webhookPath}`
  return { graph, platform, webhook }
})

const next = (platform: WhatsAppPlatform) =>
  platform.events.pipe(
    Stream.runHead,
    Effect.flatMap((o) => o),
  )

const say = (webhook: string, id: string, text: string) =>
  Effect.promise(() =>
    postWebhook(
      webhook,
      delivery(phoneNumberId, alice, "Alice", { id, type: "text", text: { body: text } }),
      appSecret,
    ),
  )

describe("WhatsApp adapter", () => {
  it.scoped("answers Meta's subscription handshake only with the verify token", () =>
    Effect.gen(function* () {
      const { webhook } = yield* setup
      const ok = yield* Effect.promise(() =>
        fetch(`${webhook}?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444`),
      )
      expect([ok.status, yield* Effect.promise(() => ok.text())]).toEqual([200, "1158201444"])
      const wrong = yield* Effect.promise(() =>
        fetch(`${webhook}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444`),
      )
      expect(wrong.status).toBe(403)
    }),
  )

  it.scoped(
    "a signed message arrives as Incoming; a forged or unsigned one is refused and delivers nothing",
    () =>
      Effect.gen(function* () {
        const { platform, webhook } = yield* setup
        const forged = delivery(phoneNumberId, alice, "Alice", {
          id: "wamid.forged",
          type: "text",
          text: { body: "delete 12" },
        })
        const wrongKey = yield* Effect.promise(() => postWebhook(webhook, forged, "not-the-app-secret"))
        expect(wrongKey.status).toBe(401)
        const garbage = yield* Effect.promise(() => postWebhook(webhook, forged, appSecret, "sha256=00"))
        expect(garbage.status).toBe(401)
        const unsigned = yield* Effect.promise(() =>
          fetch(webhook, {
            method: "POST",
            body: JSON.stringify(forged),
            headers: { "content-type": "application/json" },
          }),
        )
        expect(unsigned.status).toBe(401)
        const sent = yield* say(webhook, "wamid.1", " status 12 ")
        expect(sent.status).toBe(200)
        const event = yield* next(platform)
        expect(event).toEqual({
          _tag: "Message",
          message: {
            platform: "whatsapp",
            place: { room: alice },
            user: alice,
            userName: "whatsapp:Alice",
            text: "status 12",
            mentioned: true,
            messageId: "wamid.1",
          },
        })
      }),
  )

  it.scoped("a prompt goes out with reply buttons and a pressed button arrives as ButtonPressed", () =>
    Effect.gen(function* () {
      const { graph, platform, webhook } = yield* setup
      yield* say(webhook, "wamid.1", "hi")
      yield* next(platform)
      const prompt = yield* platform.send({
        place: { room: alice },
        text: "Coder on 12 wants to run `rm -rf build`",
        buttons: [
          { action: "decision:7:allow", label: "Approve", style: "primary" },
          { action: "decision:7:deny", label: "Deny", style: "danger" },
        ],
      })
      expect(graph.messages[0]?.body).toEqual({
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to: alice,
        type: "interactive",
        interactive: {
          type: "button",
          body: { text: "Coder on 12 wants to run `rm -rf build`" },
          action: {
            buttons: [
              { type: "reply", reply: { id: "decision:7:allow", title: "Approve" } },
              { type: "reply", reply: { id: "decision:7:deny", title: "Deny" } },
            ],
          },
        },
      })
      yield* Effect.promise(() =>
        postWebhook(
          webhook,
          delivery(phoneNumberId, alice, "Alice", {
            id: "wamid.2",
            type: "interactive",
            context: { from: "15550001111", id: prompt.messageId },
            interactive: { type: "button_reply", button_reply: { id: "decision:7:allow", title: "Approve" } },
          }),
          appSecret,
        ),
      )
      const pressed = yield* next(platform)
      expect(pressed).toEqual({
        _tag: "Pressed",
        press: {
          platform: "whatsapp",
          place: { room: alice },
          user: alice,
          userName: "whatsapp:Alice",
          action: "decision:7:allow",
          messageId: prompt.messageId,
        },
      })
    }),
  )

  it.scoped(
    "text inside the 24-hour window, the approved template outside it, one message per outbox id",
    () =>
      Effect.gen(function* () {
        const { graph, platform, webhook } = yield* setup
        // Nobody wrote yet: the window is closed.
        yield* platform.send({ place: { room: alice }, text: "12 merged\nat abc123", id: "n1" })
        yield* say(webhook, "wamid.1", "status")
        yield* next(platform)
        yield* TestClock.adjust("23 hours")
        yield* platform.send({ place: { room: alice }, text: "13 in QA", id: "n2" })
        yield* platform.send({ place: { room: alice }, text: "13 in QA", id: "n2" })
        yield* TestClock.adjust("2 hours")
        yield* platform.send({ place: { room: alice }, text: "14 failed", id: "n3" })
        expect(graph.messages.map((m) => m.type)).toEqual(["template", "text", "template"])
        expect(graph.messages[0]?.body["template"]).toEqual({
          name: "huskies_update",
          language: { code: "en" },
          components: [{ type: "body", parameters: [{ type: "text", text: "12 merged · at abc123" }] }],
        })
        expect(graph.messages[1]?.body["text"]).toEqual({ body: "13 in QA", preview_url: false })
      }),
  )

  it.scoped("a Graph API that refuses the token fails the send as unavailable, naming the reason", () =>
    Effect.gen(function* () {
      const { graph } = yield* setup
      const platform = yield* makeWhatsAppPlatform({
        token: Redacted.make("expired"),
        appSecret: Redacted.make(appSecret),
        verifyToken: Redacted.make("verify-me"),
        phoneNumberId,
        graphUrl: graph.url,
        webhook: { host: "127.0.0.1", port: 0 },
        template: { name: "huskies_update", language: "en" },
      })
      const exit = yield* platform.send({ place: { room: alice }, text: "hello" }).pipe(Effect.exit)
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("Invalid OAuth access token")
      expect(graph.messages).toEqual([])
    }),
  )
})
