// web/src/views/DecisionsPage.tsx — the decisions page (placeholder until it is built).
import type { PageProps } from "./pages.js"

export const DecisionsPage = (_: PageProps) => (
  <section aria-labelledby="page-title">
    <h1 id="page-title">Decisions</h1>
    <p>This page is not available in this version.</p>
  </section>
)
