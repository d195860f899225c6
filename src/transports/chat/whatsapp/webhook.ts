// src/transports/chat/whatsapp/webhook.ts — the pure parts of the WhatsApp Cloud API webhook: the
// subscription handshake, the X-Hub-Signature-256 check and the payload decoded into messages and button
// replies. Used by WhatsAppPlatform.ts.
import { Either, Schema } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"

/** GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…: the challenge to echo, or undefined (403). */
export const verifySubscription = (query: URLSearchParams, verifyToken: string): string | undefined => {
  const token = query.get("hub.verify_token")
  const challenge = query.get("hub.challenge")
  if (query.get("hub.mode") !== "subscribe" || token === null || challenge === null) return undefined
  return constantTimeEqual(token, verifyToken) ? challenge : undefined
}

const constantTimeEqual = (a: string, b: string): boolean => {
  const left = Buffer.from(a, "utf8")
  const right = Buffer.from(b, "utf8")
  return left.length === right.length && timingSafeEqual(left, right)
}

/** `sha256=<hex>` of the raw body keyed by the app secret, compared in constant time. */
export const signatureValid = (rawBody: Buffer, header: string | undefined, appSecret: string): boolean => {
  if (header === undefined || !header.startsWith("sha256=")) return false
  const expected = createHmac("sha256", appSecret).update(rawBody).digest()
  const given = Buffer.from(header.slice("sha256=".length), "hex")
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export const sign = (rawBody: Buffer | string, appSecret: string): string =>
  `sha256=${createHmac("sha256", appSecret).update(rawBody).digest("hex")}`

const Message = Schema.Struct({
  from: Schema.String,
  id: Schema.String,
  timestamp: Schema.String,
  type: Schema.String,
  text: Schema.optional(Schema.Struct({ body: Schema.String })),
  interactive: Schema.optional(
    Schema.Struct({
      type: Schema.String,
      button_reply: Schema.optional(Schema.Struct({ id: Schema.String, title: Schema.String })),
    }),
  ),
  button: Schema.optional(Schema.Struct({ payload: Schema.String, text: Schema.String })),
  context: Schema.optional(Schema.Struct({ id: Schema.String })),
})

const Payload = Schema.Struct({
  object: Schema.String,
  entry: Schema.Array(
    Schema.Struct({
      changes: Schema.Array(
        Schema.Struct({
          field: Schema.String,
          value: Schema.Struct({
            metadata: Schema.optional(Schema.Struct({ phone_number_id: Schema.String })),
            contacts: Schema.optional(
              Schema.Array(
                Schema.Struct({
                  wa_id: Schema.String,
                  profile: Schema.optional(Schema.Struct({ name: Schema.String })),
                }),
              ),
            ),
            messages: Schema.optional(Schema.Array(Message)),
          }),
        }),
      ),
    }),
  ),
})

export type Received =
  | {
      readonly _tag: "Text"
      readonly from: string
      readonly name: string
      readonly id: string
      readonly text: string
    }
  | {
      readonly _tag: "Button"
      readonly from: string
      readonly name: string
      readonly id: string
      readonly action: string
      /** The prompt the button belongs to. */
      readonly replyTo: string
    }

/**
 * The people's messages in a webhook delivery for our phone number. Statuses (sent, delivered, read)
 * and message types huskies does not act on (images, locations) are left out; a body that is not a
 * WhatsApp payload is a Left naming what is wrong.
 */
export const decodeDelivery = (
  body: unknown,
  phoneNumberId: string,
): Either.Either<ReadonlyArray<Received>, string> =>
  Schema.decodeUnknownEither(Payload)(body).pipe(
    Either.mapLeft((error) => `not a WhatsApp webhook payload: ${error.message}`),
    Either.map((payload) =>
      payload.entry.flatMap((entry) =>
        entry.changes.flatMap((change) => {
          const value = change.value
          if (
            change.field !== "messages" ||
            (value.metadata !== undefined && value.metadata.phone_number_id !== phoneNumberId)
          )
            return []
          const names = new Map((value.contacts ?? []).map((c) => [c.wa_id, c.profile?.name ?? c.wa_id]))
          return (value.messages ?? []).flatMap((m): ReadonlyArray<Received> => {
            const name = names.get(m.from) ?? m.from
            if (m.type === "text" && m.text !== undefined)
              return [{ _tag: "Text", from: m.from, name, id: m.id, text: m.text.body }]
            const action = m.interactive?.button_reply?.id ?? m.button?.payload
            if ((m.type === "interactive" || m.type === "button") && action !== undefined)
              return [
                { _tag: "Button", from: m.from, name, id: m.id, action, replyTo: m.context?.id ?? m.id },
              ]
            return []
          })
        }),
      ),
    ),
  )
