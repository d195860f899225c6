// test/transports/chat/whatsapp/whatsappMemory.test.ts — the WhatsApp adapter against the fake Graph API:
// its 24-hour windows and sent ids kept in the chat outbox survive a restart; its webhook receiver is
// behind the access guard's rule for webhooks (Host and Origin must name it; the signature stands in for
// the token, and a forged one is still refused).
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { request } from "node:http"
import { sign } from "../../../../src/transports/chat/whatsapp/webhook.js"
import {
  webhookPath,
  type WhatsAppPlatform,
} from "../../../../src/transports/chat/whatsapp/WhatsAppPlatform.js"
import { delivery } from "../../../fakes/whatsapp/graph.js"
import { outboxMemoryIn } from "../support.js"
import { alice, appSecret, connectWhatsApp as connect, fakeGraphApi, phoneNumberId } from "./support.js"

/** A POST to the receiver with the headers given (Host included, which fetch would not let us set). */
const post = (
  platform: WhatsAppPlatform,
  body: string,
  headers: Record<string, string>,
): Effect.Effect<{ status: number; text: string }> =>
  Effect.async((resume) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: platform.webhookPort,
        path: webhookPath,
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () =>
          resume(Effect.succeed({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() })),
        )
      },
    )
    req.on("error", (e) => resume(Effect.die(e)))
    req.end(body)
  })

const said = (id: string, text: string) =>
  JSON.stringify(delivery(phoneNumberId, alice, "Alice", { id, type: "text", text: { body: text } }))

const local = (platform: WhatsAppPlatform) => `127.0.0.1:${platform.webhookPort}`

describe("WhatsApp adapter memory and guard", () => {
  it.scoped("a restart keeps the person's 24-hour window and the ids already sent", () =>
    Effect.gen(function* () {
      const graph = yield* fakeGraphApi
      const memory = yield* outboxMemoryIn("whatsapp")
      yield* Effect.scoped(
        Effect.gen(function* () {
          const before = yield* connect(graph, memory)
          const raw = said("wamid.1", "status")
          const answer = yield* post(before, raw, {
            host: local(before),
            "x-hub-signature-256": sign(raw, appSecret),
          })
          expect(answer.status).toBe(200)
          yield* before.events.pipe(Stream.runHead)
          yield* before.send({ place: { room: alice }, text: "12 merged", id: "n1" })
        }),
      )
      // A new adapter (a restarted server) with the same outbox.
      const after = yield* connect(graph, memory)
      yield* after.send({ place: { room: alice }, text: "12 merged", id: "n1" })
      yield* after.send({ place: { room: alice }, text: "13 in QA", id: "n2" })
      // n1 once, and n2 as text: the window Alice opened before the restart is still open.
      expect(graph.messages.map((m) => [m.type, m.body["text"]])).toEqual([
        ["text", { body: "12 merged", preview_url: false }],
        ["text", { body: "13 in QA", preview_url: false }],
      ])
    }),
  )

  it.scoped(
    "Host and Origin must name the receiver; a proxy's name is admitted once allowed; forgeries are refused",
    () =>
      Effect.gen(function* () {
        const graph = yield* fakeGraphApi
        const platform = yield* connect(graph, undefined, ["hooks.example.org"])
        const raw = said("wamid.2", "status")
        const signed = { "x-hub-signature-256": sign(raw, appSecret) }
        // DNS rebinding: a name that now points here is refused even with a good signature.
        const rebound = yield* post(platform, raw, { ...signed, host: "evil.example" })
        expect(rebound.status).toBe(403)
        expect(rebound.text).toContain("allowed_hosts")
        // A web page elsewhere cannot post either.
        const page = yield* post(platform, raw, {
          ...signed,
          host: local(platform),
          origin: "https://evil.example",
        })
        expect(page.status).toBe(403)
        // No token needed: the signature stands in for it; but a forged one is still refused.
        const forged = yield* post(platform, raw, {
          host: local(platform),
          "x-hub-signature-256": sign(raw, "guess"),
        })
        expect(forged.status).toBe(401)
        const proxied = yield* post(platform, raw, { ...signed, host: "hooks.example.org" })
        expect(proxied.status).toBe(200)
        // Only the admitted, signed delivery arrived.
        const first = yield* platform.events.pipe(
          Stream.runHead,
          Effect.flatMap((o) => o),
        )
        expect(first._tag === "Message" && first.message.messageId).toBe("wamid.2")
      }),
  )
})
