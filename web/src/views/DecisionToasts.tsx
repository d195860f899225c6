// web/src/views/DecisionToasts.tsx — tells the person when a new decision waits: a toast on the page (a
// live region) and, while the tab is hidden and they allowed it, a desktop notification. Shown by App.
import { useEffect, useRef, useState } from "react"
import type { Decision } from "../../../src/domain/Decision.js"
import { pendingDecisions } from "../state/board.js"
import { href } from "../state/route.js"
import { useBoard } from "../state/useBoard.js"
import { describeDecision, newDecisions } from "./decisionNews.js"
import "./views.css"

/** How long a toast stays unless dismissed or answered. */
const toastMillis = 10_000

const notify = (decision: Decision, text: string) => {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return
  if (document.visibilityState !== "hidden") return
  const n = new Notification("huskies: a decision waits", { body: text, tag: decision.id })
  n.onclick = () => {
    window.focus()
    window.location.hash = href({ page: "decisions" })
    n.close()
  }
}

export const DecisionToasts = () => {
  const board = useBoard()
  // Null until the first snapshot: what is pending then is not news.
  const known = useRef<Set<string> | null>(null)
  const [toasts, setToasts] = useState<ReadonlyArray<{ readonly id: string; readonly text: string }>>([])
  const pending = pendingDecisions(board)

  useEffect(() => {
    if (board.cursor === undefined) return
    if (known.current === null) {
      known.current = new Set(pending.map((d) => d.id))
      return
    }
    const fresh = newDecisions(known.current, pending)
    if (fresh.length === 0) return
    const added = fresh.map((d) => ({ id: d.id, text: describeDecision(d) }))
    for (const [i, d] of fresh.entries()) notify(d, added[i]?.text ?? "")
    setToasts((t) => [...t, ...added].slice(-4))
    // The toasts' own timers (display only) take them away again.
    for (const { id } of added) setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), toastMillis)
  }, [board.decisions, board.cursor])

  const shown = toasts.filter((t) => pending.some((d) => d.id === t.id))
  return (
    <div className="toasts" role="status" aria-live="polite" aria-label="Notifications">
      {shown.map((t) => (
        <div key={t.id} className="toast">
          <span>{t.text}</span> <a href={href({ page: "decisions" })}>Review</a>{" "}
          <button aria-label="Dismiss" onClick={() => setToasts((all) => all.filter((x) => x.id !== t.id))}>
            ×
          </button>
        </div>
      ))}
    </div>
  )
}
