// test/layers/runtimes/rateLimits.test.ts — telling rate limits and overloads from other errors in CLI
// output, and reading when they reset.
import { describe, expect, it } from "@effect/vitest"
import { limitStatusOf, parseDuration, resetFromText } from "../../../src/layers/runtimes/rateLimits.js"

const now = 1_767_225_600_000

describe("rate-limit text", () => {
  it("tells rate limits (429) and overloads (529) from other errors", () => {
    expect(limitStatusOf("exceeded retry limit, last status: 429 Too Many Requests")).toBe(429)
    expect(limitStatusOf("You've hit your usage limit. Try again in 2 hours.")).toBe(429)
    expect(limitStatusOf('{"code":429,"status":"RESOURCE_EXHAUSTED"}')).toBe(429)
    expect(limitStatusOf("Quota exceeded for quota metric 'Requests per day'")).toBe(429)
    expect(limitStatusOf("API Error: 529 Overloaded")).toBe(529)
    expect(limitStatusOf("API Error: 401 invalid x-api-key")).toBeUndefined()
    expect(limitStatusOf("stream disconnected before completion")).toBeUndefined()
  })

  it("reads durations in any of the usual spellings", () => {
    expect(parseDuration("4 days 19 hours 1 minute")).toBe(((4 * 24 + 19) * 60 + 1) * 60_000)
    expect(parseDuration("37.5s")).toBe(37_500)
    expect(parseDuration("2h 3m")).toBe(123 * 60_000)
    expect(parseDuration("soon")).toBeUndefined()
  })

  it("reads the reset time a CLI printed, or says it cannot", () => {
    expect(
      resetFromText("You've hit your usage limit. Upgrade to Pro, or try again in 1 hour 30 minutes.", now),
    ).toBe(now + 90 * 60_000)
    expect(resetFromText("Quota exceeded. Please retry in 37.5s.", now)).toBe(now + 37_500)
    expect(resetFromText('{"retryDelay": "12s"}', now)).toBe(now + 12_000)
    expect(resetFromText("Claude AI usage limit reached|1767229200", now)).toBe(1_767_229_200_000)
    expect(resetFromText("Rate limited", now)).toBeUndefined()
  })

  it("reads Codex's local clock times: today's or tomorrow's, or a whole date", () => {
    const at = (h: number, m: number, dayOffset = 0) => {
      const d = new Date(now)
      d.setHours(h, m, 0, 0)
      return d.getTime() + dayOffset * 86_400_000
    }
    const later = new Date(at(0, 0) + 86_400_000 - 60_000) // 23:59 today
    const laterText = `try again at ${later.getHours() % 12 || 12}:59 ${later.getHours() >= 12 ? "PM" : "AM"}.`
    expect(resetFromText(laterText, now)).toBe(at(23, 59))
    // Midnight local time has passed at `now` (or is now): it means tomorrow's.
    expect(resetFromText("usage limit ... or try again at 12:00 AM.", now)).toBe(at(0, 0, 1))
    expect(resetFromText("or try again at Nov 27th, 2026 4:46 PM.", now)).toBe(
      new Date(2026, 10, 27, 16, 46).getTime(),
    )
  })
})
