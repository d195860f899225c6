// web/src/views/decisionNews.ts — which decisions are news: pending ones the page has not seen before
// (the ones in the first snapshot are not news), and the one-line text a toast or a notification shows.
// Pure; used by DecisionToasts.tsx.
import type { Decision } from "../../../src/domain/Decision.js"

/** The pending decisions not in `known`, oldest first; adds every given id to `known`. */
export const newDecisions = (known: Set<string>, pending: ReadonlyArray<Decision>): Array<Decision> => {
  const fresh = pending.filter((d) => !known.has(d.id)).sort((a, b) => a.requestedAt - b.requestedAt)
  for (const d of pending) known.add(d.id)
  return fresh
}

const itemNumber = (id: string | undefined): string => (id === undefined ? "" : `#${id.split("_")[0]}`)

export const describeDecision = (d: Decision): string =>
  d._tag === "Permission"
    ? `${d.agent ?? "an agent"} asks to use ${d.toolName}${d.storyId === undefined ? "" : ` on ${itemNumber(d.storyId)}`}`
    : `${itemNumber(d.storyId)} waits for human QA`
