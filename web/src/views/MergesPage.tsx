// web/src/views/MergesPage.tsx — the merge queue, live from the board feed: each job's state, the step
// of the merge running now (or why a job waits alone), failures handed to the mergemaster, and why merges
// wait when they are paused.
import type { MergeJob } from "../../../src/domain/MergeJob.js"
import type { MergeWaiting } from "../../../src/protocol/uiRpcs.js"
import { href } from "../state/route.js"
import { useBoard } from "../state/useBoard.js"
import { ago, dateTime } from "./format.js"
import { useNow } from "./hooks.js"
import type { PageProps } from "./pages.js"
import "./views.css"
import { TableHead } from "./TableHead.js"

const stateText: Record<MergeJob["state"], string> = {
  queued: "queued",
  running: "merging",
  fixing: "mergemaster fixing",
}

/** Why the job waits alone, if it does: shown where a running merge shows its step. */
const waitText = (waiting: ReadonlyArray<MergeWaiting>, storyId: string): string => {
  const w = waiting.find((x) => x.storyId === storyId)
  return w === undefined ? "" : `waits since ${dateTime(w.since)}: ${w.why}`
}

export const MergesPage = (_: PageProps) => {
  const board = useBoard()
  const { mergeQueue: jobs, mergeCurrent: current, mergePaused: paused, mergeWaiting: waiting } = board
  // Refreshes the "since" texts only; the queue itself arrives with the board feed.
  const now = useNow(10_000, current !== undefined || paused !== undefined)
  return (
    <section aria-labelledby="page-title" className="page">
      <h1 id="page-title">Merge queue</h1>
      {paused !== undefined ? (
        <div role="alert" className="notice">
          Merges are paused since {dateTime(paused.since)}: {paused.why}
        </div>
      ) : null}
      {current !== undefined ? (
        <p role="status" aria-live="polite">
          Merging <a href={href({ page: "item", id: current.storyId })}>#{current.storyId.split("_")[0]}</a>:{" "}
          <strong>{current.step}</strong> <span className="muted">({ago(now - current.since)})</span>
        </p>
      ) : null}
      {jobs.length === 0 ? (
        <p className="muted">The merge queue is empty.</p>
      ) : (
        <table className="grid" aria-label="Merge queue">
          <TableHead columns={["#", "Item", "State", "Step", "Queued", "Failures", "Last failure"]} />
          <tbody>
            {jobs.map((job, i) => {
              const card = board.cards.get(job.storyId)
              return (
                <tr key={job.storyId} data-story={job.storyId}>
                  <td>{i + 1}</td>
                  <th scope="row">
                    <a href={href({ page: "item", id: job.storyId })}>
                      #{card?.number ?? job.storyId.split("_")[0]} {card?.name ?? job.storyId}
                    </a>
                  </th>
                  <td className={`job job-${job.state}`}>{stateText[job.state]}</td>
                  <td>{current?.storyId === job.storyId ? current.step : waitText(waiting, job.storyId)}</td>
                  <td>{dateTime(job.enqueuedAt)}</td>
                  <td>{job.failures ?? 0}</td>
                  <td>
                    {job.lastFailure === undefined ? (
                      ""
                    ) : (
                      <details>
                        <summary>{job.lastFailure.split("\n")[0]?.slice(0, 80)}</summary>
                        <pre className="json">{job.lastFailure}</pre>
                      </details>
                    )}
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      )}
    </section>
  )
}
