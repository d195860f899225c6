// web/src/views/Card.tsx — one board card: number, name, kind, criteria progress, dependencies (met or
// not), the agent and node working on it, cost so far, and any timer or rate limit with its time.
import { memo } from "react"
import type { Card } from "../../../src/protocol/uiRpcs.js"
import { href } from "../state/route.js"

const time = (ms: number): string =>
  new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })

const working = (card: Card) => {
  for (const [node, state] of Object.entries(card.execution)) {
    if (state._tag === "Running") return { node, text: `${state.agent} (${state.role})` }
    if (state._tag === "RateLimited") return { node, text: `rate limited until ${time(state.resetAt)}` }
    if (state._tag === "Pending") return { node, text: "starting" }
  }
  return undefined
}

const archivedWhy = (card: Card): string | undefined => {
  if (card.stage._tag !== "Archived") return undefined
  const r = card.stage.reason
  return r._tag === "Blocked" || r._tag === "MergeFailed" ? `${r._tag}: ${r.why}` : r._tag
}

/** A node id is a uuid: its first group tells nodes apart on a board; the title has it whole. */
const shortNode = (node: string): string => node.replace(/^(node-[0-9a-f]{8}).*$/, "$1")

export const CardView = memo(({ card, asks }: { readonly card: Card; readonly asks: boolean }) => {
  const agent = working(card)
  const why = archivedWhy(card)
  const { done, total } = card.criteria
  return (
    <article
      className={`card kind-${card.kind}`}
      aria-label={`${card.number} ${card.name}`}
      data-id={card.id}
    >
      <a className="card-title" href={href({ page: "item", id: card.id })}>
        <span className="num">#{card.number}</span> {card.name}
      </a>
      <div className="card-meta">
        <span className="kind">{card.kind}</span>
        {total > 0 ? (
          <span className="criteria" title="acceptance criteria done">
            <progress max={total} value={done} aria-label={`${done} of ${total} criteria done`} /> {done}/
            {total}
          </span>
        ) : null}
        {card.costUsd > 0 ? <span className="cost">${card.costUsd.toFixed(2)}</span> : null}
      </div>
      {card.dependsOn.length > 0 ? (
        <div className="deps">
          depends on{" "}
          {card.dependsOn.map((d) => (
            <span key={d.id} className={d.met ? "dep met" : "dep unmet"} title={d.met ? "met" : "not met"}>
              {d.id.split("_")[0]}
              {d.met ? " ✓" : " …"}
            </span>
          ))}
        </div>
      ) : null}
      {agent !== undefined ? (
        <div className="agent">
          {agent.text}{" "}
          <span className="node" title={agent.node}>
            on {shortNode(agent.node)}
          </span>
        </div>
      ) : card.assignedAgent !== undefined ? (
        <div className="agent assigned">agent {card.assignedAgent}</div>
      ) : null}
      {card.timers.map((t) => (
        <div key={t.id} className="timer" title={t.note}>
          {t.kind === "start" ? "starts" : "retries"} at {time(t.at)}
        </div>
      ))}
      {asks ? (
        <a className="asks" href={href({ page: "decisions" })}>
          waits for your decision
        </a>
      ) : null}
      {why !== undefined ? <div className="why">{why}</div> : null}
    </article>
  )
})
