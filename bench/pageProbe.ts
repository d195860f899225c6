// bench/pageProbe.ts — a script run inside the page before the app (plain JavaScript: the tsconfig of
// tests and benches has no DOM types): a MutationObserver that timestamps when each card first shows in
// each column, and when the first card of all was painted. Used by the web UI bench and the browser
// tests; only `page.evaluate` of an expression may read it: the app's CSP forbids evaluated predicates.
import type { Page } from "playwright-core"

/** What the probe has seen: wall-clock ms (comparable with Date.now() in the test process). */
export interface ProbeState {
  /** `performance.now()` of the first animation frame after the first card was in the DOM. */
  readonly firstCardPaintMs?: number
  /** "<item id>@<stage>" -> wall-clock ms when that card first appeared in that column. */
  readonly seen: Readonly<Record<string, number>>
}

export const probeScript = `
(() => {
  const probe = { seen: {}, firstCardPaintMs: undefined }
  window.__huskiesProbe = probe
  const wall = () => performance.timeOrigin + performance.now()
  const record = (card) => {
    const column = card.closest("[data-stage]")
    const id = card.getAttribute("data-id")
    if (column === null || id === null) return
    const key = id + "@" + column.getAttribute("data-stage")
    if (probe.seen[key] === undefined) probe.seen[key] = wall()
  }
  let painting = false
  const observer = new MutationObserver((mutations) => {
    for (const m of mutations)
      for (const node of m.addedNodes) {
        if (node.nodeType !== 1) continue
        if (node.matches("article[data-id]")) record(node)
        for (const card of node.querySelectorAll("article[data-id]")) record(card)
      }
    if (probe.firstCardPaintMs === undefined && !painting && document.querySelector("article[data-id]") !== null) {
      painting = true
      requestAnimationFrame(() => {
        probe.firstCardPaintMs = performance.now()
        // An attribute, so a test waits for it with a locator (the page's CSP forbids evaluated predicates).
        document.documentElement.setAttribute("data-first-card-painted", "")
      })
    }
  })
  observer.observe(document, { childList: true, subtree: true })
})()
`

/** Installs the probe in every page of the context opened after this call (before the app runs). */
export const installProbe = async (page: Page): Promise<void> => {
  await page.addInitScript({ content: probeScript })
}

/** Waits until the probe saw the first card painted, and returns the probe's state. */
export const firstCardPainted = async (page: Page, timeout: number): Promise<ProbeState> => {
  await page.locator("html[data-first-card-painted]").waitFor({ state: "attached", timeout })
  return readProbe(page)
}

export const readProbe = (page: Page): Promise<ProbeState> =>
  page.evaluate("window.__huskiesProbe") as Promise<ProbeState>
