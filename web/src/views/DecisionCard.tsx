// web/src/views/DecisionCard.tsx — one pending decision, answerable: a permission request (agent, item,
// tool, its input, time left) with Approve/Deny, or a human QA with Approve/Reject (a rejection needs
// notes). Used by DecisionsPage.tsx.
import { useState } from "react"
import type { Decision, Verdict } from "../../../src/domain/Decision.js"
import { call } from "../api/client.js"
import { href } from "../state/route.js"
import { useBoard } from "../state/useBoard.js"
import { clock, timeLeft } from "./format.js"

type Permission = Extract<Decision, { _tag: "Permission" }>
type HumanQa = Extract<Decision, { _tag: "HumanQa" }>

const ItemLink = ({ id }: { readonly id: string | undefined }) => {
  const card = useBoard().cards.get(id ?? "")
  if (id === undefined) return <>(no item)</>
  return (
    <a href={href({ page: "item", id })}>
      #{card?.number ?? id.split("_")[0]} {card?.name ?? id}
    </a>
  )
}

/** Sends one verdict; the decision leaves the pending list when the board says it was answered. */
const useAnswer = (decision: Decision) => {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()
  const answer = async (verdict: Verdict, note?: string) => {
    setBusy(true)
    setError(undefined)
    const result = await call((c) =>
      c.Answer({ id: decision.id, verdict, ...(note === undefined || note === "" ? {} : { note }) }),
    )
    setBusy(false)
    if (!result.ok) setError(result.error)
  }
  return { busy, error, answer }
}

const Problem = ({ error }: { readonly error: string | undefined }) =>
  error === undefined ? null : (
    <p role="alert" className="problem">
      {error}
    </p>
  )

const PermissionCard = ({ decision, now }: { readonly decision: Permission; readonly now: number }) => {
  const { busy, error, answer } = useAnswer(decision)
  const input = JSON.stringify(decision.input, null, 2)
  const left = decision.expiresAt - now
  return (
    <article
      className="decision"
      aria-label={`Permission: ${decision.toolName}${decision.agent === undefined ? "" : ` by ${decision.agent}`}`}
      data-decision={decision.id}
    >
      <h3>
        Permission · <code>{decision.toolName}</code>
      </h3>
      <dl className="facts">
        <dt>Agent</dt>
        <dd>{decision.agent ?? "unknown"}</dd>
        <dt>Item</dt>
        <dd>
          <ItemLink id={decision.storyId} />
        </dd>
        <dt>Asked at</dt>
        <dd>{clock(decision.requestedAt)}</dd>
        <dt>Time left</dt>
        <dd>
          <span role="timer" aria-live="off" className={left < 30_000 ? "urgent" : undefined}>
            {timeLeft(left)}
          </span>{" "}
          <span className="muted">(denied when it runs out)</span>
        </dd>
      </dl>
      <details open={input.split("\n").length <= 12}>
        <summary>Input</summary>
        <pre className="json">{input}</pre>
      </details>
      <div className="actions">
        <button className="primary" disabled={busy} onClick={() => void answer("allow")}>
          Approve
        </button>
        <button disabled={busy} onClick={() => void answer("deny")}>
          Deny
        </button>
      </div>
      <Problem error={error} />
    </article>
  )
}

const HumanQaCard = ({ decision }: { readonly decision: HumanQa }) => {
  const { busy, error, answer } = useAnswer(decision)
  const [notes, setNotes] = useState("")
  const [missing, setMissing] = useState(false)
  const card = useBoard().cards.get(decision.storyId)
  const notesId = `notes-${decision.id}`
  const reject = () => {
    if (notes.trim() === "") return setMissing(true)
    setMissing(false)
    void answer("reject", notes.trim())
  }
  return (
    <article
      className="decision"
      aria-label={`Human QA: #${card?.number ?? decision.storyId.split("_")[0]} ${card?.name ?? ""}`.trim()}
      data-decision={decision.id}
    >
      <h3>
        Human QA · <ItemLink id={decision.storyId} />
      </h3>
      <p className="muted">
        Waiting since {clock(decision.requestedAt)}. Approve to merge it; reject with notes to send it back to
        the coder.
      </p>
      <label htmlFor={notesId}>Notes (required to reject)</label>
      <textarea
        id={notesId}
        rows={3}
        value={notes}
        aria-invalid={missing}
        onChange={(e) => {
          setNotes(e.target.value)
          if (e.target.value.trim() !== "") setMissing(false)
        }}
      />
      {missing ? (
        <p role="alert" className="problem">
          Write what must change before rejecting.
        </p>
      ) : null}
      <div className="actions">
        <button className="primary" disabled={busy} onClick={() => void answer("approve", notes.trim())}>
          Approve
        </button>
        <button disabled={busy} onClick={reject}>
          Reject
        </button>
      </div>
      <Problem error={error} />
    </article>
  )
}

export const DecisionCard = ({ decision, now }: { readonly decision: Decision; readonly now: number }) =>
  decision._tag === "Permission" ? (
    <PermissionCard decision={decision} now={now} />
  ) : (
    <HumanQaCard decision={decision} />
  )
