// test/transports/chat/door/notifications.test.ts — what a change says in chat, how pending notices become
// messages (per item when few, one summary per room when many), and the daily digest's text.
import { describe, expect, it } from "@effect/vitest"
import { StoryId } from "../../../../src/domain/StoryId.js"
import type { WorkItem } from "../../../../src/domain/WorkItem.js"
import { batches, digestText } from "../../../../src/transports/chat/door/notifications.js"

const hour = 60 * 60 * 1000

describe("chat notifications", () => {
  it("a few notices go per item; many for one room become one summary with every id", () => {
    const few = batches([
      { id: "a", room: "R", item: "1", kind: "moves", text: "1: Backlog → Coding" },
      { id: "b", room: "R", item: "2", kind: "moves", text: "2: Backlog → Coding" },
      { id: "c", room: "R", item: "1", kind: "merges", text: "1 merged" },
    ])
    expect(few).toEqual([
      { room: "R", item: "1", text: "1: Backlog → Coding\n1 merged", ids: ["a", "c"] },
      { room: "R", item: "2", text: "2: Backlog → Coding", ids: ["b"] },
    ])
    const many = Array.from({ length: 30 }, (_, i) => ({
      id: `e${i}`,
      room: "R",
      item: String(i),
      kind: i % 3 === 0 ? "merges" : "moves",
      text: `event ${i}`,
    }))
    const [summary, ...rest] = batches(many)
    expect(rest).toEqual([])
    expect(summary?.ids).toHaveLength(30)
    expect(summary?.text.split("\n")[0]).toBe("30 updates since the last message: 10 merges, 20 moves")
    expect(summary?.text).toContain("• event 29")
    expect(summary?.text).not.toContain("• event 19")
  })

  it("the digest lists what reached Done in the last 24 hours, and nothing when nothing did", () => {
    const now = Date.UTC(2026, 0, 2, 9)
    const done = (id: string, mergedAt: number): WorkItem =>
      ({
        id: StoryId.make(id),
        stage: { _tag: "Done", mergeCommit: "0123456789abcdef", mergedAt },
      }) as unknown as WorkItem
    expect(digestText([done("1_story_a", now - 2 * hour), done("2_story_b", now - 30 * hour)], now)).toBe(
      "Done in the last 24 hours (1):\n• 1_story_a (0123456789ab)",
    )
    expect(digestText([done("2_story_b", now - 30 * hour)], now)).toBeUndefined()
  })
})
