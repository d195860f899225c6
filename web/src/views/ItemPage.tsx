// web/src/views/ItemPage.tsx — the item page (placeholder until it is built).
import type { PageProps } from "./pages.js"

export const ItemPage = (_: PageProps) => (
  <section aria-labelledby="page-title">
    <h1 id="page-title">Item</h1>
    <p>This page is not available in this version.</p>
  </section>
)
