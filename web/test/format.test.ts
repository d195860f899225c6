// web/test/format.test.ts — how the pages show time left, elapsed time, dollars and tokens.
import { describe, expect, it } from "vitest"
import { ago, timeLeft, tokens, usd } from "../src/views/format.js"

describe("timeLeft", () => {
  it("counts seconds, then minutes and seconds, then hours and minutes", () => {
    expect(timeLeft(45_000)).toBe("45 s")
    expect(timeLeft(44_001)).toBe("45 s")
    expect(timeLeft(58_001)).toBe("59 s")
    expect(timeLeft(59_999)).toBe("1 min 00 s")
    expect(timeLeft(60_000)).toBe("1 min 00 s")
    expect(timeLeft(125_000)).toBe("2 min 05 s")
    expect(timeLeft(3_600_000)).toBe("1 h 00 min")
    expect(timeLeft(3_720_000 + 30_000)).toBe("1 h 02 min")
  })

  it("says expired at zero, below zero and for nonsense", () => {
    expect(timeLeft(0)).toBe("expired")
    expect(timeLeft(-5_000)).toBe("expired")
    expect(timeLeft(Number.NaN)).toBe("expired")
  })

  it("never grows as the deadline nears", () => {
    let last = Number.POSITIVE_INFINITY
    for (let ms = 7_200_000; ms > 0; ms -= 997) {
      const [n] = timeLeft(ms).split(" ")
      const unit = timeLeft(ms).includes(" h ") ? 3600 : timeLeft(ms).includes(" min ") ? 60 : 1
      const value = Number(n) * unit
      expect(value).toBeLessThanOrEqual(last)
      last = value
    }
  })
})

describe("ago", () => {
  it("reads as a person would say it", () => {
    expect(ago(1_000)).toBe("just now")
    expect(ago(40_000)).toBe("40 s ago")
    expect(ago(180_000)).toBe("3 min ago")
    expect(ago(2 * 3_600_000)).toBe("2 h ago")
    expect(ago(4 * 86_400_000)).toBe("4 d ago")
    expect(ago(-10)).toBe("just now")
  })
})

describe("amounts", () => {
  it("shows cents, and more digits under a cent", () => {
    expect(usd(0)).toBe("$0.00")
    expect(usd(1.234)).toBe("$1.23")
    expect(usd(0.0042)).toBe("$0.0042")
  })

  it("shortens large token counts", () => {
    expect(tokens(950)).toBe("950")
    expect(tokens(12_345)).toBe("12k")
    expect(tokens(2_500_000)).toBe("2.5M")
  })
})
