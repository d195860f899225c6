// test/transports/chat/discord/wire.test.ts — the Discord adapter's pure parts: the bot's mention taken out of
// a command, button rows within Discord's limits, nonces, thread names.
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import {
  buttonRows,
  messageBody,
  nonceFor,
  stripMention,
  threadName,
} from "../../../../src/transports/chat/discord/wire.js"

const bot = "100000000000000001"

describe("Discord wire helpers", () => {
  it("strips both mention forms, anywhere, keeping the lines of the rest", () => {
    expect(stripMention(`<@${bot}> move 503 qa`, bot)).toEqual({ text: "move 503 qa", found: true })
    expect(stripMention(`<@!${bot}>   status`, bot)).toEqual({ text: "status", found: true })
    expect(stripMention(`reject 12 <@${bot}>\nfails on CI\nsee log`, bot)).toEqual({
      text: "reject 12\nfails on CI\nsee log",
      found: true,
    })
    expect(stripMention("<@200000000000000001> hi", bot)).toEqual({
      text: "<@200000000000000001> hi",
      found: false,
    })
  })

  it("never leaves the bot's mention in the text", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.constant(`<@${bot}>`), fc.constant(`<@!${bot}>`))),
        (parts) => {
          const { text, found } = stripMention(parts.join(" "), bot)
          expect(text).not.toMatch(new RegExp(`<@!?${bot}>`))
          expect(found).toBe(parts.some((p) => p.includes(`<@${bot}>`) || p.includes(`<@!${bot}>`)))
        },
      ),
    )
  })

  it("puts at most five buttons in a row and five rows in a message, styled", () => {
    const buttons = Array.from({ length: 27 }, (_, i) => ({ action: `a${i}`, label: `B${i}` }))
    const rows = buttonRows(buttons)
    expect(rows.map((r) => r.components.length)).toEqual([5, 5, 5, 5, 5])
    expect(buttonRows([{ action: "x", label: "Deny", style: "danger" }])[0]?.components[0]).toMatchObject({
      type: 2,
      custom_id: "x",
      style: 4,
    })
  })

  it("cuts long text to Discord's 2000 characters, pings nobody, and nonces by outbox id", () => {
    const body = messageBody("x".repeat(2500), undefined, "outbox-1")
    expect(body.content).toHaveLength(2000)
    expect(body).toMatchObject({ components: [], allowed_mentions: { parse: [] }, enforce_nonce: true })
    expect(body.nonce).toBe(nonceFor("outbox-1", "x".repeat(2500)))
    expect(nonceFor("outbox-1", "a")).toHaveLength(25)
    expect(nonceFor("outbox-1", "a")).toBe(nonceFor("outbox-1", "a"))
    expect(nonceFor("outbox-2", "a")).not.toBe(nonceFor("outbox-1", "a"))
    // A batch retried with more entries under the same first id is a new message.
    expect(nonceFor("outbox-1", "a\nb")).not.toBe(nonceFor("outbox-1", "a"))
    expect(messageBody("hi", undefined)).not.toHaveProperty("nonce")
  })

  it("names a thread after the first line, within 100 characters", () => {
    expect(threadName("503 Add login → QA\ndetails")).toBe("503 Add login → QA")
    expect(threadName("y".repeat(150))).toHaveLength(100)
    expect(threadName("\n")).toBe("huskies")
  })
})
