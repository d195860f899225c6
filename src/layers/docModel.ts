// src/layers/docModel.ts — the layout of the project's Y.Doc and the typed projection of it.
// Store is the only writer; everything here runs inside one Y transaction chosen by Store.
import { Either, ParseResult, Schema } from "effect"
import * as Y from "yjs"
import { Decision } from "../domain/Decision.js"
import { parseStoryId, StoryId } from "../domain/StoryId.js"
import { MergeJob } from "../domain/MergeJob.js"
import { Timer } from "../domain/Timer.js"
import { WorkItem } from "../domain/WorkItem.js"

/** Shared maps of the document, by name. Items and execution are nested maps so fields merge. */
export interface DocMaps {
  readonly items: Y.Map<Y.Map<unknown>>
  readonly content: Y.Map<Y.Text>
  /** nodeId -> (item id -> ExecutionState) */
  readonly execution: Y.Map<Y.Map<unknown>>
  readonly claims: Y.Map<unknown>
  readonly mergeJobs: Y.Map<unknown>
  readonly timers: Y.Map<unknown>
  readonly nodes: Y.Map<unknown>
  readonly meta: Y.Map<unknown>
  /** decision id -> Decision (pending, or answered and kept for the record) */
  readonly decisions: Y.Map<unknown>
}

export const docMaps = (doc: Y.Doc): DocMaps => ({
  items: doc.getMap("items"),
  content: doc.getMap("content"),
  execution: doc.getMap("execution"),
  claims: doc.getMap("claims"),
  mergeJobs: doc.getMap("mergeJobs"),
  timers: doc.getMap("timers"),
  nodes: doc.getMap("nodes"),
  meta: doc.getMap("meta"),
  decisions: doc.getMap("decisions"),
})

/** Data in the document that does not decode to a domain type: shown, never dropped or "fixed". */
export class ProjectionError extends Schema.TaggedError<ProjectionError>()("ProjectionError", {
  path: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `stored data at ${this.path} does not decode: ${this.detail} (dump_state shows the raw value; fix or delete the item)`
  }
}

/**
 * The highest item number in the document, kept current by observing `items` (local writes and,
 * later, updates from peers alike), so allocating a number never scans every id.
 */
export const trackHighestNumber = (maps: DocMaps): (() => number) => {
  let highest = 0
  const consider = (key: string) => {
    if (isStoryId(key)) highest = Math.max(highest, parseStoryId(key).number)
  }
  for (const key of maps.items.keys()) consider(key)
  maps.items.observe((event) => {
    for (const [key, change] of event.changes.keys) if (change.action === "add") consider(key)
  })
  return () => highest
}

const itemFields = ["kind", "stage", "attempts", "feedback", "createdAt", "updatedAt"] as const
const decodeItem = Schema.decodeUnknownEither(WorkItem)
const isStoryId = Schema.is(StoryId)

type ItemRead = Either.Either<WorkItem, ProjectionError>

/**
 * Decoded items of one DocMaps, kept until the document changes them (observed, so writes from
 * peers count too): startup readers (recovery, the scheduler, the merge queue, the done sweep) and
 * every status call share one decode per item instead of decoding all 10,000 each.
 */
interface ItemCache {
  readonly byId: Map<string, ItemRead>
  all:
    { readonly items: ReadonlyArray<WorkItem>; readonly errors: ReadonlyArray<ProjectionError> } | undefined
}

const caches = new WeakMap<DocMaps, ItemCache>()

const cacheOf = (maps: DocMaps): ItemCache => {
  const known = caches.get(maps)
  if (known !== undefined) return known
  const cache: ItemCache = { byId: new Map(), all: undefined }
  maps.items.observeDeep((events) => {
    cache.all = undefined
    for (const event of events) {
      if (event.target === maps.items) for (const id of event.keys.keys()) cache.byId.delete(id)
      else cache.byId.delete(String(event.path[0]))
    }
  })
  maps.execution.observeDeep((events) => {
    cache.all = undefined
    for (const event of events) {
      // A node's map came or went: any item may have gained or lost that node's state.
      if (event.target === maps.execution) cache.byId.clear()
      else for (const id of event.keys.keys()) cache.byId.delete(id)
    }
  })
  caches.set(maps, cache)
  return cache
}

export const readItem = (maps: DocMaps, id: string): ItemRead | undefined => {
  const cache = cacheOf(maps).byId
  const known = cache.get(id)
  if (known !== undefined) return known
  // Absent ids are not remembered: lookups of made-up ids must not grow the cache.
  const read = decodeStoredItem(maps, id)
  if (read !== undefined) cache.set(id, read)
  return read
}

const decodeStoredItem = (maps: DocMaps, id: string): ItemRead | undefined => {
  const fields = maps.items.get(id)
  if (fields === undefined) return undefined
  if (!(fields instanceof Y.Map)) {
    return Either.left(new ProjectionError({ path: `items/${id}`, detail: "expected a map of fields" }))
  }
  const raw: Record<string, unknown> = { id }
  for (const key of itemFields) {
    const value = fields.get(key)
    if (value !== undefined) raw[key] = value
  }
  const execution: Record<string, unknown> = {}
  for (const [node, perItem] of maps.execution) {
    const state = perItem instanceof Y.Map ? perItem.get(id) : undefined
    if (state !== undefined) execution[node] = state
  }
  raw["execution"] = execution
  return Either.mapLeft(
    decodeItem(raw, { onExcessProperty: "error" }),
    (e) => new ProjectionError({ path: `items/${id}`, detail: ParseResult.TreeFormatter.formatErrorSync(e) }),
  )
}

export const readAllItems = (
  maps: DocMaps,
): { readonly items: ReadonlyArray<WorkItem>; readonly errors: ReadonlyArray<ProjectionError> } => {
  const cache = cacheOf(maps)
  cache.all ??= decodeAllItems(maps)
  return cache.all
}

const decodeAllItems = (
  maps: DocMaps,
): { readonly items: ReadonlyArray<WorkItem>; readonly errors: ReadonlyArray<ProjectionError> } => {
  const items: Array<WorkItem> = []
  const errors: Array<ProjectionError> = []
  for (const id of maps.items.keys()) {
    if (!isStoryId(id)) {
      errors.push(new ProjectionError({ path: `items/${id}`, detail: "the key is not a valid work item id" }))
      continue
    }
    const result = readItem(maps, id)
    if (result === undefined) continue
    if (Either.isRight(result)) items.push(result.right)
    else errors.push(result.left)
  }
  return { items, errors }
}

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b)

/** Writes the fields of `after` that differ from `before`, so concurrent edits of other fields merge. */
export const writeItem = (maps: DocMaps, before: WorkItem | undefined, after: WorkItem): void => {
  let fields = maps.items.get(after.id)
  if (fields === undefined) {
    fields = new Y.Map<unknown>()
    maps.items.set(after.id, fields)
    // Made with the item, so every node that can claim it already has the map (storeClaims.ts).
    if (!maps.claims.has(after.id)) maps.claims.set(after.id, new Y.Map<unknown>())
  }
  for (const key of itemFields) {
    const value = after[key]
    if (before !== undefined && same(before[key], value)) continue
    if (value === undefined) fields.delete(key)
    else fields.set(key, value)
  }
  const nodes = new Set([...Object.keys(before?.execution ?? {}), ...Object.keys(after.execution)])
  for (const node of nodes) {
    const next = after.execution[node]
    if (before !== undefined && same(before.execution[node], next)) continue
    let perItem = maps.execution.get(node)
    if (perItem === undefined) {
      if (next === undefined) continue
      perItem = new Y.Map<unknown>()
      maps.execution.set(node, perItem)
    }
    if (next === undefined) perItem.delete(after.id)
    else perItem.set(after.id, next)
  }
}

export interface DeleteReport {
  readonly id: string
  readonly item: boolean
  readonly content: boolean
  readonly execution: ReadonlyArray<string>
  readonly claim: boolean
  readonly mergeJob: boolean
  readonly timers: ReadonlyArray<string>
  readonly decisions: ReadonlyArray<string>
}

const refersTo = (value: unknown, id: string) =>
  typeof value === "object" && value !== null && "storyId" in value && value.storyId === id

/** Removes every trace of `id` from the document; reports what was there. */
export const removeItem = (maps: DocMaps, id: string): DeleteReport => {
  const item = maps.items.has(id)
  maps.items.delete(id)
  const content = maps.content.has(id)
  maps.content.delete(id)
  const execution: Array<string> = []
  for (const [node, perItem] of maps.execution) {
    if (perItem instanceof Y.Map && perItem.has(id)) {
      perItem.delete(id)
      execution.push(node)
    }
  }
  // The empty claims map every item is made with is no claim.
  const claims = maps.claims.get(id)
  const claim = claims instanceof Y.Map ? claims.size > 0 : claims !== undefined
  maps.claims.delete(id)
  const mergeJob = maps.mergeJobs.has(id)
  maps.mergeJobs.delete(id)
  const timers = removeTimers(maps, id, () => true)
  const decisions = [...maps.decisions].filter(([, raw]) => refersTo(raw, id)).map(([key]) => key)
  for (const key of decisions) maps.decisions.delete(key)
  return { id, item, content, execution, claim, mergeJob, timers, decisions }
}

/**
 * A decoder that decodes each stored value once: Yjs hands back the same object for a value until it is set
 * again (a write here, a peer's update), so what a value decoded to is kept by the value itself, however
 * often it is read. A failure is kept as the formatted parse error. Values that are not objects are decoded
 * at each read.
 */
export const decodeOnce = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema)
  const known = new WeakMap<object, Either.Either<A, string>>()
  return (raw: unknown): Either.Either<A, string> => {
    const cacheable = typeof raw === "object" && raw !== null
    const seen = cacheable ? known.get(raw) : undefined
    if (seen !== undefined) return seen
    const decoded = Either.mapLeft(decode(raw, { onExcessProperty: "error" }), (e) =>
      ParseResult.TreeFormatter.formatErrorSync(e),
    )
    if (cacheable) known.set(raw, decoded)
    return decoded
  }
}

const timerOf = decodeOnce(Timer)

/** Every timer in the document; one that does not decode is a ProjectionError, never dropped. */
export const readTimers = (
  maps: DocMaps,
): { readonly timers: ReadonlyArray<Timer>; readonly errors: ReadonlyArray<ProjectionError> } => {
  const timers: Array<Timer> = []
  const errors: Array<ProjectionError> = []
  for (const [timerId, raw] of maps.timers) {
    const decoded = timerOf(raw)
    if (Either.isRight(decoded) && decoded.right.id === timerId) timers.push(decoded.right)
    else
      errors.push(
        new ProjectionError({
          path: `timers/${timerId}`,
          detail: Either.isLeft(decoded) ? decoded.left : `the timer's id is ${decoded.right.id}`,
        }),
      )
  }
  return { timers: timers.sort((a, b) => a.at - b.at), errors }
}

/** Whether a raw timer was set for `stage`. */
export const isForStage = (timer: unknown, stage: string) =>
  typeof timer === "object" && timer !== null && "stage" in timer && timer.stage === stage

export const timerIdOf = (timer: unknown) =>
  typeof timer === "object" && timer !== null && "id" in timer ? String(timer.id) : ""

const decisionOf = decodeOnce(Decision)

/** Every decision, oldest request first; one that does not decode is a ProjectionError, never dropped. */
export const readDecisions = (
  maps: DocMaps,
): { readonly decisions: ReadonlyArray<Decision>; readonly errors: ReadonlyArray<ProjectionError> } => {
  const decisions: Array<Decision> = []
  const errors: Array<ProjectionError> = []
  for (const [id, raw] of maps.decisions) {
    const decoded = decisionOf(raw)
    if (Either.isRight(decoded) && decoded.right.id === id) decisions.push(decoded.right)
    else
      errors.push(
        new ProjectionError({
          path: `decisions/${id}`,
          detail: Either.isLeft(decoded) ? decoded.left : `the decision's id is ${decoded.right.id}`,
        }),
      )
  }
  return { decisions: decisions.sort((a, b) => a.requestedAt - b.requestedAt), errors }
}

const mergeJobOf = decodeOnce(MergeJob)

/** Every merge job, oldest first; one that does not decode is a ProjectionError, never dropped. */
export const readMergeJobs = (
  maps: DocMaps,
): { readonly jobs: ReadonlyArray<MergeJob>; readonly errors: ReadonlyArray<ProjectionError> } => {
  const jobs: Array<MergeJob> = []
  const errors: Array<ProjectionError> = []
  for (const [id, raw] of maps.mergeJobs) {
    const decoded = mergeJobOf(raw)
    if (Either.isRight(decoded)) jobs.push(decoded.right)
    else errors.push(new ProjectionError({ path: `mergeJobs/${id}`, detail: decoded.left }))
  }
  return { jobs: jobs.sort((a, b) => a.enqueuedAt - b.enqueuedAt), errors }
}

/** Deletes the timers of item `id` that `drop` selects; returns their ids. */
export const removeTimers = (maps: DocMaps, id: string, drop: (timer: unknown) => boolean): Array<string> => {
  const removed: Array<string> = []
  for (const [timerId, timer] of maps.timers) if (refersTo(timer, id) && drop(timer)) removed.push(timerId)
  for (const timerId of removed) maps.timers.delete(timerId)
  return removed
}

/** The applied edit that turns `from` into `to` with the least churn: common prefix and suffix kept. */
export const minimalSplice = (from: string, to: string) => {
  let start = 0
  const max = Math.min(from.length, to.length)
  while (start < max && from.charCodeAt(start) === to.charCodeAt(start)) start++
  let endFrom = from.length
  let endTo = to.length
  while (endFrom > start && endTo > start && from.charCodeAt(endFrom - 1) === to.charCodeAt(endTo - 1)) {
    endFrom--
    endTo--
  }
  return { index: start, deleteCount: endFrom - start, insert: to.slice(start, endTo) }
}

const jsonOf = (value: unknown) => (value instanceof Y.AbstractType ? (value.toJSON() as unknown) : value)

/** The raw document as JSON, optionally narrowed to one item, for dump_state. */
export const dumpDoc = (maps: DocMaps, id?: string): Record<string, unknown> => {
  if (id === undefined) {
    const out: Record<string, unknown> = {}
    for (const [name, map] of Object.entries(maps)) out[name] = (map as Y.Map<unknown>).toJSON()
    return out
  }
  const execution: Record<string, unknown> = {}
  for (const [node, perItem] of maps.execution) {
    if (perItem instanceof Y.Map && perItem.has(id)) execution[node] = perItem.get(id)
  }
  const timers: Record<string, unknown> = {}
  for (const [timerId, timer] of maps.timers) if (refersTo(timer, id)) timers[timerId] = timer
  const decisions: Record<string, unknown> = {}
  for (const [key, raw] of maps.decisions) if (refersTo(raw, id)) decisions[key] = raw
  return {
    item: maps.items.get(id)?.toJSON(),
    content: maps.content.get(id)?.toString(),
    execution,
    claim: jsonOf(maps.claims.get(id)),
    mergeJob: maps.mergeJobs.get(id),
    timers,
    decisions,
  }
}
