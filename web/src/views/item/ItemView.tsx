// web/src/views/item/ItemView.tsx — one item's page (#/item/<id>), loaded lazily by ItemPage. It reads
// `Item` when it opens and again whenever the board store's card for it changes (no timer), and lays out
// the actions, text, criteria, dependencies, terminal, sessions, history, gates and merge status.
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react"
import type { Stage } from "../../../../src/domain/Stage.js"
import type { StoryId } from "../../../../src/domain/StoryId.js"
import type { ItemDetail, SessionSummary } from "../../../../src/protocol/uiRpcs.js"
import { call } from "../../api/client.js"
import { href } from "../../state/route.js"
import { useBoard } from "../../state/useBoard.js"
import { Actions } from "./Actions.js"
import { Criteria, Text } from "./Body.js"
import { Dependencies } from "./DepGraph.js"
import "./item.css"
import { Gates, History, MergeStatus, Sessions, when } from "./Sections.js"
import { splitStoryText } from "./storyText.js"

// xterm and its stylesheet load only when an item page shows a terminal.
const Terminal = lazy(() => import("../Terminal.js").then((m) => ({ default: m.Terminal })))

type Load =
  | { readonly _tag: "loading" }
  | { readonly _tag: "loaded"; readonly detail: ItemDetail }
  | { readonly _tag: "failed"; readonly message: string; readonly detail: ItemDetail | undefined }

export const describeStage = (stage: Stage): string => {
  switch (stage._tag) {
    case "Backlog":
    case "Coding":
      return stage._tag
    case "Qa":
      return "QA"
    case "Merge":
      return `Merge (${stage.featureBranch}, ${stage.commitsAhead} commit${stage.commitsAhead === 1 ? "" : "s"} ahead)`
    case "Done":
      return `Done (merged ${when(stage.mergedAt)})`
    case "Archived": {
      const r = stage.reason
      const why =
        r._tag === "Blocked" || r._tag === "MergeFailed"
          ? `: ${r.why}`
          : r._tag === "Superseded"
            ? ` by ${r.by}`
            : ""
      return `Archived (${r._tag}${why})`
    }
  }
}

const numberOf = (id: string): number => Number(/^(\d+)_/.exec(id)?.[1] ?? 0)

export default function ItemView({ id }: { readonly id: string }) {
  const board = useBoard()
  const card = board.cards.get(id)
  const [load, setLoad] = useState<Load>({ _tag: "loading" })
  const [shown, setShown] = useState<SessionSummary>()
  // Replies can arrive out of order; only the latest request's answer is kept.
  const latest = useRef(0)

  const fetchItem = useCallback(() => {
    const request = ++latest.current
    void call((c) => c.Item({ id: id as StoryId })).then((outcome) => {
      if (request !== latest.current) return
      setLoad((before) => {
        if (outcome.ok) return { _tag: "loaded", detail: outcome.value }
        const detail = before._tag === "loading" ? undefined : before.detail
        return { _tag: "failed", message: outcome.error, detail }
      })
    })
  }, [id])

  // The card is replaced in the store whenever the item changes (or the board is resent): read it again.
  useEffect(fetchItem, [fetchItem, card])

  const detail = load._tag === "loading" ? undefined : load.detail
  const text = useMemo(() => (detail === undefined ? undefined : splitStoryText(detail.content)), [detail])
  const number = card?.number ?? detail?.card.number ?? numberOf(id)

  if (detail === undefined || text === undefined) {
    return (
      <article className="item-page" aria-label={`Item ${number}`}>
        <p>
          <a href={href({ page: "board" })}>← Board</a>
        </p>
        <h1>Item {number}</h1>
        {load._tag === "failed" ? <p role="alert">{load.message}</p> : <p role="status">Loading…</p>}
      </article>
    )
  }
  // The board's card is the newer when it has moved on since the read.
  const shownCard = card !== undefined && card.updatedAt >= detail.card.updatedAt ? card : detail.card
  const storyId = detail.item.id
  return (
    <article className="item-page" aria-label={`Item ${number}`}>
      <p>
        <a href={href({ page: "board" })}>← Board</a>
      </p>
      <header className="item-head">
        <h1>
          <span className="num">#{number}</span> {shownCard.name}
        </h1>
        <p className="item-meta">
          <span className={`kind kind-${shownCard.kind}`}>{shownCard.kind}</span>{" "}
          <span className="stage">{describeStage(shownCard.stage)}</span>
          {shownCard.assignedAgent !== undefined ? <span> · agent {shownCard.assignedAgent}</span> : null}
          {shownCard.attempts > 0 ? <span> · attempt {shownCard.attempts + 1}</span> : null}
          {shownCard.costUsd > 0 ? <span> · ${shownCard.costUsd.toFixed(2)}</span> : null}
          {shownCard.timers.map((t) => (
            <span key={t.id}>
              {" "}
              · {t.kind === "start" ? "starts" : "retries"} {when(t.at)}
            </span>
          ))}
        </p>
        {card === undefined && board.connection === "live" && !isPaged(detail.card.stage) ? (
          <p role="status">This item is no longer on the board.</p>
        ) : null}
        {load._tag === "failed" ? <p role="alert">{load.message}</p> : null}
        {shownCard.feedback !== undefined ? (
          <details className="feedback">
            <summary>Feedback for the next attempt</summary>
            <pre className="output">{shownCard.feedback}</pre>
          </details>
        ) : null}
      </header>
      <Actions
        id={storyId}
        number={number}
        name={shownCard.name}
        stage={shownCard.stage._tag}
        changed={fetchItem}
      />
      <div className="item-columns">
        <div>
          <Text id={storyId} content={detail.content} text={text} changed={fetchItem} />
          <Criteria id={storyId} text={text} changed={fetchItem} />
          <Dependencies id={storyId} card={shownCard} />
        </div>
        <div>
          <section aria-labelledby="item-terminal" className="item-terminal">
            <h2 id="item-terminal">Terminal</h2>
            <Suspense fallback={<p role="status">Loading the terminal…</p>}>
              <Terminal
                id={storyId}
                sessions={detail.sessions}
                {...(shown === undefined ? {} : { session: shown.session })}
              />
            </Suspense>
          </section>
          <Sessions
            sessions={detail.sessions}
            show={(session) => {
              setShown(session)
              document.getElementById("item-terminal")?.scrollIntoView({ block: "start" })
            }}
          />
        </div>
      </div>
      <History entries={detail.history} />
      <Gates gates={detail.gates} />
      <MergeStatus job={detail.mergeJob} commit={detail.mergeCommit} />
    </article>
  )
}

const isPaged = (stage: Stage): boolean => stage._tag === "Done" || stage._tag === "Archived"
