// web/src/views/item/DepGraph.tsx — the item's dependency links (met or not) and, when opened, an SVG
// of the board's dependency graph drawn from the board store, with this item highlighted. The layout is
// computed only while the graph is open, and again only when the board's cards change.
import { useMemo, useState } from "react"
import type { Card } from "../../../../src/protocol/uiRpcs.js"
import { href } from "../../state/route.js"
import { useBoard } from "../../state/useBoard.js"
import { layoutGraph, nodeSize } from "./depGraph.js"

const numberOf = (id: string): string => /^(\d+)_/.exec(id)?.[1] ?? id

export const Dependencies = ({ id, card }: { readonly id: string; readonly card: Card }) => {
  const { cards } = useBoard()
  const [open, setOpen] = useState(false)
  return (
    <section aria-labelledby="item-deps">
      <h2 id="item-deps">Dependencies</h2>
      {card.dependsOn.length === 0 ? (
        <p className="muted">Depends on nothing.</p>
      ) : (
        <ul className="dep-links">
          {card.dependsOn.map((d) => (
            <li key={d.id} className={d.met ? "met" : "unmet"}>
              <a href={href({ page: "item", id: d.id })}>
                #{numberOf(d.id)} {cards.get(d.id)?.name ?? d.id.replace(/^\d+_\w+?_/, "")}
              </a>{" "}
              <span className="dep-state">{d.met ? "met" : "not met"}</span>
            </li>
          ))}
        </ul>
      )}
      <details onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>Dependency graph</summary>
        {open ? <Graph id={id} /> : null}
      </details>
    </section>
  )
}

const Graph = ({ id }: { readonly id: string }) => {
  const { cards } = useBoard()
  const [scope, setScope] = useState<"related" | "all">("related")
  const layout = useMemo(() => layoutGraph(cards.values(), id, scope), [cards, id, scope])
  const label = (text: string) => (text.length > 18 ? `${text.slice(0, 17)}…` : text)
  return (
    <div className="dep-graph">
      <label>
        <input
          type="checkbox"
          checked={scope === "all"}
          onChange={(e) => setScope(e.target.checked ? "all" : "related")}
        />{" "}
        Whole board
      </label>
      {layout.omitted > 0 ? (
        <p className="muted">{layout.omitted} more items are not drawn; the nearest to this one are.</p>
      ) : null}
      <div className="dep-graph-scroll">
        <svg
          width={layout.width}
          height={layout.height}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          role="group"
          aria-label="Dependency graph"
        >
          <defs>
            <marker
              id="dep-arrow"
              viewBox="0 0 8 8"
              refX="8"
              refY="4"
              markerUnits="userSpaceOnUse"
              markerWidth="8"
              markerHeight="8"
              orient="auto"
            >
              <path d="M 0 0 L 8 4 L 0 8 z" className="dep-arrow" />
            </marker>
          </defs>
          {layout.columns.map((c) => (
            <text key={c.column} x={c.x} y={14} className="dep-col">
              {c.label}
            </text>
          ))}
          {layout.edges.map((e) => (
            <path
              key={`${e.from}>${e.to}`}
              d={e.path}
              className={`dep-edge ${e.met ? "met" : "unmet"}${e.focus ? " focus" : ""}`}
              markerEnd="url(#dep-arrow)"
            />
          ))}
          {layout.nodes.map((n) => (
            <a key={n.id} href={href({ page: "item", id: n.id })} aria-label={`${n.number} ${n.name}`}>
              <title>{`#${n.number} ${n.name} (${n.column})`}</title>
              <rect
                x={n.x}
                y={n.y}
                width={nodeSize.width}
                height={nodeSize.height}
                rx={5}
                className={`dep-node${n.focus ? " focus" : ""}`}
                aria-current={n.focus ? "page" : undefined}
              />
              <text x={n.x + 6} y={n.y + 17} className="dep-label">
                #{n.number} {label(n.name)}
              </text>
            </a>
          ))}
        </svg>
      </div>
    </div>
  )
}
