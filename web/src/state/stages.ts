// web/src/state/stages.ts — the board's columns in pipeline order with the names people read, shared by
// the board and the dependency graph.
import type { Card } from "../../../src/protocol/uiRpcs.js"

export type StageTag = Card["stage"]["_tag"]

export const stageColumns: ReadonlyArray<{ readonly stage: StageTag; readonly label: string }> = [
  { stage: "Backlog", label: "Backlog" },
  { stage: "Coding", label: "Coding" },
  { stage: "Qa", label: "QA" },
  { stage: "Merge", label: "Merge" },
  { stage: "Done", label: "Done" },
  { stage: "Archived", label: "Archived" },
]
