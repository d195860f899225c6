// web/src/views/MergesPage.tsx — the merges page (placeholder until it is built).
import type { PageProps } from "./pages.js"

export const MergesPage = (_: PageProps) => (
  <section aria-labelledby="page-title">
    <h1 id="page-title">Merges</h1>
    <p>This page is not available in this version.</p>
  </section>
)
