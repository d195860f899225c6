// web/src/views/pages.tsx — every page but the board, by route name. A page not built yet says so.
import type { ComponentType } from "react"
import type { Route } from "../state/route.js"

export type PageProps = { readonly route: Route }

const NotYet = ({ route }: PageProps) => (
  <section aria-labelledby="page-title">
    <h1 id="page-title">{route.page}</h1>
    <p>This page is not available in this version.</p>
  </section>
)

export const pages: Record<Exclude<Route["page"], "board">, ComponentType<PageProps>> = {
  item: NotYet,
  agents: NotYet,
  merges: NotYet,
  cost: NotYet,
  logs: NotYet,
  settings: NotYet,
  decisions: NotYet,
}
