// src/transports/chat/slack/slackMessages.ts — pure translation between Slack's payloads and the chat
// platform contract, used by the Slack adapter: mention stripping, mrkdwn, Block Kit buttons, decoding.
import type { types } from "@slack/bolt"
import { Option, Schema } from "effect"
import type { Button, ButtonPressed, Incoming, Outgoing } from "../platform.js"

/** Removes the bot's own `<@U…>` mentions (with an optional `|name`) and the space they leave. */
export const stripMention = (text: string, botUserId: string): string =>
  text
    .replace(new RegExp(`<@${botUserId}(\\|[^>]*)?>:?`, "g"), " ")
    .replace(/[ \t]+/g, " ")
    .trim()

export const mentions = (text: string, botUserId: string): boolean => text.includes(`<@${botUserId}`)

/** Markdown-ish text to Slack mrkdwn: `**bold**` → `*bold*`, `[label](url)` → `<url|label>`; &<> escaped. */
export const toMrkdwn = (text: string): string =>
  text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\*\*([^*\n]+)\*\*/g, "*$1*")
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)/g, "<$2|$1>")

/** Slack's button `action_id`s are ours; the door's opaque action travels in `value`. */
const actionId = (index: number) => `huskies_button_${index}`

const buttonElement = (button: Button, index: number) => ({
  type: "button" as const,
  action_id: actionId(index),
  text: { type: "plain_text" as const, text: button.label, emoji: true },
  value: button.action,
  ...(button.style === undefined ? {} : { style: button.style }),
})

/** The Block Kit of a message: one mrkdwn section (Slack caps it at 3000 chars) and its buttons. */
export const toBlocks = (message: Pick<Outgoing, "text" | "buttons">): Array<types.KnownBlock> => {
  const text = toMrkdwn(message.text)
  const blocks: Array<types.KnownBlock> = [
    {
      type: "section",
      text: { type: "mrkdwn", text: text.length > 3000 ? `${text.slice(0, 2997)}…` : text },
    },
  ]
  if (message.buttons !== undefined && message.buttons.length > 0) {
    blocks.push({
      type: "actions",
      block_id: "huskies_actions",
      elements: message.buttons.map(buttonElement),
    })
  }
  return blocks
}

/** A message event as Slack delivers it (message.channels, message.im, app_mention). */
export const MessageEvent = Schema.Struct({
  type: Schema.Literal("message", "app_mention"),
  subtype: Schema.optional(Schema.String),
  channel: Schema.String,
  channel_type: Schema.optional(Schema.String),
  user: Schema.optional(Schema.String),
  bot_id: Schema.optional(Schema.String),
  text: Schema.optional(Schema.String),
  ts: Schema.String,
  thread_ts: Schema.optional(Schema.String),
})
export type MessageEvent = typeof MessageEvent.Type

/**
 * What a message event means to the door, or None: edits, bots (ourselves included) and, for a channel
 * `message` that mentions the bot, nothing — its `app_mention` twin carries it, so it arrives once.
 */
export const incomingOf = (raw: unknown, botUserId: string): Option.Option<Incoming> => {
  const decoded = Schema.decodeUnknownOption(MessageEvent)(raw)
  if (Option.isNone(decoded)) return Option.none()
  const event = decoded.value
  if (event.subtype !== undefined || event.bot_id !== undefined) return Option.none()
  if (event.user === undefined || event.user === botUserId || event.text === undefined) return Option.none()
  const direct = event.channel_type === "im"
  const mentioned = event.type === "app_mention" || direct || mentions(event.text, botUserId)
  if (event.type === "message" && !direct && mentions(event.text, botUserId)) return Option.none()
  return Option.some({
    platform: "slack",
    place: { room: event.channel, ...(event.thread_ts === undefined ? {} : { thread: event.thread_ts }) },
    user: event.user,
    userName: `slack:${event.user}`,
    text: stripMention(event.text, botUserId),
    mentioned,
    messageId: event.ts,
  })
}

/** How many recent message keys are remembered to drop Slack's redeliveries. */
export const rememberedMessages = 500

/** Whether `key` is new, and the recent keys with it (the oldest forgotten past the bound). */
export const rememberOnce = (
  keys: ReadonlyArray<string>,
  key: string,
): readonly [boolean, ReadonlyArray<string>] =>
  keys.includes(key) ? [false, keys] : [true, [...keys, key].slice(-rememberedMessages)]

/** A `block_actions` payload (a button press). */
export const BlockActions = Schema.Struct({
  type: Schema.Literal("block_actions"),
  user: Schema.Struct({
    id: Schema.String,
    username: Schema.optional(Schema.String),
    name: Schema.optional(Schema.String),
  }),
  channel: Schema.Struct({ id: Schema.String }),
  message: Schema.Struct({ ts: Schema.String, thread_ts: Schema.optional(Schema.String) }),
  actions: Schema.Array(Schema.Struct({ type: Schema.String, value: Schema.optional(Schema.String) })),
})

export const pressedOf = (raw: unknown): Option.Option<ButtonPressed> => {
  const decoded = Schema.decodeUnknownOption(BlockActions)(raw)
  if (Option.isNone(decoded)) return Option.none()
  const body = decoded.value
  const action = body.actions.find((a) => a.type === "button" && a.value !== undefined)
  if (action?.value === undefined) return Option.none()
  return Option.some({
    platform: "slack",
    place: {
      room: body.channel.id,
      ...(body.message.thread_ts === undefined ? {} : { thread: body.message.thread_ts }),
    },
    user: body.user.id,
    userName: `slack:${body.user.username ?? body.user.name ?? body.user.id}`,
    action: action.value,
    messageId: body.message.ts,
  })
}
