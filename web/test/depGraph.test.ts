// web/test/depGraph.test.ts — the item page's dependency graph layout: which items it draws, their
// columns and order, the edges and the highlight of the item the page shows.
import { describe, expect, it } from "vitest"
import { type GraphCard, layoutGraph, nodeSize } from "../src/views/item/depGraph.js"

const card = (n: number, stage: string, deps: ReadonlyArray<readonly [number, boolean]> = []): GraphCard => ({
  id: `${n}_story_s${n}`,
  number: n,
  name: `item ${n}`,
  stage: { _tag: stage },
  dependsOn: deps.map(([d, met]) => ({ id: `${d}_story_s${d}`, met })),
})

// 3 waits for 1 (done) and 2 (coding); 4 waits for 3; 5 and 6 form another chain; 7 stands alone.
const board = [
  card(1, "Done"),
  card(2, "Coding"),
  card(3, "Backlog", [
    [1, true],
    [2, false],
  ]),
  card(4, "Backlog", [[3, false]]),
  card(5, "Qa"),
  card(6, "Backlog", [[5, false]]),
  card(7, "Backlog"),
]

describe("layoutGraph", () => {
  it("draws the items connected to the focus, by stage column, and highlights the focus", () => {
    const layout = layoutGraph(board, "3_story_s3", "related")
    expect(layout.nodes.map((n) => n.number).sort()).toEqual([1, 2, 3, 4])
    expect(layout.columns.map((c) => c.column)).toEqual(["Backlog", "Coding", "Done"])
    const at = new Map(layout.nodes.map((n) => [n.number, n]))
    expect(at.get(3)?.focus).toBe(true)
    expect(at.get(4)?.focus).toBe(false)
    // Same column, ordered by number; later columns to the right.
    expect(at.get(3)?.x).toBe(at.get(4)?.x)
    expect(at.get(3)!.y).toBeLessThan(at.get(4)!.y)
    expect(at.get(2)!.x).toBeGreaterThan(at.get(3)!.x)
    expect(at.get(1)!.x).toBeGreaterThan(at.get(2)!.x)
    expect(layout.edges.map((e) => [e.from, e.to, e.met, e.focus])).toEqual([
      ["1_story_s1", "3_story_s3", true, true],
      ["2_story_s2", "3_story_s3", false, true],
      ["3_story_s3", "4_story_s4", false, true],
    ])
    expect(layout.omitted).toBe(0)
  })

  it("draws every item with a dependency or a dependent on the whole board, never the unrelated ones", () => {
    const layout = layoutGraph(board, "3_story_s3", "all")
    expect(layout.nodes.map((n) => n.number).sort()).toEqual([1, 2, 3, 4, 5, 6])
    expect(layout.edges).toHaveLength(4)
    expect(layout.edges.filter((e) => e.focus)).toHaveLength(3)
  })

  it("puts a dependency the board does not hold in its own column", () => {
    const layout = layoutGraph([card(9, "Backlog", [[8, true]])], "9_story_s9", "related")
    const missing = layout.nodes.find((n) => n.id === "8_story_s8")
    expect(missing).toMatchObject({ column: "Elsewhere", number: 8 })
    expect(layout.columns.map((c) => c.label)).toEqual(["Backlog", "Not on the board"])
  })

  it("shows an item without dependencies alone", () => {
    const layout = layoutGraph(board, "7_story_s7", "related")
    expect(layout.nodes.map((n) => n.number)).toEqual([7])
    expect(layout.edges).toEqual([])
  })

  it("keeps the items nearest the focus when there are more than it draws", () => {
    // A chain 1 <- 2 <- ... <- 50; focus on 25, draw 5: 25 and the two nearest on each side.
    const chain = Array.from({ length: 50 }, (_, i) => card(i + 1, "Backlog", i === 0 ? [] : [[i, false]]))
    const layout = layoutGraph(chain, "25_story_s25", "related", 5)
    expect(layout.nodes.map((n) => n.number).sort((a, b) => a - b)).toEqual([23, 24, 25, 26, 27])
    expect(layout.omitted).toBe(45)
    expect(layout.edges).toHaveLength(4)
  })

  it("sizes the drawing to hold every node", () => {
    const layout = layoutGraph(board, "3_story_s3", "all")
    for (const n of layout.nodes) {
      expect(n.x + nodeSize.width).toBeLessThanOrEqual(layout.width)
      expect(n.y + nodeSize.height).toBeLessThanOrEqual(layout.height)
    }
  })

  it("routes an edge out of the side that faces its target", () => {
    const layout = layoutGraph(board, "3_story_s3", "related")
    const at = new Map(layout.nodes.map((n) => [n.id, n]))
    // 2 (Coding) is right of 3 (Backlog): its edge leaves 2's left side and ends at 3's right side.
    const edge = layout.edges.find((e) => e.from === "2_story_s2")!
    const [, x1, , , , , , , x2] = edge.path.split(/[ ,]+/)
    expect(Number(x1)).toBe(at.get("2_story_s2")!.x)
    expect(Number(x2)).toBe(at.get("3_story_s3")!.x + nodeSize.width)
  })
})
