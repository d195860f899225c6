// web/test/chart.test.ts — the cost chart's scale: a round axis top at or above the largest value, ticks
// from zero to it, bars proportional to their value and never off the plot.
import { describe, expect, it } from "vitest"
import { barLength, niceMax, ticks } from "../src/views/chart.js"

describe("niceMax", () => {
  it("rounds up to 1, 2, 2.5 or 5 times a power of ten", () => {
    expect(niceMax(0.7)).toBe(1)
    expect(niceMax(1)).toBe(1)
    expect(niceMax(1.2)).toBe(2)
    expect(niceMax(2.2)).toBe(2.5)
    expect(niceMax(3)).toBe(5)
    expect(niceMax(7.5)).toBe(10)
    expect(niceMax(0.031)).toBeCloseTo(0.05)
    expect(niceMax(1234)).toBe(2000)
  })

  it("is 1 when there is nothing to show", () => {
    expect(niceMax(0)).toBe(1)
    expect(niceMax(-3)).toBe(1)
    expect(niceMax(Number.NaN)).toBe(1)
    expect(niceMax(Number.POSITIVE_INFINITY)).toBe(1)
  })

  it("is at least the value and less than 2.5 times it", () => {
    for (let v = 0.0001; v < 1e7; v *= 1.37) {
      const top = niceMax(v)
      expect(top).toBeGreaterThanOrEqual(v * (1 - 1e-9))
      expect(top).toBeLessThan(v * 2.5)
    }
  })
})

describe("ticks and bars", () => {
  it("spaces ticks evenly from zero to the top", () => {
    expect(ticks(10)).toEqual([0, 2.5, 5, 7.5, 10])
    expect(ticks(2, 2)).toEqual([0, 1, 2])
  })

  it("draws bars in proportion, at least a pixel, never past the plot", () => {
    expect(barLength(5, 10, 400)).toBe(200)
    expect(barLength(10, 10, 400)).toBe(400)
    expect(barLength(0.0001, 10, 400)).toBe(1)
    expect(barLength(0, 10, 400)).toBe(0)
    expect(barLength(20, 10, 400)).toBe(400)
    expect(barLength(5, 0, 400)).toBe(0)
  })
})
