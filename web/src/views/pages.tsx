// web/src/views/pages.tsx — every page but the board, by route name; each lives in its own file.
import type { ComponentType } from "react"
import type { Route } from "../state/route.js"
import { AgentsPage } from "./AgentsPage.js"
import { CostPage } from "./CostPage.js"
import { DecisionsPage } from "./DecisionsPage.js"
import { ItemPage } from "./ItemPage.js"
import { LogsPage } from "./LogsPage.js"
import { MergesPage } from "./MergesPage.js"
import { SettingsPage } from "./SettingsPage.js"

export type PageProps = { readonly route: Route }

export const pages: Record<Exclude<Route["page"], "board">, ComponentType<PageProps>> = {
  item: ItemPage,
  agents: AgentsPage,
  merges: MergesPage,
  cost: CostPage,
  logs: LogsPage,
  settings: SettingsPage,
  decisions: DecisionsPage,
}
