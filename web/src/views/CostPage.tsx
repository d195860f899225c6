// web/src/views/CostPage.tsx — the cost page (placeholder until it is built).
import type { PageProps } from "./pages.js"

export const CostPage = (_: PageProps) => (
  <section aria-labelledby="page-title">
    <h1 id="page-title">Cost</h1>
    <p>This page is not available in this version.</p>
  </section>
)
