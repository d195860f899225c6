// web/test/pageHelpers.test.ts — the small rules of the pages: the logs keep at most their cap of lines,
// a dropped stream backs off, and a decision is news only the first time it is seen pending.
import { describe, expect, it } from "vitest"
import type { Decision, DecisionId } from "../../src/domain/Decision.js"
import type { StoryId } from "../../src/domain/StoryId.js"
import { backoffMillis } from "../src/views/backoff.js"
import { describeDecision, newDecisions } from "../src/views/decisionNews.js"
import { appendCapped } from "../src/views/lines.js"

describe("appendCapped", () => {
  it("appends and drops the oldest past the cap", () => {
    expect(appendCapped([1, 2, 3], [4, 5], 4)).toEqual([2, 3, 4, 5])
    expect(appendCapped([1, 2], [3], 10)).toEqual([1, 2, 3])
    expect(appendCapped([1, 2], [3, 4, 5, 6, 7], 3)).toEqual([5, 6, 7])
  })

  it("never holds more than the cap over a long run", () => {
    let lines: Array<number> = []
    const all: Array<number> = []
    for (let i = 0; i < 5_000; i += 7) {
      lines = appendCapped(lines, [i, i + 1, i + 2], 2_000)
      all.push(i, i + 1, i + 2)
      expect(lines.length).toBeLessThanOrEqual(2_000)
    }
    expect(lines).toEqual(all.slice(-2_000))
  })
})

describe("backoffMillis", () => {
  it("doubles from 250 ms and stays at 5 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(backoffMillis)).toEqual([
      250, 500, 1000, 2000, 4000, 5000, 5000, 5000,
    ])
    expect(backoffMillis(0)).toBe(250)
  })
})

const permission = (id: string, requestedAt: number): Decision => ({
  _tag: "Permission",
  id: id as DecisionId,
  storyId: "12_story_login" as StoryId,
  toolName: "Bash",
  input: { command: "ls" },
  requestedAt,
  expiresAt: requestedAt + 60_000,
})

describe("newDecisions", () => {
  it("is news once, oldest first, and a decision seen before is not", () => {
    const known = new Set<string>(["dec-a"])
    const fresh = newDecisions(known, [
      permission("dec-c", 30),
      permission("dec-a", 10),
      permission("dec-b", 20),
    ])
    expect(fresh.map((d) => d.id)).toEqual(["dec-b", "dec-c"])
    expect(newDecisions(known, [permission("dec-b", 20), permission("dec-c", 30)])).toEqual([])
  })

  it("says who asks for what on which item", () => {
    const d = permission("dec-x", 1)
    expect(describeDecision({ ...d, agent: "coder-1" } as Decision)).toBe("coder-1 asks to use Bash on #12")
    expect(
      describeDecision({
        _tag: "HumanQa",
        id: "dec-q" as DecisionId,
        storyId: "7_bug_x" as StoryId,
        requestedAt: 1,
      }),
    ).toBe("#7 waits for human QA")
  })
})
