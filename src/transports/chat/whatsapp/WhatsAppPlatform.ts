// src/transports/chat/whatsapp/WhatsAppPlatform.ts — the WhatsApp Cloud API adapter (no SDK: Meta has
// no official one for Node): a signed-webhook receiver on its own port, behind the access guard's rule
// for webhooks (webhookGuard.ts), for people's messages and button replies, Graph API sends (text, reply buttons, a template outside the 24-hour window). Used by the door.
import { Clock, Effect, Queue, Redacted, Runtime, type Scope, Stream } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { ChatPlatform, Outgoing, Place, Sent } from "../platform.js"
import { PlatformUnavailable } from "../platform.js"
import { decodeDelivery, signatureValid, verifySubscription } from "./webhook.js"
import { type AdapterMemory, inProcessMemory } from "../memory.js"
import { webhookGuard } from "../webhookGuard.js"

export interface WhatsAppSettings {
  readonly token: Redacted.Redacted<string>
  readonly appSecret: Redacted.Redacted<string>
  readonly verifyToken: Redacted.Redacted<string>
  readonly phoneNumberId: string
  /** The Graph API's versioned base URL (https://graph.facebook.com/v21.0). */
  readonly graphUrl: string
  /**
   * Where the webhook receiver listens; a reverse proxy forwards Meta's HTTPS calls here. Host must name
   * the receiver: its bind, a loopback name on its port, or one of `allowedHosts` (the proxy's public name).
   */
  readonly webhook: {
    readonly host: string
    readonly port: number
    readonly allowedHosts?: ReadonlyArray<string>
  }
  /** An approved message template with one body parameter, for messages outside the 24-hour window. */
  readonly template: { readonly name: string; readonly language: string }
}

export interface WhatsAppPlatform extends ChatPlatform {
  /** The webhook receiver's bound port (useful when configured as 0). */
  readonly webhookPort: number
}

/** The webhook's path on the receiver; anything else is 404. */
export const webhookPath = "/whatsapp/webhook"
/** WhatsApp lets a business send free-form messages only this long after the person's last message. */
export const serviceWindowMs = 24 * 60 * 60 * 1000
const sendTimeout = "15 seconds"
const maxButtons = 3

type PlatformEvent = Stream.Stream.Success<ChatPlatform["events"]>

const unavailable = (detail: string) => new PlatformUnavailable({ platform: "whatsapp", detail })

const readRaw = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(Buffer.concat(chunks)))
    req.on("error", reject)
  })

const answer = (res: ServerResponse, status: number, text: string): void => {
  res.writeHead(status, { "content-type": "text/plain" })
  res.end(text)
}

/** Template parameters may hold no line breaks, tabs or runs of spaces, and at most 1024 characters. */
const asTemplateParameter = (text: string): string =>
  text
    .replace(/\s*\n\s*/g, " · ")
    .replace(/[\t ]{2,}/g, " ")
    .slice(0, 1000)

/** The Graph API request body for one message, chosen by buttons and the 24-hour window. */
export const messageBody = (
  to: string,
  message: Omit<Outgoing, "place">,
  insideWindow: boolean,
  template: WhatsAppSettings["template"],
): Record<string, unknown> => {
  const base = { messaging_product: "whatsapp", recipient_type: "individual", to }
  const buttons = message.buttons ?? []
  if (!insideWindow)
    return {
      ...base,
      type: "template",
      template: {
        name: template.name,
        language: { code: template.language },
        components: [
          { type: "body", parameters: [{ type: "text", text: asTemplateParameter(message.text) }] },
        ],
      },
    }
  if (buttons.length > 0 && buttons.length <= maxButtons)
    return {
      ...base,
      type: "interactive",
      interactive: {
        type: "button",
        body: { text: message.text.slice(0, 1024) },
        action: {
          buttons: buttons.map((b) => ({
            type: "reply",
            reply: { id: b.action.slice(0, 256), title: b.label.slice(0, 20) },
          })),
        },
      },
    }
  // More buttons than WhatsApp shows: the door's reply hint ("approve 12") is in the text already.
  return { ...base, type: "text", text: { body: message.text.slice(0, 4096), preview_url: false } }
}

export const makeWhatsAppPlatform = (
  settings: WhatsAppSettings,
  memory?: AdapterMemory,
): Effect.Effect<WhatsAppPlatform, never, Scope.Scope> =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const queue = yield* Effect.acquireRelease(Queue.unbounded<PlatformEvent>(), Queue.shutdown)
    // In the outbox when serve runs the door, so a restart keeps both:
    // "window": when each person last wrote (ms): inside 24 hours the bot may send free-form messages;
    // "sent": outbox ids already sent, since the Graph API has no idempotency key to catch a retry.
    const remembered = memory ?? (yield* inProcessMemory())

    const receive = (raw: Buffer) =>
      Effect.gen(function* () {
        const parsed = yield* Effect.try(() => JSON.parse(raw.toString("utf8")) as unknown)
        const received = yield* decodeDelivery(parsed, settings.phoneNumberId)
        const now = yield* Clock.currentTimeMillis
        for (const r of received) {
          yield* remembered.memorise("window", r.from, String(now))
          const place = { room: r.from }
          yield* Queue.offer(
            queue,
            r._tag === "Text"
              ? {
                  _tag: "Message",
                  message: {
                    platform: "whatsapp",
                    place,
                    user: r.from,
                    userName: `whatsapp:${r.name}`,
                    text: r.text.trim(),
                    mentioned: true, // every WhatsApp conversation is a direct message to the bot
                    messageId: r.id,
                  },
                }
              : {
                  _tag: "Pressed",
                  press: {
                    platform: "whatsapp",
                    place,
                    user: r.from,
                    userName: `whatsapp:${r.name}`,
                    action: r.action,
                    messageId: r.replyTo,
                  },
                },
          )
        }
      })

    const admit = webhookGuard(settings.webhook.host, settings.webhook.allowedHosts)
    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      if (!admit(req, res, (req.socket.address() as AddressInfo).port)) return
      const url = new URL(req.url ?? "/", "http://webhook")
      if (url.pathname !== webhookPath) return answer(res, 404, "not found")
      if (req.method === "GET") {
        const challenge = verifySubscription(url.searchParams, Redacted.value(settings.verifyToken))
        return challenge === undefined ? answer(res, 403, "verification failed") : answer(res, 200, challenge)
      }
      if (req.method !== "POST") return answer(res, 405, "method not allowed")
      const raw = await readRaw(req)
      if (
        !signatureValid(
          raw,
          req.headers["x-hub-signature-256"] as string | undefined,
          Redacted.value(settings.appSecret),
        )
      ) {
        Runtime.runFork(runtime)(
          Effect.logWarning("whatsapp: webhook with a missing or wrong X-Hub-Signature-256 rejected"),
        )
        return answer(res, 401, "bad signature")
      }
      const outcome = await Runtime.runPromise(runtime)(Effect.either(receive(raw)))
      if (outcome._tag === "Left") {
        const detail = typeof outcome.left === "string" ? outcome.left : "the body is not JSON"
        Runtime.runFork(runtime)(Effect.logWarning(`whatsapp: webhook refused: ${detail}`))
        return answer(res, 400, detail)
      }
      answer(res, 200, "ok")
    }

    const server = yield* Effect.acquireRelease(
      Effect.async<ReturnType<typeof createServer>>((resume) => {
        const s = createServer((req, res) => {
          handle(req, res).catch((e: unknown) => {
            // A failure while answering one delivery: Meta retries it, the receiver keeps serving.
            Runtime.runFork(runtime)(Effect.logWarning(`whatsapp: webhook failed: ${String(e)}`))
            if (!res.headersSent) answer(res, 500, "error")
          })
        })
        s.listen(settings.webhook.port, settings.webhook.host, () => resume(Effect.succeed(s)))
      }),
      (s) =>
        Effect.async<void>((resume) => {
          s.close(() => resume(Effect.void))
          s.closeAllConnections()
        }),
    )

    const graph = (body: Record<string, unknown>) =>
      Effect.tryPromise({
        try: async () => {
          const response = await fetch(
            `${settings.graphUrl}/${encodeURIComponent(settings.phoneNumberId)}/messages`,
            {
              method: "POST",
              headers: {
                authorization: `Bearer ${Redacted.value(settings.token)}`,
                "content-type": "application/json",
              },
              body: JSON.stringify(body),
            },
          )
          const json = (await response.json().catch(() => ({}))) as {
            messages?: ReadonlyArray<{ id?: string }>
            error?: { message?: string; code?: number }
          }
          const id = json.messages?.[0]?.id
          if (!response.ok || id === undefined)
            throw new Error(
              `Graph API ${response.status}: ${json.error?.message ?? "no message id in the answer"}`,
            )
          return id
        },
        catch: (e) => unavailable(e instanceof Error ? e.message : String(e)),
      }).pipe(
        Effect.timeoutFail({
          duration: sendTimeout,
          onTimeout: () => unavailable(`no answer in ${sendTimeout}`),
        }),
      )

    const deliver = (
      place: Place,
      message: Omit<Outgoing, "place">,
    ): Effect.Effect<Sent, PlatformUnavailable> =>
      Effect.gen(function* () {
        if (message.id !== undefined) {
          const already = yield* remembered.recall("sent", message.id)
          if (already !== undefined) return { messageId: already }
        }
        const now = yield* Clock.currentTimeMillis
        const last = Number((yield* remembered.recall("window", place.room)) ?? Number.NaN)
        const inside = now - last < serviceWindowMs
        const messageId = yield* graph(messageBody(place.room, message, inside, settings.template))
        if (message.id !== undefined) yield* remembered.memorise("sent", message.id, messageId)
        return { messageId }
      })

    return {
      name: "whatsapp",
      events: Stream.fromQueue(queue),
      send: (message) => deliver(message.place, message),
      // WhatsApp cannot edit a sent message: the new text goes out as a new one.
      update: (place, _messageId, message) => Effect.asVoid(deliver(place, message)),
      threads: false,
      buttons: true,
      webhookPort: (server.address() as AddressInfo).port,
    } satisfies WhatsAppPlatform
  })
