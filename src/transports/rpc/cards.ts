// src/transports/rpc/cards.ts — an item as a board card shows it (uiRpcs.ts `Card`), computed from the
// Store's projections, a parse of the item's markdown kept per content, its timers and its cost. Pure;
// the LiveFeed keeps the caches and the /rpc handlers call it.
import { Either } from "effect"
import { dependencyStatus, type StageLookup } from "../../domain/dependencies.js"
import { parseStoryDoc } from "../../domain/StoryDoc.js"
import { parseStoryId, type StoryId } from "../../domain/StoryId.js"
import type { Timer } from "../../domain/Timer.js"
import type { WorkItem } from "../../domain/WorkItem.js"
import { roundUsd } from "../../layers/Usage.js"
import type { Card, PagedStage } from "../../protocol/uiRpcs.js"

/** What a card needs of an item's markdown: parsed once per content, not once per card. */
export interface DocSummary {
  readonly name: string
  readonly criteria: { readonly done: number; readonly total: number }
  readonly dependsOn: ReadonlyArray<StoryId>
  readonly agent?: string
}

/** The name a card shows for an item whose markdown does not parse (as get_pipeline_status says). */
export const unparsedName = "(content does not parse)"

export const summarize = (content: string): DocSummary =>
  Either.match(parseStoryDoc(content), {
    onLeft: () => ({ name: unparsedName, criteria: { done: 0, total: 0 }, dependsOn: [] }),
    onRight: (doc) => ({
      name: doc.frontMatter.name,
      criteria: { done: doc.criteria.filter((c) => c.checked).length, total: doc.criteria.length },
      dependsOn: doc.frontMatter.dependsOn,
      ...(doc.frontMatter.agent === undefined ? {} : { agent: doc.frontMatter.agent }),
    }),
  })

export interface CardFacts {
  readonly stages: StageLookup
  readonly timers: ReadonlyArray<Timer>
  readonly costUsd: number
}

export const cardOf = (item: WorkItem, doc: DocSummary, facts: CardFacts): Card => ({
  id: item.id,
  number: parseStoryId(item.id).number,
  kind: item.kind,
  name: doc.name,
  stage: item.stage,
  criteria: doc.criteria,
  dependsOn: dependencyStatus(doc.dependsOn, facts.stages).map((d) => ({ id: d.id, met: d._tag === "Met" })),
  execution: item.execution,
  ...(doc.agent === undefined ? {} : { assignedAgent: doc.agent }),
  costUsd: roundUsd(facts.costUsd),
  timers: facts.timers,
  attempts: item.attempts,
  ...(item.feedback === undefined ? {} : { feedback: item.feedback }),
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
})

export const isPaged = (item: WorkItem): item is WorkItem & { readonly stage: { _tag: PagedStage } } =>
  item.stage._tag === "Done" || item.stage._tag === "Archived"

/** Newest first: by last update, then by id so a page boundary is stable. */
export const newestFirst = (a: WorkItem, b: WorkItem): number =>
  b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/**
 * The items of a paged column a board shows, newest first: the newest `limit` that come after the
 * card (`before`, `beforeId`) in that order (without `beforeId`: updated before `before`).
 */
export const pageOf = (
  items: ReadonlyArray<WorkItem>,
  stage: PagedStage,
  before: number | undefined,
  beforeId: string | undefined,
  limit: number,
): ReadonlyArray<WorkItem> =>
  items
    .filter(
      (i) =>
        i.stage._tag === stage &&
        (before === undefined ||
          i.updatedAt < before ||
          (beforeId !== undefined && i.updatedAt === before && i.id < beforeId)),
    )
    .sort(newestFirst)
    .slice(0, limit)
