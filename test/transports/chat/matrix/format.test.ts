// test/transports/chat/matrix/format.test.ts — the Matrix adapter's pure parts: HTML bodies, mention
// detection and the reactions that stand for buttons.
import { describe, expect, it } from "@effect/vitest"
import {
  detectMention,
  reactionKeys,
  toHtml,
  withReactionHint,
} from "../../../../src/transports/chat/matrix/format.js"

const bot = "@huskies:example.org"

describe("Matrix formatting", () => {
  it("renders bold, code, fenced blocks and line breaks, escaping everything else", () => {
    expect(toHtml("**12** <b>x</b> & `a<b`\nnext")).toBe(
      "<strong>12</strong> &lt;b&gt;x&lt;/b&gt; &amp; <code>a&lt;b</code><br>next",
    )
    expect(toHtml("log:\n```ts\nif (a < b) {}\n```")).toBe(
      "log:<br><pre><code>if (a &lt; b) {}\n</code></pre>",
    )
  })

  it("finds the bot by m.mentions, user id or display name and cuts the leading mention", () => {
    expect(detectMention("huskies: status 12", undefined, bot, "huskies")).toEqual({
      mentioned: true,
      text: "status 12",
    })
    expect(detectMention("@huskies:example.org move 3 qa", undefined, bot, "huskies")).toEqual({
      mentioned: true,
      text: "move 3 qa",
    })
    expect(detectMention("Huskies, help", undefined, bot, "huskies")).toEqual({
      mentioned: true,
      text: "help",
    })
    expect(detectMention("status", [bot], bot, "huskies")).toEqual({ mentioned: true, text: "status" })
    expect(detectMention("ask huskies later", undefined, bot, "huskies").mentioned).toBe(true)
    expect(detectMention("huskiesbot is down", undefined, bot, "huskies").mentioned).toBe(false)
    expect(detectMention("just chatting", ["@alice:example.org"], bot, "huskies")).toEqual({
      mentioned: false,
      text: "just chatting",
    })
  })

  it("gives the first primary button ✅, the first danger ❌, others numbers, and says so in the text", () => {
    const buttons = [
      { action: "a", label: "Approve", style: "primary" as const },
      { action: "d", label: "Deny", style: "danger" as const },
      { action: "l", label: "Later" },
    ]
    expect(reactionKeys(buttons)).toEqual(["✅", "❌", "3️⃣"])
    expect(withReactionHint("Run it?", buttons)).toBe("Run it?\n\nReact with ✅ Approve · ❌ Deny · 3️⃣ Later")
    expect(withReactionHint("Run it?", [])).toBe("Run it?")
  })
})
