// web/src/views/AgentsPage.tsx — the agents of the project (and, later, of every node): role, runtime,
// node, status and the item each busy one works on. Read with `Agents`, again shortly after the board
// changes (an agent starting or stopping moves a card).
import { call } from "../api/client.js"
import { href } from "../state/route.js"
import { useBoard } from "../state/useBoard.js"
import { useRead } from "./hooks.js"
import type { PageProps } from "./pages.js"
import "./views.css"
import { TableHead } from "./TableHead.js"

export const AgentsPage = (_: PageProps) => {
  const { value: agents, error } = useRead(() => call((c) => c.Agents()), [], 300)
  const board = useBoard()
  return (
    <section aria-labelledby="page-title" className="page">
      <h1 id="page-title">Agents</h1>
      {error !== undefined ? (
        <p role="alert" className="problem">
          {error}
        </p>
      ) : null}
      {agents === undefined ? (
        <p className="muted">Loading…</p>
      ) : agents.length === 0 ? (
        <p className="muted">No agents are configured: add them to .huskies/agents.toml.</p>
      ) : (
        <table className="grid" aria-label="Agents">
          <TableHead columns={["Agent", "Role", "Runtime", "Node", "Status", "Working on"]} />
          <tbody>
            {agents.map((a) => {
              const card = a.storyId === undefined ? undefined : board.cards.get(a.storyId)
              return (
                <tr key={`${a.node}/${a.name}`} data-agent={a.name}>
                  <th scope="row">{a.name}</th>
                  <td>{a.role ?? ""}</td>
                  <td>{a.runtime}</td>
                  <td>{a.node}</td>
                  <td className={`status status-${a.status}`}>{a.status}</td>
                  <td>
                    {a.storyId === undefined ? (
                      ""
                    ) : (
                      <a href={href({ page: "item", id: a.storyId })}>
                        #{card?.number ?? a.storyId.split("_")[0]} {card?.name ?? ""}
                      </a>
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
