// src/transports/chat/platform.ts — what every chat platform adapter (slack, discord, matrix, whatsapp)
// gives the platform-neutral chat door, and what the door gives it back. An adapter speaks its SDK and
// wire protocol only; who may do what, commands, notifications, prompts and the assistant live in the
// door (src/transports/chat/door), once for every platform.
import { Schema, type Effect, type Stream } from "effect"

export const PlatformName = Schema.Literal("slack", "discord", "matrix", "whatsapp")
export type PlatformName = typeof PlatformName.Type

/** Where a message is: a room/channel, and a thread in it when the platform has threads. */
export const Place = Schema.Struct({
  room: Schema.String,
  /** The thread's root message id (Slack ts, Discord thread id, Matrix event id); absent = the room. */
  thread: Schema.optional(Schema.String),
})
export type Place = typeof Place.Type

/** A person's message as the adapter received it (bots' own messages are never delivered). */
export const Incoming = Schema.Struct({
  platform: PlatformName,
  place: Place,
  /** The platform's user id (U123, a snowflake, @alice:example.org, a phone number). */
  user: Schema.String,
  /** A display name for replies and the item's history ("slack:alice"). */
  userName: Schema.String,
  /** The text with the bot's own mention removed. */
  text: Schema.String,
  /** Whether the message mentioned the bot (or was a direct message to it). */
  mentioned: Schema.Boolean,
  /** The platform's message id, for replies in its thread and de-duplication. */
  messageId: Schema.String,
})
export type Incoming = typeof Incoming.Type

/** A button a person presses (Approve/Deny); platforms without buttons render it as a reply hint. */
export const Button = Schema.Struct({
  /** Opaque to the adapter: given back as `ButtonPressed.action` ("decision:<id>:allow"). */
  action: Schema.String,
  label: Schema.String,
  style: Schema.optional(Schema.Literal("primary", "danger")),
})
export type Button = typeof Button.Type

export const ButtonPressed = Schema.Struct({
  platform: PlatformName,
  place: Place,
  user: Schema.String,
  userName: Schema.String,
  action: Schema.String,
  /** The id of the message whose button was pressed, so the adapter can update it. */
  messageId: Schema.String,
})
export type ButtonPressed = typeof ButtonPressed.Type

/** A message to send: plain text (markdown-ish, the adapter converts), optional buttons. */
export interface Outgoing {
  readonly place: Place
  readonly text: string
  readonly buttons?: ReadonlyArray<Button>
  /** The outbox id: an adapter that can de-duplicate (idempotency keys, txn ids) passes it on. */
  readonly id?: string
}

/** A sent message's id, to thread replies under it or edit it. */
export interface Sent {
  readonly messageId: string
}

/** The platform is unreachable or refused: the door keeps the message in the outbox and retries. */
export class PlatformUnavailable extends Schema.TaggedError<PlatformUnavailable>()("PlatformUnavailable", {
  platform: PlatformName,
  detail: Schema.String,
}) {
  override get message(): string {
    return `${this.platform}: ${this.detail}`
  }
}

/**
 * One connected platform. `events` delivers what people say and press; the adapter reconnects by itself
 * (with backoff) and a drop never ends the stream. `send` fails with PlatformUnavailable while down.
 */
export interface ChatPlatform {
  readonly name: PlatformName
  readonly events: Stream.Stream<
    | { readonly _tag: "Message"; readonly message: Incoming }
    | { readonly _tag: "Pressed"; readonly press: ButtonPressed }
  >
  readonly send: (message: Outgoing) => Effect.Effect<Sent, PlatformUnavailable>
  /** Replaces a sent message's text and buttons (a prompt once answered); platforms without edits send anew. */
  readonly update: (
    place: Place,
    messageId: string,
    message: Omit<Outgoing, "place">,
  ) => Effect.Effect<void, PlatformUnavailable>
  /** Whether the platform has threads (replies per item go there) and buttons. */
  readonly threads: boolean
  readonly buttons: boolean
}
