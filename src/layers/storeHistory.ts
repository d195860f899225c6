// src/layers/storeHistory.ts — the items' history: a Y.Doc of its own (item id -> Y.Array of entries, the
// newest `historyLimit` kept), persisted apart from the state (Persistence's HistoryLog) and loaded only
// when first read or written (or synced with a node), so a start never pays for it. Store saves an entry in
// the row of its change; a peer's history update is saved in a row of its own (storeSync.ts).
import { Effect, Either } from "effect"
import * as Y from "yjs"
import { HistoryEntry, historyLimit } from "../domain/History.js"
import { decodeOnce, ProjectionError } from "./docModel.js"
import { type HistoryLog, PersistError, type PersistenceShape } from "./Persistence.js"
import { docFromStored } from "./storeFile.js"

/** item id -> its entries, oldest first. */
export type HistoryEntries = Y.Map<Y.Array<unknown>>

/** What a Store write does to the history: record an entry of an item, remove an item's history, or apply
 * a peer's update of the history document. */
export type HistoryChange =
  | { readonly _tag: "Record"; readonly id: string; readonly entry: HistoryEntry }
  | { readonly _tag: "Remove"; readonly id: string }
  | { readonly _tag: "Replicated"; readonly update: Uint8Array }

/** A peer's history update that Yjs cannot read: nothing of it is kept (the document is read again). */
export class UnreadableHistoryUpdate extends Error {
  override readonly name = "UnreadableHistoryUpdate"
}

/**
 * Applies a local `change` to the entries (inside a Y transaction); true when something changed. A record
 * trims the item's list to the newest `limit` as this replica sees it: entries recorded at once on two
 * nodes may leave a few more after they merge (never fewer: what a replica trims has `limit` newer entries
 * after it in every replica's order), and `readEntries` shows the newest `limit`, the same on every replica.
 */
export const applyChange = (
  entries: HistoryEntries,
  change: Exclude<HistoryChange, { readonly _tag: "Replicated" }>,
  limit = historyLimit,
): boolean => {
  if (change._tag === "Remove") {
    const had = entries.has(change.id)
    entries.delete(change.id)
    return had
  }
  let list = entries.get(change.id)
  if (!(list instanceof Y.Array)) {
    list = new Y.Array<unknown>()
    entries.set(change.id, list)
  }
  list.push([{ ...change.entry }])
  if (list.length > limit) list.delete(0, list.length - limit)
  return true
}

const decodeEntry = decodeOnce(HistoryEntry)

/**
 * The item's newest `limit` entries, oldest first; an entry that does not decode is a ProjectionError,
 * never dropped.
 */
export const readEntries = (
  entries: HistoryEntries,
  id: string,
  limit = historyLimit,
): Either.Either<ReadonlyArray<HistoryEntry>, ProjectionError> => {
  const raw = entries.get(id)
  if (raw === undefined) return Either.right([])
  if (!(raw instanceof Y.Array)) {
    return Either.left(new ProjectionError({ path: `history/${id}`, detail: "expected an array of entries" }))
  }
  const out: Array<HistoryEntry> = []
  const first = Math.max(0, raw.length - limit)
  for (const [offset, value] of raw.slice(first).entries()) {
    const decoded = decodeEntry(value)
    if (Either.isLeft(decoded))
      return Either.left(
        new ProjectionError({ path: `history/${id}/${first + offset}`, detail: decoded.left }),
      )
    out.push(decoded.right)
  }
  return Either.right(out)
}

interface Loaded {
  readonly doc: Y.Doc
  readonly entries: HistoryEntries
  sinceSnapshot: number
}

const loadFrom = (log: HistoryLog) =>
  Effect.gen(function* () {
    const stored = yield* log.load
    // The state loaded at the start; a history that cannot be read fails what needs it, not the server.
    const doc = yield* docFromStored(
      stored,
      (e) =>
        new PersistError({
          operation: "read the items' history",
          detail: `it holds changes that cannot be read: ${e instanceof Error ? e.message : String(e)}`,
        }),
    )
    const loaded: Loaded = { doc, entries: doc.getMap("history"), sinceSnapshot: stored.tail.length }
    return loaded
  })

/**
 * The history document of one Store. Every call runs under the Store's write lock (reads too: the load
 * shares the database connection with writes), so the document is loaded at most once at a time; only
 * `readLoaded`, which never loads, needs none. Its changes are saved by the Store's group commit
 * (storeCommit.ts), beside the state's.
 */
export const historyDocument = (persistence: PersistenceShape, compactEvery: number) => {
  let loaded: Loaded | undefined
  const load = Effect.suspend(() =>
    loaded !== undefined
      ? Effect.succeed(loaded)
      : Effect.tap(loadFrom(persistence.history), (fresh) =>
          Effect.sync(() => {
            loaded = fresh
          }),
        ),
  )
  /** After a failed write: memory went ahead of the disk, so the next use reads the disk again. */
  const forget = (): void => {
    loaded?.doc.destroy()
    loaded = undefined
  }

  /**
   * Applies `change` to the loaded document (`ready` first) and returns its update, for the Store to save
   * in the row of the state's change; undefined when nothing changed.
   */
  const stage = (change: HistoryChange): Uint8Array | undefined => {
    const h = loaded
    if (h === undefined) throw new Error("the items' history was staged before it was loaded")
    const captured: Array<Uint8Array> = []
    const onUpdate = (u: Uint8Array) => captured.push(u)
    h.doc.on("update", onUpdate)
    try {
      if (change._tag === "Replicated") Y.applyUpdate(h.doc, change.update)
      else h.doc.transact(() => applyChange(h.entries, change))
    } catch (e) {
      // What Yjs read of it before it failed may be in memory: the next use reads the disk again.
      forget()
      throw change._tag === "Replicated"
        ? new UnreadableHistoryUpdate(e instanceof Error ? e.message : String(e))
        : e
    } finally {
      h.doc.off("update", onUpdate)
    }
    if (captured.length === 0) return undefined
    h.sinceSnapshot++
    return captured.length === 1 ? captured[0] : Y.mergeUpdates(captured)
  }

  /** Whether the history's log is long enough to compact. */
  const due = (): boolean => loaded !== undefined && loaded.sinceSnapshot >= compactEvery

  /** Compacts the history's log into a snapshot; only once every staged change is on disk. */
  const compact = Effect.suspend(() => {
    const h = loaded
    if (h === undefined) return Effect.void
    return persistence.history.compact(Y.encodeStateAsUpdate(h.doc)).pipe(
      Effect.tap(() =>
        Effect.sync(() => {
          h.sinceSnapshot = 0
        }),
      ),
      // A failed compaction loses nothing: the updates stay in the log until the next try.
      Effect.catchAll((e) => Effect.logWarning("history compaction failed; will retry", e.message)),
    )
  })

  const read = (id: string): Effect.Effect<ReadonlyArray<HistoryEntry>, ProjectionError | PersistError> =>
    Effect.flatMap(load, (h) => {
      const entries = readEntries(h.entries, id)
      return Either.isRight(entries) ? Effect.succeed(entries.right) : Effect.fail(entries.left)
    })

  /**
   * `read` without the load, once the document is loaded (undefined until then): what is in memory, as the
   * state's reads see it, so it needs no lock (loading shares the database connection; reading does not).
   */
  const readLoaded = (id: string): Either.Either<ReadonlyArray<HistoryEntry>, ProjectionError> | undefined =>
    loaded === undefined ? undefined : readEntries(loaded.entries, id)

  /** The loaded document (loading it), for the sync surface's state vector and diffs; never to be written. */
  const document = Effect.map(load, (h) => h.doc)

  return { ready: Effect.asVoid(load), stage, due, compact, read, readLoaded, forget, document } as const
}

export type HistoryDocument = ReturnType<typeof historyDocument>
