// web/src/views/item/Sections.tsx — the read-only parts of the item page: the history of stage moves,
// gate results with their output, the merge status and squash commit, and the agent sessions.
import type { MergeJob } from "../../../../src/domain/MergeJob.js"
import type { GateResult, HistoryEntry, SessionSummary } from "../../../../src/protocol/uiRpcs.js"
import { TableHead } from "../TableHead.js"

export const when = (at: number): string =>
  new Date(at).toLocaleString([], {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  })

const usd = (amount: number): string => `$${amount.toFixed(amount < 1 ? 4 : 2)}`
const count = (n: number): string => n.toLocaleString()

export const History = ({ entries }: { readonly entries: ReadonlyArray<HistoryEntry> }) => (
  <section aria-labelledby="item-history">
    <h2 id="item-history">History</h2>
    {entries.length === 0 ? (
      <p className="muted">No moves recorded.</p>
    ) : (
      <table className="item-table">
        <TableHead columns={["Time", "Move", "Event", "Reason", "By"]} />
        <tbody>
          {entries.map((e, i) => (
            <tr key={i}>
              <td>
                <time dateTime={new Date(e.at).toISOString()}>{when(e.at)}</time>
              </td>
              <td>{e.from === undefined ? e.to : `${e.from} → ${e.to}`}</td>
              <td>{e.event}</td>
              <td className="wrap">{e.reason ?? ""}</td>
              <td>{e.by ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </section>
)

export const Gates = ({ gates }: { readonly gates: ReadonlyArray<GateResult> }) => (
  <section aria-labelledby="item-gates">
    <h2 id="item-gates">Gate results</h2>
    {gates.length === 0 ? (
      <p className="muted">No gate has run.</p>
    ) : (
      gates.map((g, i) => (
        <details key={i} className={g.passed ? "gate passed" : "gate failed"}>
          <summary>
            {g.name}: <strong>{g.passed ? "passed" : "failed"}</strong> at {when(g.at)}
          </summary>
          <pre className="output" tabIndex={0} aria-label={`${g.name} output`}>
            {g.output === "" ? "(no output)" : g.output}
          </pre>
        </details>
      ))
    )}
  </section>
)

const mergeState: Record<MergeJob["state"], string> = {
  queued: "queued, waiting its turn",
  running: "being merged",
  fixing: "a mergemaster is working on what stopped the merge",
}

export const MergeStatus = ({
  job,
  commit,
}: {
  readonly job: MergeJob | undefined
  readonly commit: string | undefined
}) => (
  <section aria-labelledby="item-merge">
    <h2 id="item-merge">Merge</h2>
    {job === undefined && commit === undefined ? <p className="muted">Not in the merge queue.</p> : null}
    {job !== undefined ? (
      <dl className="facts">
        <dt>Status</dt>
        <dd>{mergeState[job.state]}</dd>
        <dt>Queued</dt>
        <dd>{when(job.enqueuedAt)}</dd>
        {job.failures !== undefined && job.failures > 0 ? (
          <>
            <dt>Failed attempts</dt>
            <dd>{job.failures}</dd>
          </>
        ) : null}
      </dl>
    ) : null}
    {job?.lastFailure !== undefined ? (
      <details>
        <summary>Why the last attempt failed</summary>
        <pre className="output">{job.lastFailure}</pre>
      </details>
    ) : null}
    {commit !== undefined ? (
      <p>
        Squash commit <code className="sha">{commit}</code>
      </p>
    ) : null}
  </section>
)

export const Sessions = ({
  sessions,
  show,
}: {
  readonly sessions: ReadonlyArray<SessionSummary>
  /** Shows a session in the terminal. */
  readonly show: (session: SessionSummary) => void
}) => {
  const total = sessions.reduce((sum, s) => sum + (s.costUsd ?? 0), 0)
  return (
    <section aria-labelledby="item-sessions">
      <h2 id="item-sessions">Sessions</h2>
      {sessions.length === 0 ? (
        <p className="muted">No agent has worked on this item yet.</p>
      ) : (
        <table className="item-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Agent</th>
              <th scope="col">Role</th>
              <th scope="col">Started</th>
              <th scope="col">Outcome</th>
              <th scope="col">Tokens in</th>
              <th scope="col">Tokens out</th>
              <th scope="col">Cost</th>
              <th scope="col">
                <span className="visually-hidden">Terminal</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={`${s.session}-${s.agent}`}>
                <td>{s.session}</td>
                <td>{s.agent}</td>
                <td>{s.role}</td>
                <td>{s.startedAt === undefined ? "" : when(s.startedAt)}</td>
                <td>{s.running ? "running" : (s.outcome ?? "")}</td>
                <td className="num">{count(s.inputTokens)}</td>
                <td className="num">{count(s.outputTokens)}</td>
                <td className="num">{s.costUsd === null ? "unknown" : usd(s.costUsd)}</td>
                <td>
                  <button
                    type="button"
                    onClick={() => show(s)}
                    aria-label={`Show session ${s.session} of ${s.agent}`}
                  >
                    Show
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={5}>
                Total
              </th>
              <td className="num">{count(sessions.reduce((n, s) => n + s.inputTokens, 0))}</td>
              <td className="num">{count(sessions.reduce((n, s) => n + s.outputTokens, 0))}</td>
              <td className="num">{usd(total)}</td>
              <td />
            </tr>
          </tfoot>
        </table>
      )}
    </section>
  )
}
