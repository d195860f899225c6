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
})
