// web/src/App.tsx — the shell: header (project, connection, pending decisions), navigation, and the
// page the URL hash names. Pages live in views/.
import { useEffect } from "react"
import type { BoardStore } from "./state/board.js"
import { pendingDecisions } from "./state/board.js"
import { href, useRoute, type Route } from "./state/route.js"
import { BoardContext, useBoard } from "./state/useBoard.js"
import { BoardView } from "./views/Board.js"
import { CommandBar } from "./views/CommandBar.js"
import { DecisionToasts } from "./views/DecisionToasts.js"
import { NewItemButton } from "./views/NewItem.js"
import { pages } from "./views/pages.js"

const nav: ReadonlyArray<{ readonly route: Route; readonly label: string }> = [
  { route: { page: "board" }, label: "Board" },
  { route: { page: "decisions" }, label: "Decisions" },
  { route: { page: "agents" }, label: "Agents" },
  { route: { page: "merges" }, label: "Merge queue" },
  { route: { page: "cost" }, label: "Cost" },
  { route: { page: "logs" }, label: "Logs" },
  { route: { page: "settings" }, label: "Settings" },
]

const Header = () => {
  const board = useBoard()
  const route = useRoute()
  const pending = pendingDecisions(board).length
  useEffect(() => {
    document.title = `${pending > 0 ? `(${pending}) ` : ""}huskies${board.project === "" ? "" : ` · ${board.project}`}`
  }, [pending, board.project])
  return (
    <header className="top">
      <span className="brand">huskies</span>
      <span className="project">{board.project}</span>
      <nav aria-label="Pages">
        {nav.map(({ route: r, label }) => (
          <a key={label} href={href(r)} aria-current={r.page === route.page ? "page" : undefined}>
            {label}
            {r.page === "decisions" && pending > 0 ? (
              <span className="badge" aria-label={`${pending} pending`}>
                {pending}
              </span>
            ) : null}
          </a>
        ))}
      </nav>
      <NewItemButton />
      <CommandBar />
      <span className={`conn conn-${board.connection}`} role="status" aria-live="polite">
        {board.connection === "live"
          ? "live"
          : board.connection === "connecting"
            ? "connecting…"
            : "reconnecting…"}
      </span>
    </header>
  )
}

const Page = () => {
  const route = useRoute()
  if (route.page === "board") return <BoardView />
  const Other = pages[route.page]
  return <Other route={route} />
}

export const App = ({ board }: { readonly board: BoardStore }) => (
  <BoardContext.Provider value={board}>
    <Header />
    <Stale />
    <main>
      <Page />
    </main>
    <DecisionToasts />
  </BoardContext.Provider>
)

const Stale = () => {
  const { stale } = useBoard()
  return stale ? (
    <div role="alert" className="banner">
      The server was upgraded. <button onClick={() => window.location.reload()}>Reload</button>
    </div>
  ) : null
}
