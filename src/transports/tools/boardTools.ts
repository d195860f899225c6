// src/transports/tools/boardTools.ts — read-only views of the whole pipeline: get_pipeline_status (per
// stage, plus what is blocked and why) and list_items (filtered item list). Used over MCP and by chat.
import { Effect, Either, Schema } from "effect"
import {
  allMet,
  compareStoryIds,
  type DependencyCycle,
  dependencyStatus,
  describeCycle,
  describeDependencies,
  findCycles,
  isMet,
} from "../../domain/dependencies.js"
import { type Stage, stageTags } from "../../domain/Stage.js"
import { parseStoryDoc, type StoryDoc } from "../../domain/StoryDoc.js"
import { ItemKind, type StoryId } from "../../domain/StoryId.js"
import { describeReason, describeStage } from "../../domain/transition.js"
import type { WorkItem } from "../../domain/WorkItem.js"
import { PipelineView } from "../../actors/PipelineView.js"
import { stageNameParam, stageTagOf } from "./itemAccess.js"
import { defineTool } from "./Tool.js"

interface BoardItem {
  readonly item: WorkItem
  readonly content: string
  readonly doc: StoryDoc | undefined
  readonly contentError: string | undefined
}

/** Every item that projects, with its markdown parsed, in id order; and what could not be read. */
const readBoard = Effect.gen(function* () {
  const store = yield* PipelineView
  const { items, errors } = yield* store.list
  const board: Array<BoardItem> = []
  for (const item of [...items].sort((a, b) => compareStoryIds(a.id, b.id))) {
    // An item deleted between list and content simply drops out of this snapshot.
    const content = yield* store.content(item.id).pipe(Effect.option)
    if (content._tag === "None") continue
    const parsed = parseStoryDoc(content.value)
    board.push({
      item,
      content: content.value,
      doc: Either.getOrUndefined(parsed),
      contentError: Either.isLeft(parsed) ? parsed.left.message : undefined,
    })
  }
  return { board, projectionErrors: errors.map((e) => ({ path: e.path, detail: e.detail })) }
})

const nameOf = (b: BoardItem) => b.doc?.frontMatter.name ?? "(content does not parse)"
const iso = (millis: number) => new Date(millis).toISOString()

const ItemLine = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  kind: Schema.String,
  stage: Schema.String,
  updated_at: Schema.String,
})

const ProjectionErrors = Schema.Array(Schema.Struct({ path: Schema.String, detail: Schema.String }))
const ContentErrors = Schema.Array(Schema.Struct({ id: Schema.String, message: Schema.String }))

/** Finished stages grow without bound: the status shows only their most recently updated items. */
const finishedShown = 20

const blockingReasons = new Set(["Blocked", "MergeFailed", "ReviewHold"])

const archivedWhy = (stage: Stage) =>
  stage._tag === "Archived" && blockingReasons.has(stage.reason._tag)
    ? { reason: stage.reason._tag, why: describeReason(stage.reason) }
    : undefined

/**
 * The whole pipeline at a glance: per stage its count and items (finished stages only their newest),
 * what is blocked and why, dependency cycles and what cannot be read. get_pipeline_status returns it;
 * the chat command `status` writes it out.
 */
export const pipelineStatus = Effect.gen(function* () {
  const { board, projectionErrors } = yield* readBoard
  const stages = new Map<StoryId, Stage>(board.map((b) => [b.item.id, b.item.stage]))
  // A dependency on a finished item is met, so edges out of finished items cannot deadlock anyone.
  const graph = new Map(
    board.filter((b) => !isMet(b.item.stage)).map((b) => [b.item.id, b.doc?.frontMatter.dependsOn ?? []]),
  )
  const cycles = findCycles(graph)
  const cycleOf = new Map<StoryId, DependencyCycle>()
  for (const cycle of cycles) for (const member of cycle.members) cycleOf.set(member, cycle)

  const line = (b: BoardItem) => ({
    id: b.item.id,
    name: nameOf(b),
    kind: b.item.kind,
    stage: describeStage(b.item.stage),
    updated_at: iso(b.item.updatedAt),
  })
  const perStage = stageTags.map((tag) => {
    const inStage = board.filter((b) => b.item.stage._tag === tag)
    const finished = tag === "Done" || tag === "Archived"
    const shown = finished
      ? [...inStage].sort((a, b) => b.item.updatedAt - a.item.updatedAt).slice(0, finishedShown)
      : inStage
    return {
      stage: tag,
      count: inStage.length,
      items: shown.map(line),
      omitted: inStage.length - shown.length,
    }
  })

  const blocked = board.flatMap((b) => {
    const base = { id: b.item.id, name: nameOf(b), stage: describeStage(b.item.stage) }
    const archived = archivedWhy(b.item.stage)
    if (archived !== undefined) return [{ ...base, ...archived }]
    if (b.item.stage._tag !== "Backlog" || b.doc === undefined) return []
    const cycle = cycleOf.get(b.item.id)
    if (cycle !== undefined) return [{ ...base, reason: "DependencyCycle", why: describeCycle(cycle) }]
    const deps = dependencyStatus(b.doc.frontMatter.dependsOn, stages)
    return allMet(deps) ? [] : [{ ...base, reason: "Dependencies", why: describeDependencies(deps) }]
  })

  return {
    summary: perStage.map((s) => `${s.stage} ${s.count}`).join(", ") + `; ${blocked.length} blocked`,
    stages: perStage,
    blocked,
    cycles: cycles.map((c) => ({ members: c.members, path: c.path, why: describeCycle(c) })),
    content_errors: board.flatMap((b) =>
      b.contentError === undefined ? [] : [{ id: b.item.id, message: b.contentError }],
    ),
    projection_errors: projectionErrors,
  }
})

export type PipelineStatus = Effect.Effect.Success<typeof pipelineStatus>

export const getPipelineStatus = defineTool({
  name: "get_pipeline_status",
  description:
    "The whole pipeline at a glance. Does not block. Returns, per stage (Backlog, Coding, Qa, Merge, Done, Archived), the item count and items (id, name, kind, stage summary, updated_at; Done and Archived list only their 20 most recently updated, `omitted` says how many more); `blocked`: items that cannot move on by themselves and why (archived as blocked, merge failed or on review hold; Backlog items whose dependencies are not done; members of dependency cycles); `cycles`; and items whose stored data or markdown cannot be read.",
  input: {},
  output: Schema.Struct({
    summary: Schema.String,
    stages: Schema.Array(
      Schema.Struct({
        stage: Schema.String,
        count: Schema.Number,
        items: Schema.Array(ItemLine),
        omitted: Schema.Number,
      }),
    ),
    blocked: Schema.Array(
      Schema.Struct({
        id: Schema.String,
        name: Schema.String,
        stage: Schema.String,
        reason: Schema.String,
        why: Schema.String,
      }),
    ),
    cycles: Schema.Array(
      Schema.Struct({
        members: Schema.Array(Schema.String),
        path: Schema.Array(Schema.String),
        why: Schema.String,
      }),
    ),
    content_errors: ContentErrors,
    projection_errors: ProjectionErrors,
  }),
  run: () => pipelineStatus,
})

export const listItems = defineTool({
  name: "list_items",
  description:
    "Lists work items in id order, optionally filtered by stage (backlog, coding, qa, merge, done, archived; any case), kind, and text (case-insensitive substring of the id, name or markdown). Does not block. Returns up to `limit` items (default 100, at most 1000) with id, name, kind, stage, stage summary, attempts and updated_at; `total` counts every match.",
  input: {
    stage: Schema.optional(stageNameParam("only items in this stage")),
    kind: Schema.optional(ItemKind.annotations({ description: "only items of this kind" })),
    text: Schema.optional(
      Schema.String.annotations({ description: "case-insensitive substring of the id, name or markdown" }),
    ),
    limit: Schema.optional(
      Schema.Int.pipe(Schema.between(1, 1000)).annotations({
        description: "at most this many (default 100)",
      }),
    ),
  },
  output: Schema.Struct({
    total: Schema.Number,
    items: Schema.Array(
      Schema.Struct({
        id: Schema.String,
        name: Schema.String,
        kind: Schema.String,
        stage: Schema.String,
        stage_summary: Schema.String,
        attempts: Schema.Number,
        updated_at: Schema.String,
      }),
    ),
    projection_errors: ProjectionErrors,
  }),
  run: (input) =>
    Effect.gen(function* () {
      const { board, projectionErrors } = yield* readBoard
      const stage = input.stage === undefined ? undefined : stageTagOf(input.stage)
      const text = input.text?.toLowerCase()
      const matching = board.filter(
        (b) =>
          (stage === undefined || b.item.stage._tag === stage) &&
          (input.kind === undefined || b.item.kind === input.kind) &&
          (text === undefined ||
            b.item.id.toLowerCase().includes(text) ||
            nameOf(b).toLowerCase().includes(text) ||
            b.content.toLowerCase().includes(text)),
      )
      return {
        total: matching.length,
        items: matching.slice(0, input.limit ?? 100).map((b) => ({
          id: b.item.id,
          name: nameOf(b),
          kind: b.item.kind,
          stage: b.item.stage._tag,
          stage_summary: describeStage(b.item.stage),
          attempts: b.item.attempts,
          updated_at: iso(b.item.updatedAt),
        })),
        projection_errors: projectionErrors,
      }
    }),
})

export const boardTools = [getPipelineStatus, listItems] as const
