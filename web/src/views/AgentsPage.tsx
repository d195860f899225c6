// web/src/views/AgentsPage.tsx — the agents page (placeholder until it is built).
import type { PageProps } from "./pages.js"

export const AgentsPage = (_: PageProps) => (
  <section aria-labelledby="page-title">
    <h1 id="page-title">Agents</h1>
    <p>This page is not available in this version.</p>
  </section>
)
