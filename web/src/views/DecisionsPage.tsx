// web/src/views/DecisionsPage.tsx — the decisions a person owes: pending permission requests and human
// QA, live from the board feed (DecisionChanged), answerable here; then the recent answers.
import { useState } from "react"
import type { Decision } from "../../../src/domain/Decision.js"
import { pendingDecisions } from "../state/board.js"
import { href } from "../state/route.js"
import { useBoard } from "../state/useBoard.js"
import { DecisionCard } from "./DecisionCard.js"
import { dateTime } from "./format.js"
import { useNow } from "./hooks.js"
import type { PageProps } from "./pages.js"
import "./views.css"
import { TableHead } from "./TableHead.js"

/** How many answered decisions the page lists. */
const recentShown = 30

const NotificationToggle = () => {
  const supported = typeof Notification !== "undefined"
  const [permission, setPermission] = useState(supported ? Notification.permission : "denied")
  if (!supported) return null
  if (permission === "granted")
    return <p className="muted">Desktop notifications are on while this tab is in the background.</p>
  if (permission === "denied")
    return <p className="muted">Desktop notifications are blocked in this browser's site settings.</p>
  return (
    <p>
      <button onClick={() => void Notification.requestPermission().then(setPermission)}>
        Enable desktop notifications
      </button>
    </p>
  )
}

const what = (d: Decision): string => (d._tag === "Permission" ? `permission: ${d.toolName}` : "human QA")

const Answered = ({ decisions }: { readonly decisions: ReadonlyArray<Decision> }) => (
  <table className="grid" aria-label="Recently answered decisions">
    <TableHead columns={["Decision", "Item", "Agent", "Verdict", "By", "When", "Note"]} />
    <tbody>
      {decisions.map((d) => (
        <tr key={d.id} data-decision={d.id}>
          <td>{what(d)}</td>
          <td>
            {d.storyId === undefined ? (
              ""
            ) : (
              <a href={href({ page: "item", id: d.storyId })}>#{d.storyId.split("_")[0]}</a>
            )}
          </td>
          <td>{d._tag === "Permission" ? (d.agent ?? "") : ""}</td>
          <td className={`verdict verdict-${d.answer?.verdict ?? ""}`}>{d.answer?.verdict}</td>
          <td>{d.answer?.by}</td>
          <td>{d.answer === undefined ? "" : dateTime(d.answer.at)}</td>
          <td>{d.answer?.note ?? ""}</td>
        </tr>
      ))}
    </tbody>
  </table>
)

export const DecisionsPage = (_: PageProps) => {
  const board = useBoard()
  const pending = pendingDecisions(board).sort((a, b) => a.requestedAt - b.requestedAt)
  const answered = [...board.decisions.values()]
    .filter((d) => d.answer !== undefined)
    .sort((a, b) => (b.answer?.at ?? 0) - (a.answer?.at ?? 0))
    .slice(0, recentShown)
  // A ticking clock for the countdowns only while a permission request can run out.
  const now = useNow(
    1000,
    pending.some((d) => d._tag === "Permission"),
  )
  return (
    <section aria-labelledby="page-title" className="page">
      <h1 id="page-title">Decisions</h1>
      <NotificationToggle />
      <h2 id="pending-title">
        Pending <span className="count">{pending.length}</span>
      </h2>
      {pending.length === 0 ? (
        <p className="muted">Nothing waits for you.</p>
      ) : (
        <ul className="decisions" aria-labelledby="pending-title">
          {pending.map((d) => (
            <li key={d.id}>
              <DecisionCard decision={d} now={now} />
            </li>
          ))}
        </ul>
      )}
      <h2>Recently answered</h2>
      {answered.length === 0 ? <p className="muted">No answers yet.</p> : <Answered decisions={answered} />}
    </section>
  )
}
