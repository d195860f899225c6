// web/src/views/Board.tsx — the board: Backlog, Coding, QA, Merge, then Done and Archived collapsed and
// paged. Each column is a virtualised list, so a 10,000-item project renders only what is on screen.
import { useVirtualizer } from "@tanstack/react-virtual"
import { useMemo, useRef, useState } from "react"
import type { Card, PagedStage } from "../../../src/protocol/uiRpcs.js"
import { call } from "../api/client.js"
import { column, pendingDecisions } from "../state/board.js"
import { stageColumns as columns, type StageTag } from "../state/stages.js"
import { useBoard, useBoardStore } from "../state/useBoard.js"
import { CardView } from "./Card.js"

const CardList = ({
  cards,
  asking,
}: {
  readonly cards: ReadonlyArray<Card>
  readonly asking: ReadonlySet<string>
}) => {
  const parent = useRef<HTMLDivElement>(null)
  const rows = useVirtualizer({
    count: cards.length,
    getScrollElement: () => parent.current,
    estimateSize: () => 96,
    overscan: 6,
    getItemKey: (i) => cards[i]?.id ?? i,
  })
  return (
    <div ref={parent} className="card-list" role="list">
      <div style={{ height: rows.getTotalSize(), position: "relative" }}>
        {rows.getVirtualItems().map((row) => {
          const card = cards[row.index]
          return card === undefined ? null : (
            <div
              key={row.key}
              role="listitem"
              data-index={row.index}
              ref={rows.measureElement}
              className="card-slot"
              style={{ transform: `translateY(${row.start}px)` }}
            >
              <CardView card={card} asks={asking.has(card.id)} />
            </div>
          )
        })}
      </div>
    </div>
  )
}

const PagedMore = ({ stage, cards }: { readonly stage: PagedStage; readonly cards: ReadonlyArray<Card> }) => {
  const store = useBoardStore()
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const oldest = cards.at(-1)
  const more = async () => {
    setBusy(true)
    const page = await call((c) =>
      // The last card's time and id: cards of one time continue after it, none is skipped.
      c.Page({
        stage,
        limit: 50,
        ...(oldest === undefined ? {} : { before: oldest.updatedAt, beforeId: oldest.id }),
      }),
    )
    setBusy(false)
    if (!page.ok) return setError(page.error)
    store.update((s) => {
      const map = new Map(s.cards)
      for (const card of page.value) if (!map.has(card.id)) map.set(card.id, card)
      return { ...s, cards: map }
    })
  }
  return (
    <div className="more">
      <button onClick={() => void more()} disabled={busy}>
        Load older
      </button>
      {error !== undefined ? <span role="alert">{error}</span> : null}
    </div>
  )
}

const Column = ({ stage, label }: { readonly stage: StageTag; readonly label: string }) => {
  const board = useBoard()
  const cards = useMemo(() => column(board, stage), [board.cards, stage])
  const asking = useMemo(
    () => new Set(pendingDecisions(board).flatMap((d) => (d.storyId === undefined ? [] : [d.storyId]))),
    [board.decisions],
  )
  const paged = stage === "Done" || stage === "Archived"
  const [open, setOpen] = useState(!paged)
  const total = paged ? board.totals[stage] : cards.length
  const id = `col-${stage}`
  return (
    <section className={`column ${open ? "open" : "collapsed"}`} aria-labelledby={id} data-stage={stage}>
      <h2 id={id}>
        {paged ? (
          <button aria-expanded={open} onClick={() => setOpen(!open)} className="col-toggle">
            {label} <span className="count">{total}</span>
          </button>
        ) : (
          <>
            {label} <span className="count">{total}</span>
          </>
        )}
      </h2>
      {open ? <CardList cards={cards} asking={asking} /> : null}
      {open && paged && cards.length < total ? <PagedMore stage={stage} cards={cards} /> : null}
    </section>
  )
}

export const BoardView = () => (
  <div className="board" aria-label="Board">
    {columns.map((c) => (
      <Column key={c.stage} stage={c.stage} label={c.label} />
    ))}
  </div>
)
