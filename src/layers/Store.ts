// src/layers/Store.ts — the project's replicated state: one Y.Doc, read through typed projections, written
// only through pipeline events (and decisions: storeDecisions.ts), each durable before it resolves.
import { Clock, Context, Effect, Either, Layer, PubSub, Queue, type Scope } from "effect"
import * as Y from "yjs"
import { NodeId } from "../domain/ExecutionState.js"
import { type Asked, createdEntry, type HistoryEntry, historyEntryOf } from "../domain/History.js"
import type { PipelineEvent } from "../domain/PipelineEvent.js"
import { makeStoryId, nextStoryNumber, type StoryId } from "../domain/StoryId.js"
import { MergeJob } from "../domain/MergeJob.js"
import { type Timer, timerId, timerStages } from "../domain/Timer.js"
import { transition, type TransitionError } from "../domain/transition.js"
import { newWorkItem, type WorkItem } from "../domain/WorkItem.js"
import {
  type DeleteReport,
  docMaps,
  dumpDoc,
  minimalSplice,
  ProjectionError,
  readAllItems,
  isForStage,
  readItem,
  readMergeJobs,
  readTimers,
  timerIdOf,
  removeItem,
  removeTimers,
  trackHighestNumber,
  writeItem,
} from "./docModel.js"
import { ContentConflict, ContentEditError, ItemNotFound, TimerRefused } from "./storeErrors.js"
import { type Durability, Persistence, PersistenceLive, type PersistError } from "./Persistence.js"
import { loadDoc, type StoreFileOptions } from "./storeFile.js"
import { type StoreParts, storeParts } from "./storeParts.js"
import { storeCommit } from "./storeCommit.js"
import { historyDocument } from "./storeHistory.js"
import { type CommittedUpdate, type SyncSurface, syncSurface } from "./storeSync.js"
import type { ContentEdit, CreateItem, SetTimer, StoreEvent } from "./storeTypes.js"
import { textCache } from "./textCache.js"

export { ContentConflict, ContentEditError, ItemNotFound, TimerRefused } from "./storeErrors.js"

export type { ContentEdit, CreateItem, SetTimer, StoreEvent } from "./storeTypes.js"

export interface StoreShape extends StoreParts, SyncSurface {
  readonly nodeId: NodeId
  readonly create: (input: CreateItem) => Effect.Effect<WorkItem, PersistError>
  /** Applies the event through `transition`; a move is recorded in the item's history in the same
   * write (storeHistory.ts), with who asked and why when `asked` says. */
  readonly apply: (
    id: StoryId,
    event: PipelineEvent,
    asked?: Asked,
  ) => Effect.Effect<WorkItem, TransitionError | ItemNotFound | ProjectionError | PersistError>
  readonly editContent: (
    id: StoryId,
    edit: ContentEdit,
  ) => Effect.Effect<void, ItemNotFound | ContentEditError | ContentConflict | PersistError>
  readonly delete: (id: StoryId) => Effect.Effect<DeleteReport, PersistError>
  readonly get: (id: StoryId) => Effect.Effect<WorkItem, ItemNotFound | ProjectionError>
  readonly content: (id: StoryId) => Effect.Effect<string, ItemNotFound>
  /** The item's moves (and creation, blocks, agent starts and exits), oldest first, the newest 200. */
  readonly history: (
    id: StoryId,
  ) => Effect.Effect<ReadonlyArray<HistoryEntry>, ItemNotFound | ProjectionError | PersistError>
  readonly list: Effect.Effect<{
    readonly items: ReadonlyArray<WorkItem>
    readonly errors: ReadonlyArray<ProjectionError>
  }>
  /**
   * Sets (or moves) the item's timer of `kind`, for the stage the item is in now: the timer goes
   * away when the item leaves that stage, in the same write as the move.
   */
  readonly setTimer: (input: SetTimer) => Effect.Effect<Timer, ItemNotFound | TimerRefused | PersistError>
  /** Removes the item's timers (all, or those with the given ids); returns the ids removed. */
  readonly cancelTimers: (
    id: StoryId,
    timerIds?: ReadonlyArray<string>,
  ) => Effect.Effect<ReadonlyArray<string>, PersistError>
  /** Every timer, soonest first. */
  readonly timers: Effect.Effect<{
    readonly timers: ReadonlyArray<Timer>
    readonly errors: ReadonlyArray<ProjectionError>
  }>
  /** Sets the item's merge job (the item must exist). */
  readonly setMergeJob: (job: MergeJob) => Effect.Effect<void, ItemNotFound | PersistError>
  readonly clearMergeJob: (id: StoryId) => Effect.Effect<void, PersistError>
  /** Every merge job, oldest first; one that does not decode is a ProjectionError. */
  readonly mergeJobs: Effect.Effect<{
    readonly jobs: ReadonlyArray<MergeJob>
    readonly errors: ReadonlyArray<ProjectionError>
  }>
  readonly dump: (id?: string) => Effect.Effect<Record<string, unknown>>
  /** Writes a snapshot of the whole document and drops the updates it covers. */
  readonly compact: Effect.Effect<void, PersistError>
  readonly events: PubSub.PubSub<StoreEvent>
  readonly subscribe: Effect.Effect<Queue.Dequeue<StoreEvent>, never, Scope.Scope>
}

export class Store extends Context.Tag("huskies/Store")<Store, StoreShape>() {}

export interface StoreOptions {
  /** Compact once this many updates follow the last snapshot. */
  readonly compactEvery?: number
}

export const makeStore = (options: StoreOptions = {}) =>
  Effect.gen(function* () {
    const persistence = yield* Persistence
    const compactEvery = options.compactEvery ?? 10_000
    const initial = yield* loadDoc(persistence)
    // The document and its counters belong to this service; every write holds the write lock
    // (storeCommit.ts), so no two fibers ever mutate them at once. A reader may see a write whose batch
    // waits for the disk; nothing acts on it before it is there (events follow the disk, peers too).
    let doc = initial.doc
    let maps = docMaps(doc)
    let readText = textCache(doc)
    let highestNumber = trackHighestNumber(maps)
    let sinceSnapshot = initial.stored.tail.length
    let lastSeq = initial.stored.lastSeq
    const history = historyDocument(persistence, compactEvery)
    const events = yield* PubSub.unbounded<StoreEvent>()
    const updates = yield* PubSub.unbounded<CommittedUpdate>()

    // Only after the open batch is written (storeCommit.ts): a snapshot covers what is on disk alone.
    const compactNow = Effect.suspend(() => {
      const seq = lastSeq
      return persistence.compact(Y.encodeStateAsUpdate(doc), seq).pipe(
        Effect.tap(() =>
          Effect.sync(() => {
            sinceSnapshot = 0
          }),
        ),
      )
    })

    // The in-memory document went ahead of the disk: throw it away and reload what is durable.
    const restoreFromDisk = loadDoc(persistence).pipe(
      Effect.tap(({ doc: fresh, stored }) =>
        Effect.sync(() => {
          doc.destroy()
          doc = fresh
          maps = docMaps(fresh)
          readText = textCache(fresh)
          highestNumber = trackHighestNumber(maps)
          sinceSnapshot = stored.tail.length
          lastSeq = stored.lastSeq
        }),
      ),
      Effect.orDieWith(
        (e) => new Error(`the database cannot be read back after a failed write: ${e.message}`),
      ),
    )

    const saved = (seq: number | undefined, count: number) => {
      if (seq !== undefined) lastSeq = seq
      sinceSnapshot += count
      if (count === 0 || sinceSnapshot < compactEvery) return undefined
      // A failed compaction loses nothing: the updates stay in the log until the next try.
      return compactNow.pipe(
        Effect.catchAll((e) => Effect.logWarning("compaction failed; will retry", e.message)),
      )
    }

    const { write, commit, publish, flush, writeNow, commitNow, publishNow } = storeCommit({
      doc: () => doc,
      persistence,
      history,
      events,
      updates,
      saved,
      restore: Effect.asVoid(restoreFromDisk),
    })
    /** The sync surface's turns: a peer is never shown a change before it is on disk. */
    const settledWrite = <A, E>(effect: Effect.Effect<A, E>) => write(Effect.zipRight(flush, effect))

    const create = (input: CreateItem) =>
      write(
        Effect.gen(function* () {
          const at = yield* Clock.currentTimeMillis
          const highWater = Number(maps.meta.get("highWater") ?? 0)
          const number = nextStoryNumber(Math.max(highWater, highestNumber()), [])
          const id = makeStoryId(number, input.kind, input.name)
          const item = newWorkItem(id, input.kind, at)
          const entry = createdEntry(item, { by: input.by })
          yield* commit(
            () => {
              maps.meta.set("highWater", number)
              writeItem(maps, undefined, item)
              maps.content.set(id, new Y.Text(input.content))
            },
            { _tag: "Record", id, entry },
          )
          yield* publish({ _tag: "ItemCreated", item })
          return item
        }),
      )

    const getNow = (id: StoryId): Effect.Effect<WorkItem, ItemNotFound | ProjectionError> => {
      const result = readItem(maps, id)
      if (result === undefined) return Effect.fail(new ItemNotFound({ id }))
      return Either.isRight(result) ? Effect.succeed(result.right) : Effect.fail(result.left)
    }

    const apply = (id: StoryId, event: PipelineEvent, asked?: Asked) =>
      write(
        Effect.gen(function* () {
          const before = yield* getNow(id)
          const after = yield* Either.match(transition(before, event), {
            onLeft: (e) => Effect.fail(e),
            onRight: (next) => Effect.succeed(next),
          })
          const left = before.stage._tag !== after.stage._tag
          const entry = historyEntryOf(before, after, event, asked)
          const dropped = yield* commit(
            () => {
              writeItem(maps, before, after)
              // A timer set for the stage the item just left must never act on it again.
              return left ? removeTimers(maps, id, (timer) => !isForStage(timer, after.stage._tag)) : []
            },
            entry === undefined ? undefined : { _tag: "Record", id, entry },
          )
          yield* publish({ _tag: "ItemChanged", before, after, event, entry })
          if (dropped.length > 0) yield* publish({ _tag: "TimersChanged", id })
          return after
        }),
      )

    // The hot path (an editor types through it): its body runs no Effect under the lock.
    const editContent = (id: StoryId, edit: ContentEdit) =>
      writeNow((): Either.Either<void, ItemNotFound | ContentEditError | ContentConflict> => {
        const text = maps.content.get(id)
        if (text === undefined || !maps.items.has(id)) return Either.left(new ItemNotFound({ id }))
        const current = edit._tag === "Replace" ? readText(text) : ""
        if (edit._tag === "Replace" && edit.expected !== undefined && edit.expected !== current) {
          return Either.left(new ContentConflict({ id }))
        }
        const splice = edit._tag === "Replace" ? minimalSplice(current, edit.text) : edit
        const length = text.length
        if (!Number.isInteger(splice.index) || splice.index < 0 || splice.index > length) {
          return Either.left(
            new ContentEditError({ id, field: "index", detail: `must be an integer in 0..${length}` }),
          )
        }
        if (
          !Number.isInteger(splice.deleteCount) ||
          splice.deleteCount < 0 ||
          splice.index + splice.deleteCount > length
        ) {
          return Either.left(
            new ContentEditError({
              id,
              field: "deleteCount",
              detail: `must be an integer in 0..${length - splice.index} at index ${splice.index}`,
            }),
          )
        }
        if (splice.deleteCount === 0 && splice.insert === "") return Either.void
        commitNow(() => {
          if (splice.deleteCount > 0) text.delete(splice.index, splice.deleteCount)
          if (splice.insert !== "") text.insert(splice.index, splice.insert)
        })
        publishNow({ _tag: "ContentChanged", id })
        return Either.void
      })

    const remove = (id: StoryId) =>
      write(
        Effect.gen(function* () {
          const report = yield* commit(() => removeItem(maps, id), { _tag: "Remove", id })
          yield* publish({ _tag: "ItemDeleted", id, report })
          return report
        }),
      )

    const setTimer = (input: SetTimer) =>
      write(
        Effect.gen(function* () {
          const item = yield* getNow(input.storyId).pipe(
            Effect.catchTag("ProjectionError", () => Effect.fail(new ItemNotFound({ id: input.storyId }))),
          )
          if (!timerStages[input.kind].includes(item.stage._tag)) {
            return yield* new TimerRefused({ id: item.id, kind: input.kind, stage: item.stage._tag })
          }
          const createdAt = yield* Clock.currentTimeMillis
          const timer: Timer = {
            id: timerId(item.id, input.kind),
            storyId: item.id,
            kind: input.kind,
            stage: item.stage._tag,
            at: Math.max(0, Math.round(input.at)),
            createdAt,
            note: input.note,
          }
          yield* commit(() => maps.timers.set(timer.id, { ...timer }))
          yield* publish({ _tag: "TimersChanged", id: item.id })
          return timer
        }),
      )

    const cancelTimers = (id: StoryId, timerIds?: ReadonlyArray<string>) =>
      write(
        Effect.gen(function* () {
          const wanted = timerIds === undefined ? undefined : new Set(timerIds)
          const removed = yield* commit(() =>
            removeTimers(maps, id, (timer) => wanted === undefined || wanted.has(timerIdOf(timer))),
          )
          if (removed.length > 0) yield* publish({ _tag: "TimersChanged", id })
          return removed
        }),
      )

    const setMergeJob = (job: MergeJob) =>
      write(
        Effect.gen(function* () {
          if (!maps.items.has(job.storyId)) return yield* new ItemNotFound({ id: job.storyId })
          yield* commit(() => maps.mergeJobs.set(job.storyId, { ...job }))
          yield* publish({ _tag: "MergeJobChanged", id: job.storyId })
        }),
      )

    const clearMergeJob = (id: StoryId) =>
      write(
        Effect.gen(function* () {
          const had = yield* commit(() => {
            const present = maps.mergeJobs.has(id)
            maps.mergeJobs.delete(id)
            return present
          })
          if (had) yield* publish({ _tag: "MergeJobChanged", id })
        }),
      )

    return {
      // Persistence makes `node-<uuid>` ids; one edited by hand into something invalid is a defect here.
      nodeId: NodeId.make(persistence.nodeId),
      create,
      apply,
      editContent,
      delete: remove,
      get: (id) => Effect.suspend(() => getNow(id)),
      content: (id) =>
        Effect.suspend(() => {
          const text = maps.content.get(id)
          return text === undefined ? Effect.fail(new ItemNotFound({ id })) : Effect.succeed(readText(text))
        }),
      history: (id) =>
        Effect.suspend(
          (): Effect.Effect<ReadonlyArray<HistoryEntry>, ItemNotFound | ProjectionError | PersistError> => {
            if (!maps.items.has(id)) return Effect.fail(new ItemNotFound({ id }))
            // Loaded: read as the state is, without the lock; else loaded under it first.
            const loaded = history.readLoaded(id)
            if (loaded === undefined) return write(history.read(id))
            return Either.isRight(loaded) ? Effect.succeed(loaded.right) : Effect.fail(loaded.left)
          },
        ),
      list: Effect.sync(() => readAllItems(maps)),
      setTimer,
      cancelTimers,
      setMergeJob,
      clearMergeJob,
      mergeJobs: Effect.sync(() => readMergeJobs(maps)),
      timers: Effect.sync(() => readTimers(maps)),
      dump: (id) =>
        Effect.sync(() => ({
          ...dumpDoc(maps, id),
          projectionErrors: readAllItems(maps).errors.map(errorJson),
        })),
      compact: write(Effect.zipRight(flush, compactNow)),
      ...storeParts({ maps: () => maps, commit, write, publish, node: persistence.nodeId }),
      ...syncSurface({
        doc: () => doc,
        maps: () => maps,
        history,
        commit,
        write: settledWrite,
        publish,
        updates,
      }),
      events,
      subscribe: PubSub.subscribe(events),
    } satisfies StoreShape
  })

const errorJson = (e: ProjectionError) => ({ path: e.path, detail: e.detail })

export const StoreLive = (options: StoreOptions = {}) => Layer.effect(Store, makeStore(options))

/** The Store on the SQLite file at `dbPath`, with its Persistence visible to callers too. */
export const StoreOnDisk = (
  dbPath: string,
  durability: Durability = "normal",
  options: StoreOptions & StoreFileOptions = {},
) => StoreLive(options).pipe(Layer.provideMerge(PersistenceLive(dbPath, durability, options)))
