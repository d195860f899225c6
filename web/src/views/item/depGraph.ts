// web/src/views/item/depGraph.ts — lays out the board's dependency graph for the item page: one column
// per stage (items the board has not loaded in a last column), items by number, an edge from each
// dependency to the item that waits for it. Pure; DepGraph.tsx draws the result as SVG.
import { stageColumns } from "../../state/stages.js"

export interface GraphCard {
  readonly id: string
  readonly number: number
  readonly name: string
  readonly stage: { readonly _tag: string }
  readonly dependsOn: ReadonlyArray<{ readonly id: string; readonly met: boolean }>
}

export interface GraphNode {
  readonly id: string
  readonly number: number
  readonly name: string
  /** The stage tag, or "Elsewhere" for an item the board does not hold (paged out or deleted). */
  readonly column: string
  readonly x: number
  readonly y: number
  readonly focus: boolean
}

export interface GraphEdge {
  /** The dependency. */
  readonly from: string
  /** The item that depends on it. */
  readonly to: string
  readonly met: boolean
  /** Touches the focused item. */
  readonly focus: boolean
  /** An SVG path from the dependency to the item. */
  readonly path: string
}

export interface GraphColumn {
  readonly column: string
  readonly label: string
  readonly x: number
}

export interface GraphLayout {
  readonly columns: ReadonlyArray<GraphColumn>
  readonly nodes: ReadonlyArray<GraphNode>
  readonly edges: ReadonlyArray<GraphEdge>
  readonly width: number
  readonly height: number
  /** Items left out to keep the drawing readable (the nearest to the focus are kept). */
  readonly omitted: number
}

export const graphColumns: ReadonlyArray<{ readonly column: string; readonly label: string }> = [
  ...stageColumns.map(({ stage, label }) => ({ column: stage, label })),
  { column: "Elsewhere", label: "Not on the board" },
]

export const nodeSize = { width: 140, height: 26 } as const
const gap = { x: 60, y: 10 } as const
const pad = 8
const header = 26

const numberOf = (id: string): number => Number(/^(\d+)_/.exec(id)?.[1] ?? 0)

/**
 * The layout of the items related to `focus` (its dependencies and dependents, transitively), or with
 * `scope: "all"` of every item that has a dependency or a dependent. At most `maxNodes` items are
 * drawn: the focus and those fewest edges away from it first.
 */
export const layoutGraph = (
  cards: Iterable<GraphCard>,
  focus: string,
  scope: "related" | "all",
  maxNodes = 300,
): GraphLayout => {
  const byId = new Map<string, GraphCard>()
  const edges: Array<{ from: string; to: string; met: boolean }> = []
  const neighbours = new Map<string, Array<string>>()
  const link = (a: string, b: string) => {
    const list = neighbours.get(a)
    if (list === undefined) neighbours.set(a, [b])
    else list.push(b)
  }
  for (const card of cards) {
    byId.set(card.id, card)
    for (const dep of card.dependsOn) {
      edges.push({ from: dep.id, to: card.id, met: dep.met })
      link(dep.id, card.id)
      link(card.id, dep.id)
    }
  }
  // Breadth first from the focus, so a cut keeps what is nearest; then (for "all") the rest by number.
  const order: Array<string> = [focus]
  const seen = new Set(order)
  for (let i = 0; i < order.length; i++) {
    for (const next of neighbours.get(order[i]!) ?? []) {
      if (seen.has(next)) continue
      seen.add(next)
      order.push(next)
    }
  }
  if (scope === "all") {
    const rest = [...neighbours.keys()].filter((id) => !seen.has(id))
    rest.sort((a, b) => numberOf(a) - numberOf(b))
    order.push(...rest)
  }
  const kept = new Set(order.slice(0, maxNodes))

  const byColumn = new Map<string, Array<string>>()
  const columnOf = (id: string): string => byId.get(id)?.stage._tag ?? "Elsewhere"
  for (const id of kept) {
    const column = columnOf(id)
    const list = byColumn.get(column)
    if (list === undefined) byColumn.set(column, [id])
    else list.push(id)
  }
  const columns: Array<GraphColumn> = []
  const place = new Map<string, GraphNode>()
  let height = header
  for (const { column, label } of graphColumns) {
    const ids = byColumn.get(column)
    if (ids === undefined) continue
    const x = pad + columns.length * (nodeSize.width + gap.x)
    columns.push({ column, label, x })
    ids.sort((a, b) => numberOf(a) - numberOf(b))
    ids.forEach((id, row) => {
      const card = byId.get(id)
      const y = header + row * (nodeSize.height + gap.y)
      place.set(id, {
        id,
        number: card?.number ?? numberOf(id),
        name: card?.name ?? id,
        column,
        x,
        y,
        focus: id === focus,
      })
      height = Math.max(height, y + nodeSize.height)
    })
  }
  const drawn: Array<GraphEdge> = []
  for (const e of edges) {
    const from = place.get(e.from)
    const to = place.get(e.to)
    if (from === undefined || to === undefined) continue
    drawn.push({ ...e, focus: e.from === focus || e.to === focus, path: edgePath(from, to) })
  }
  return {
    columns,
    nodes: [...place.values()],
    edges: drawn,
    width: pad * 2 + Math.max(1, columns.length) * nodeSize.width + Math.max(0, columns.length - 1) * gap.x,
    height: height + pad,
    omitted: order.length - kept.size,
  }
}

/** A curve from the side of `from` that faces `to`; within one column it loops out to the right. */
const edgePath = (from: GraphNode, to: GraphNode): string => {
  const fy = from.y + nodeSize.height / 2
  const ty = to.y + nodeSize.height / 2
  if (from.x === to.x) {
    const x = from.x + nodeSize.width
    const bend = x + Math.min(gap.x - 10, 20 + Math.abs(ty - fy) / 8)
    return `M ${x} ${fy} C ${bend} ${fy}, ${bend} ${ty}, ${x} ${ty}`
  }
  const rightward = from.x < to.x
  const fx = rightward ? from.x + nodeSize.width : from.x
  const tx = rightward ? to.x : to.x + nodeSize.width
  const mid = (fx + tx) / 2
  return `M ${fx} ${fy} C ${mid} ${fy}, ${mid} ${ty}, ${tx} ${ty}`
}
