// src/transports/chat/discord/wire.ts — the pure half of the Discord adapter: message bodies with button
// rows, the bot's mention stripped from a command, thread names and nonces. Used by DiscordPlatform.ts.
import { ActionRowBuilder, ButtonBuilder, ButtonStyle } from "discord.js"
import { createHash } from "node:crypto"
import type { Button } from "../platform.js"

/** Discord's limits: 2000 characters a message, 5 buttons a row, 5 rows, 100 characters a custom id. */
const maxContent = 2000
const perRow = 5
const maxRows = 5

const truncate = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`

const styleOf = (style: Button["style"]): ButtonStyle =>
  style === "primary" ? ButtonStyle.Primary : style === "danger" ? ButtonStyle.Danger : ButtonStyle.Secondary

/** Buttons as action rows; an action over Discord's 100-character custom id limit is a defect of the caller. */
export const buttonRows = (buttons: ReadonlyArray<Button>) => {
  const rows: Array<ReturnType<ActionRowBuilder<ButtonBuilder>["toJSON"]>> = []
  for (let i = 0; i < buttons.length && rows.length < maxRows; i += perRow) {
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      buttons
        .slice(i, i + perRow)
        .map((b) =>
          new ButtonBuilder()
            .setCustomId(b.action)
            .setLabel(truncate(b.label, 80))
            .setStyle(styleOf(b.style)),
        ),
    )
    rows.push(row.toJSON())
  }
  return rows
}

/**
 * A message body for POST/PATCH. Mentions in the text never ping anyone (a notification quoting a name must
 * not page people); `components` is always present on edits so an answered prompt loses its buttons.
 */
export const messageBody = (text: string, buttons: ReadonlyArray<Button> | undefined, id?: string) => ({
  content: truncate(text, maxContent),
  components: buttonRows(buttons ?? []),
  allowed_mentions: { parse: [] },
  ...(id !== undefined && { nonce: nonceFor(id, text), enforce_nonce: true }),
})

/**
 * Discord de-duplicates sends that carry the same nonce (at most 25 characters) for a few minutes. The text is
 * part of it: a coalesced batch retried with more entries under the same first id must be posted, not answered
 * with the earlier, shorter message.
 */
export const nonceFor = (id: string, text: string): string =>
  createHash("sha256").update(`${id}\n${text}`).digest("hex").slice(0, 25)

/** Removes every `<@id>` / `<@!id>` mention of the bot; says whether there was one. */
export const stripMention = (
  content: string,
  botId: string,
): { readonly text: string; readonly found: boolean } => {
  const mention = new RegExp(`[ \\t]*<@!?${botId}>[ \\t]*`, "g")
  const text = content
    .replace(mention, " ")
    .replace(/[ \t]+\n/g, "\n")
    .trim()
  return { text, found: new RegExp(`<@!?${botId}>`).test(content) }
}

/** A thread is named after the first line of its first reply (Discord allows 100 characters). */
export const threadName = (text: string): string =>
  truncate((text.split("\n")[0] ?? "").trim() || "huskies", 100)
