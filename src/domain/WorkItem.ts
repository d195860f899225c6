// src/domain/WorkItem.ts — the pipeline record of one work item (stage, attempts, per-node execution).
// Authored fields (name, agent, depends_on, qa) live in the item's markdown content; see StoryDoc.
import { Schema } from "effect"
import { ExecutionState } from "./ExecutionState.js"
import { Stage } from "./Stage.js"
import { ItemKind, StoryId } from "./StoryId.js"

export const Millis = Schema.Int.pipe(Schema.nonNegative())

export const WorkItem = Schema.Struct({
  id: StoryId,
  kind: ItemKind,
  stage: Stage,
  /** Failed coder sessions since the item last entered Coding from Backlog. */
  attempts: Schema.Int.pipe(Schema.nonNegative()),
  /** What the next coder should know: the last gate failure or QA rejection notes. */
  feedback: Schema.optional(Schema.String),
  createdAt: Millis,
  updatedAt: Millis,
  /** Per node id: what that node is doing with this item. Absent means Idle. */
  execution: Schema.Record({ key: Schema.String, value: ExecutionState }),
})
export type WorkItem = typeof WorkItem.Type

export const newWorkItem = (id: StoryId, kind: ItemKind, at: number): WorkItem => ({
  id,
  kind,
  stage: { _tag: "Backlog" },
  attempts: 0,
  createdAt: at,
  updatedAt: at,
  execution: {},
})
