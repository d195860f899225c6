// src/transports/chat/matrix/format.ts — the pure parts of the Matrix adapter: the door's markdown-ish
// text as an m.notice with an HTML body, whether a message mentions the bot, and the reactions that
// stand for buttons. Used by MatrixPlatform.ts.
import type { Button } from "../platform.js"

const escapeHtml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** `**bold**`, `_italic_`, `` `code` ``, ``` fenced blocks ``` and line breaks, everything else escaped. */
export const toHtml = (text: string): string =>
  text
    .split(/```/)
    .map((part, i) => {
      if (i % 2 === 1) return `<pre><code>${escapeHtml(part.replace(/^[a-z]*\n/, ""))}</code></pre>`
      return escapeHtml(part)
        .replace(/`([^`\n]+)`/g, "<code>$1</code>")
        .replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>")
        .replace(/(^|\s)_([^_\n]+)_(?=\s|$|[.,!?])/g, "$1<em>$2</em>")
        .replace(/\n/g, "<br>")
    })
    .join("")

/** The emoji a person reacts with to press a button: the first primary is ✅, the first danger ❌. */
export const reactionKeys = (buttons: ReadonlyArray<Button>): ReadonlyArray<string> => {
  const numbers = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣"]
  let primaryTaken = false
  let dangerTaken = false
  return buttons.map((button, i) => {
    if (button.style === "primary" && !primaryTaken) {
      primaryTaken = true
      return "✅"
    }
    if (button.style === "danger" && !dangerTaken) {
      dangerTaken = true
      return "❌"
    }
    return numbers[i] ?? `${i + 1}`
  })
}

/** The text of a message with buttons: Matrix has none, so it says which reaction presses which. */
export const withReactionHint = (text: string, buttons: ReadonlyArray<Button>): string => {
  if (buttons.length === 0) return text
  const keys = reactionKeys(buttons)
  const hint = buttons.map((button, i) => `${keys[i]} ${button.label}`).join(" · ")
  return `${text}\n\nReact with ${hint}`
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

export interface Mention {
  readonly mentioned: boolean
  /** The text without the leading mention ("huskies: status 12" → "status 12"). */
  readonly text: string
}

/**
 * Whether a message is addressed to the bot: `m.mentions` names it, or the body names its user id or
 * display name (older clients put the display name and a colon in front). The leading mention is cut.
 */
export const detectMention = (
  body: string,
  mentionsUserIds: ReadonlyArray<string> | undefined,
  botUserId: string,
  botDisplayName: string | undefined,
): Mention => {
  // The full user id comes first so "@huskies:example.org" is never read as the display name and a colon.
  const display =
    botDisplayName !== undefined && botDisplayName !== "" ? [`@?${escapeRegExp(botDisplayName)}`] : []
  const alternatives = [escapeRegExp(botUserId), ...display].join("|")
  const leading = new RegExp(`^\\s*(?:${alternatives})(?![\\w-])\\s*[:,]?\\s*`, "i")
  const anywhere = new RegExp(`(^|[^\\w@])(?:${alternatives})(?![\\w-])`, "i")
  const stripped = body.replace(leading, "")
  const mentioned = (mentionsUserIds ?? []).includes(botUserId) || stripped !== body || anywhere.test(body)
  return { mentioned, text: stripped.trim() }
}
