// test/fakes/whatsapp/graph.ts — a local WhatsApp Cloud API: the Graph API's POST /{phone-number-id}/messages
// (bearer token checked, message ids handed out, every request recorded) and Meta's side of the webhook
// (signed deliveries to the bot's receiver). Used by the WhatsApp adapter's tests.
import { EventEmitter } from "node:events"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { sign } from "../../../src/transports/chat/whatsapp/webhook.js"
import { readBody } from "../httpBody.js"

export interface GraphMessage {
  readonly to: string
  readonly type: string
  readonly body: Record<string, unknown>
}

export interface FakeGraphApi {
  /** The versioned base URL to give the adapter (like https://graph.facebook.com/v21.0). */
  readonly url: string
  readonly messages: ReadonlyArray<GraphMessage>
  /** Resolves once the predicate holds for the messages received (checked on each one). */
  readonly until: (
    predicate: (messages: ReadonlyArray<GraphMessage>) => boolean,
    timeoutMs?: number,
  ) => Promise<void>
  readonly close: () => Promise<void>
}

export const startFakeGraphApi = async (phoneNumberId: string, token: string): Promise<FakeGraphApi> => {
  const messages: Array<GraphMessage> = []
  const received = new EventEmitter()
  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" })
        res.end(JSON.stringify(body))
      }
      if (req.headers.authorization !== `Bearer ${token}`)
        return reply(401, {
          error: { message: "Invalid OAuth access token.", type: "OAuthException", code: 190 },
        })
      if (req.method !== "POST" || req.url !== `/v21.0/${phoneNumberId}/messages`)
        return reply(404, { error: { message: `Unknown path ${req.method} ${req.url}`, code: 100 } })
      const body = JSON.parse(raw) as Record<string, unknown>
      if (body["messaging_product"] !== "whatsapp" || typeof body["to"] !== "string")
        return reply(400, { error: { message: "(#100) Invalid parameter", code: 100 } })
      messages.push({ to: body["to"], type: String(body["type"]), body })
      received.emit("message")
      return reply(200, {
        messaging_product: "whatsapp",
        contacts: [{ input: body["to"], wa_id: body["to"] }],
        messages: [{ id: `wamid.out${messages.length}` }],
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v21.0`,
    messages,
    until: (predicate, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(messages)) return
          clearTimeout(timer)
          received.off("message", check)
          resolve()
        }
        const timer = setTimeout(() => {
          received.off("message", check)
          reject(new Error("fake Graph API: timed out waiting for a message"))
        }, timeoutMs)
        received.on("message", check)
        check()
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** Meta's webhook envelope around one message a person sent to the business number. */
export const delivery = (
  phoneNumberId: string,
  from: string,
  name: string,
  message: Record<string, unknown>,
) => ({
  object: "whatsapp_business_account",
  entry: [
    {
      id: "WABA1",
      changes: [
        {
          field: "messages",
          value: {
            messaging_product: "whatsapp",
            metadata: { display_phone_number: "15550001111", phone_number_id: phoneNumberId },
            contacts: [{ profile: { name }, wa_id: from }],
            messages: [{ from, timestamp: "1765000000", ...message }],
          },
        },
      ],
    },
  ],
})

/** POSTs a delivery to the receiver as Meta does: the raw body signed with the app secret (or a given header). */
export const postWebhook = async (
  url: string,
  payload: unknown,
  appSecret: string,
  signature?: string,
): Promise<{ readonly status: number; readonly text: string }> => {
  const raw = JSON.stringify(payload)
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-hub-signature-256": signature ?? sign(raw, appSecret) },
    body: raw,
  })
  return { status: response.status, text: await response.text() }
}
