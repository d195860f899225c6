// web/test/board.test.ts — the browser's board store: snapshots replace, changes apply once in cursor
// order, paged columns keep their totals, and a resumed feed never doubles or loses a card.
import { describe, expect, it } from "vitest"
import type { BoardMessage, Card, Cursor } from "../../src/protocol/uiRpcs.js"
import { applyMessage, column, emptyBoard, pendingDecisions, type BoardState } from "../src/state/board.js"

const card = (number: number, stage: Card["stage"], updatedAt = number): Card => ({
  id: `${number}_story_item_${number}` as Card["id"],
  number,
  kind: "story",
  name: `item ${number}`,
  stage,
  criteria: { done: 0, total: 1 },
  dependsOn: [],
  execution: {},
  costUsd: 0,
  timers: [],
  attempts: 0,
  createdAt: 1,
  updatedAt,
})

const at = (seq: number, epoch = "e1"): Cursor => ({ epoch, seq })
const snapshot = (cards: ReadonlyArray<Card>, seq = 0, totals = { Done: 0, Archived: 0 }): BoardMessage => ({
  _tag: "Snapshot",
  cursor: at(seq),
  version: 1,
  nodeId: "n",
  project: "p",
  cards,
  totals,
  decisions: [],
  mergeQueue: [],
})
const apply = (messages: ReadonlyArray<BoardMessage>, state: BoardState = emptyBoard) =>
  messages.reduce(applyMessage, state)

describe("applyMessage", () => {
  it("replaces everything on a snapshot and applies later changes", () => {
    const s = apply([
      snapshot([card(1, { _tag: "Backlog" })], 3),
      { _tag: "CardChanged", cursor: at(4), card: card(2, { _tag: "Coding" }) },
      { _tag: "Live", cursor: at(4) },
    ])
    expect([...s.cards.keys()].sort()).toEqual(["1_story_item_1", "2_story_item_2"])
    expect(s.cursor).toEqual(at(4))
    expect(s.connection).toBe("live")
    const again = applyMessage(s, snapshot([card(3, { _tag: "Qa" })], 0))
    expect([...again.cards.keys()]).toEqual(["3_story_item_3"])
  })

  it("keeps the merge queue's jobs that wait alone, with why, until a message says they no longer do", () => {
    const storyId = "1_story_item_1" as Card["id"]
    const s = apply([
      snapshot([card(1, { _tag: "Backlog" })], 1),
      {
        _tag: "MergeQueueChanged",
        cursor: at(2),
        jobs: [{ storyId, state: "queued", enqueuedAt: 5 }],
        mergeWaiting: [{ storyId, why: "the nodes' remote origin could not be read", since: 6 }],
      },
    ])
    expect(s.mergeWaiting).toEqual([{ storyId, why: "the nodes' remote origin could not be read", since: 6 }])
    const after = applyMessage(s, { _tag: "MergeQueueChanged", cursor: at(3), jobs: [] })
    expect(after.mergeWaiting).toEqual([])
  })

  it("ignores a message at or before its cursor (a replay overlapping what it has)", () => {
    const s = apply([
      snapshot([], 0),
      { _tag: "CardChanged", cursor: at(1), card: card(1, { _tag: "Backlog" }, 10) },
      { _tag: "CardChanged", cursor: at(2), card: card(1, { _tag: "Coding" }, 20) },
    ])
    const replayed = applyMessage(s, {
      _tag: "CardChanged",
      cursor: at(1),
      card: card(1, { _tag: "Backlog" }),
    })
    expect(replayed).toBe(s)
    expect(s.cards.get("1_story_item_1")?.stage._tag).toBe("Coding")
  })

  it("takes a message of a new epoch (a restarted server) whatever its number", () => {
    const s = apply([
      snapshot([], 50),
      { _tag: "CardRemoved", cursor: at(1, "e2"), id: "9_story_x" as Card["id"] },
    ])
    expect(s.cursor).toEqual(at(1, "e2"))
  })

  it("keeps the paged columns' totals as cards move in and out of them", () => {
    const s = apply([
      snapshot([card(1, { _tag: "Merge", featureBranch: "f", commitsAhead: 1 } as Card["stage"])], 0, {
        Done: 5,
        Archived: 2,
      }),
      {
        _tag: "CardChanged",
        cursor: at(1),
        card: card(1, { _tag: "Done", mergeCommit: "c", mergedAt: 1 } as Card["stage"]),
      },
      {
        _tag: "CardChanged",
        cursor: at(2),
        card: card(2, { _tag: "Archived", reason: { _tag: "Abandoned" } }),
      },
      { _tag: "CardRemoved", cursor: at(3), id: "2_story_item_2" as Card["id"] },
    ])
    expect(s.totals).toEqual({ Done: 6, Archived: 2 })
    expect(column(s, "Done").map((c) => c.number)).toEqual([1])
  })

  it("orders Done newest first and the other columns by number; lists pending decisions", () => {
    const s = apply([
      snapshot([card(3, { _tag: "Backlog" }), card(1, { _tag: "Backlog" })], 0),
      {
        _tag: "DecisionChanged",
        cursor: at(1),
        decision: {
          _tag: "HumanQa",
          id: "d1" as never,
          storyId: "1_story_item_1" as Card["id"],
          requestedAt: 1,
        },
      },
    ])
    expect(column(s, "Backlog").map((c) => c.number)).toEqual([1, 3])
    expect(pendingDecisions(s).map((d) => d.id)).toEqual(["d1"])
  })
})
