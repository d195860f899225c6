// web/src/views/LogsPage.tsx — the logs page (placeholder until it is built).
import type { PageProps } from "./pages.js"

export const LogsPage = (_: PageProps) => (
  <section aria-labelledby="page-title">
    <h1 id="page-title">Logs</h1>
    <p>This page is not available in this version.</p>
  </section>
)
