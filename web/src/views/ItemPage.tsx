// web/src/views/ItemPage.tsx — the item page's entry in the page table: the page itself (item/ItemView)
// and the markdown renderer load as their own chunk when an item is first opened.
import { lazy, Suspense } from "react"
import type { PageProps } from "./pages.js"

const ItemView = lazy(() => import("./item/ItemView.js"))

export const ItemPage = ({ route }: PageProps) =>
  route.page === "item" ? (
    <Suspense fallback={<p role="status">Loading…</p>}>
      <ItemView key={route.id} id={route.id} />
    </Suspense>
  ) : null
