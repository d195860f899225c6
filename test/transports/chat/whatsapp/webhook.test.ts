// test/transports/chat/whatsapp/webhook.test.ts — the WhatsApp webhook's pure parts: the handshake, the
// signature check and which parts of a delivery become messages.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import {
  decodeDelivery,
  sign,
  signatureValid,
  verifySubscription,
} from "../../../../src/transports/chat/whatsapp/webhook.js"
import { delivery } from "../../../fakes/whatsapp/graph.js"

describe("WhatsApp webhook", () => {
  it("echoes the challenge only for subscribe with the right token", () => {
    const q = (s: string) => new URLSearchParams(s)
    expect(verifySubscription(q("hub.mode=subscribe&hub.verify_token=t0k&hub.challenge=42"), "t0k")).toBe(
      "42",
    )
    expect(
      verifySubscription(q("hub.mode=subscribe&hub.verify_token=t0K&hub.challenge=42"), "t0k"),
    ).toBeUndefined()
    expect(
      verifySubscription(q("hub.mode=unsubscribe&hub.verify_token=t0k&hub.challenge=42"), "t0k"),
    ).toBeUndefined()
    expect(verifySubscription(q("hub.mode=subscribe&hub.challenge=42"), "t0k")).toBeUndefined()
  })

  it("accepts exactly the HMAC-SHA256 of the raw body with the app secret", () => {
    const body = Buffer.from('{"object":"whatsapp_business_account"}')
    const good = sign(body, "secret")
    expect(signatureValid(body, good, "secret")).toBe(true)
    expect(signatureValid(Buffer.from('{"object":"whatsapp_business_account" }'), good, "secret")).toBe(false)
    expect(signatureValid(body, good, "other")).toBe(false)
    expect(signatureValid(body, good.replace("sha256=", "sha1="), "secret")).toBe(false)
    expect(signatureValid(body, good.slice(0, -2), "secret")).toBe(false)
    expect(signatureValid(body, undefined, "secret")).toBe(false)
  })

  it("takes text and button replies for our number, leaves statuses, media and other numbers out", () => {
    const text = delivery("PN1", "111", "Alice", { id: "w1", type: "text", text: { body: "status" } })
    const image = delivery("PN1", "111", "Alice", { id: "w2", type: "image", image: { id: "m1" } })
    const quickReply = delivery("PN1", "111", "Alice", {
      id: "w3",
      type: "button",
      button: { payload: "decision:1:allow", text: "Approve" },
      context: { id: "w0" },
    })
    const otherNumber = delivery("PN2", "111", "Alice", { id: "w4", type: "text", text: { body: "status" } })
    const statuses = {
      object: "whatsapp_business_account",
      entry: [{ changes: [{ field: "messages", value: { statuses: [{ id: "w0", status: "read" }] } }] }],
    }
    const decode = (b: unknown) => Either.getOrThrow(decodeDelivery(b, "PN1"))
    expect(decode(text)).toEqual([{ _tag: "Text", from: "111", name: "Alice", id: "w1", text: "status" }])
    expect(decode(image)).toEqual([])
    expect(decode(quickReply)).toEqual([
      { _tag: "Button", from: "111", name: "Alice", id: "w3", action: "decision:1:allow", replyTo: "w0" },
    ])
    expect(decode(otherNumber)).toEqual([])
    expect(decode(statuses)).toEqual([])
    expect(Either.isLeft(decodeDelivery({ hello: "world" }, "PN1"))).toBe(true)
  })
})
