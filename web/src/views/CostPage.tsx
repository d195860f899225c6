// web/src/views/CostPage.tsx — what the agents cost, by item, agent, model or day (`Cost`, read again
// shortly after the board changes), as a bar chart and a table.
import { useState } from "react"
import type { CostReport } from "../../../src/protocol/uiRpcs.js"
import { call } from "../api/client.js"
import { BarChart } from "./BarChart.js"
import { tokens, usd } from "./format.js"
import { useRead } from "./hooks.js"
import type { PageProps } from "./pages.js"
import "./views.css"

type Group = CostReport["group"]
const groups: ReadonlyArray<{ readonly group: Group; readonly label: string }> = [
  { group: "item", label: "Item" },
  { group: "agent", label: "Agent" },
  { group: "model", label: "Model" },
  { group: "day", label: "Day" },
]
/** Bars drawn at most; the table lists every row. */
const chartRows = 25

export const CostPage = (_: PageProps) => {
  const [group, setGroup] = useState<Group>("agent")
  // A session's cost is recorded when it ends, which moves its card: the board's change is the cue.
  const { value: report, error } = useRead(() => call((c) => c.Cost({ group })), [group], 1000)
  const rows = report?.group === group ? report.rows : undefined
  const sorted =
    rows === undefined
      ? []
      : group === "day"
        ? [...rows].sort((a, b) => a.key.localeCompare(b.key))
        : [...rows].sort((a, b) => b.costUsd - a.costUsd)
  const label = groups.find((g) => g.group === group)?.label ?? group
  return (
    <section aria-labelledby="page-title" className="page">
      <h1 id="page-title">Cost</h1>
      <div className="toolbar">
        <label>
          Group by{" "}
          <select value={group} onChange={(e) => setGroup(e.target.value as Group)}>
            {groups.map((g) => (
              <option key={g.group} value={g.group}>
                {g.label}
              </option>
            ))}
          </select>
        </label>
        {report !== undefined ? (
          <span>
            Total <strong>{usd(report.totalUsd)}</strong>
          </span>
        ) : null}
      </div>
      {error !== undefined ? (
        <p role="alert" className="problem">
          {error}
        </p>
      ) : null}
      {rows === undefined ? (
        <p className="muted">Loading…</p>
      ) : sorted.length === 0 ? (
        <p className="muted">No agent session has recorded a cost yet.</p>
      ) : (
        <>
          {report !== undefined && report.totalUsd > 0 ? (
            <BarChart
              title={`Cost by ${label.toLowerCase()}`}
              bars={(group === "day" ? sorted.slice(-chartRows) : sorted.slice(0, chartRows)).map((r) => ({
                label: r.key,
                value: r.costUsd,
              }))}
              format={usd}
            />
          ) : null}
          <table className="grid" aria-label={`Cost by ${label.toLowerCase()}`}>
            <thead>
              <tr>
                <th scope="col">{label}</th>
                <th scope="col">Runs</th>
                <th scope="col">Input tokens</th>
                <th scope="col">Output tokens</th>
                <th scope="col">Cost</th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((r) => (
                <tr key={r.key}>
                  <th scope="row">{r.key}</th>
                  <td className="amount">{r.runs}</td>
                  <td className="amount">{tokens(r.inputTokens)}</td>
                  <td className="amount">{tokens(r.outputTokens)}</td>
                  <td className="amount">{usd(r.costUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  )
}
