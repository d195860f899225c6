// web/src/state/route.ts — the app's pages as URL hashes (#/item/12_story_x, #/agents…): links work,
// the back button works, and the server needs no route per page.
import { useSyncExternalStore } from "react"

export type Route =
  | { readonly page: "board" }
  | { readonly page: "item"; readonly id: string }
  | { readonly page: "agents" }
  | { readonly page: "merges" }
  | { readonly page: "cost" }
  | { readonly page: "logs" }
  | { readonly page: "settings" }
  | { readonly page: "decisions" }

export const parseRoute = (hash: string): Route => {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent)
  switch (parts[0]) {
    case "item":
      return parts[1] !== undefined && parts[1] !== "" ? { page: "item", id: parts[1] } : { page: "board" }
    case "agents":
    case "merges":
    case "cost":
    case "logs":
    case "settings":
    case "decisions":
      return { page: parts[0] }
    default:
      return { page: "board" }
  }
}

export const href = (route: Route): string =>
  route.page === "item"
    ? `#/item/${encodeURIComponent(route.id)}`
    : route.page === "board"
      ? "#/"
      : `#/${route.page}`

const subscribe = (listener: () => void) => {
  window.addEventListener("hashchange", listener)
  return () => window.removeEventListener("hashchange", listener)
}

export const useRoute = (): Route => parseRoute(useSyncExternalStore(subscribe, () => window.location.hash))
