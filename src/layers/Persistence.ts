// src/layers/Persistence.ts — durable storage of the project's Yjs documents in `.huskies/huskies.db`:
// for each (the state, and the items' history) an append-only log of updates plus snapshots, compacted
// in one transaction. Used only by Store.
import Database from "better-sqlite3"
import { Context, Effect, Either, Layer, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { existsSync } from "node:fs"
import { dirname } from "node:path"
import { migrate } from "./migrations.js"
import { ensurePrivateDir, ensurePrivateFile } from "./privateFiles.js"
import { checkStoreFile, rememberStore, type StoreFileOptions } from "./storeFile.js"

export class PersistError extends Schema.TaggedError<PersistError>()("PersistError", {
  operation: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `could not ${this.operation} in the huskies database: ${this.detail} (the change was not applied; check disk space and permissions of .huskies/huskies.db)`
  }
}

/**
 * How far an acknowledged write survives. Either way a write is acknowledged only once the SQLite
 * transaction holding it has committed (writes in flight together share one: storeCommit.ts).
 * "normal" (WAL, synchronous=NORMAL): every acknowledged write survives a crash or kill -9 of the process;
 * power loss or an OS crash may lose the newest ones. "full" (synchronous=FULL): those survive too, at the
 * price of an fsync per transaction.
 */
export type Durability = "normal" | "full"

export interface StoredState {
  /** The latest snapshot, covering every update with seq <= snapshotSeq. */
  readonly snapshot: Uint8Array | undefined
  readonly snapshotSeq: number
  /** Updates appended after the snapshot, in append order. */
  readonly tail: ReadonlyArray<Uint8Array>
  readonly lastSeq: number
}

/**
 * The items' history: a document of its own, so loading the state never reads it. Its updates wait in
 * its own log, or beside the change of the state they record (one row: both or neither is saved).
 */
export interface HistoryLog {
  /** Its latest snapshot and every update after it, from both places. */
  readonly load: Effect.Effect<Pick<StoredState, "snapshot" | "tail">, PersistError>
  /** Appends an update that goes with no change of the state. */
  readonly append: (update: Uint8Array) => Effect.Effect<void, PersistError>
  /** Replaces the snapshot and every update with `snapshot`, which must cover them all, atomically. */
  readonly compact: (snapshot: Uint8Array) => Effect.Effect<void, PersistError>
}

/** One row of a batch: a state update (with the history's update that records it), or a history update. */
export interface AppendRow {
  readonly update: Uint8Array | undefined
  readonly history: Uint8Array | undefined
}

export interface PersistenceShape {
  readonly load: Effect.Effect<StoredState, PersistError>
  /** Appends one update; when this succeeds the update is on disk (see Durability). */
  readonly append: (update: Uint8Array) => Effect.Effect<number, PersistError>
  /** Replaces every update up to `uptoSeq` with `snapshot`, atomically. */
  readonly compact: (snapshot: Uint8Array, uptoSeq: number) => Effect.Effect<void, PersistError>
  readonly history: HistoryLog
  /**
   * Appends the rows in one transaction, synchronously: no other fiber runs meanwhile, so the rows are on
   * disk or none is when it returns. Returns the last state update's sequence number, if any.
   */
  readonly appendBatch: (rows: ReadonlyArray<AppendRow>) => Either.Either<number | undefined, PersistError>
  /** Appends an update of the state with the history's update that records it, in one row. */
  readonly appendWithHistory: (update: Uint8Array, history: Uint8Array) => Effect.Effect<number, PersistError>
  /** This machine's node id, created on first open and kept in the database (never replicated). */
  readonly nodeId: string
  readonly path: string
}

export class Persistence extends Context.Tag("huskies/Persistence")<Persistence, PersistenceShape>() {}

const toPersistError = (operation: string) => (cause: unknown) =>
  new PersistError({ operation, detail: cause instanceof Error ? cause.message : String(cause) })

const toBytes = (value: unknown): Uint8Array => {
  if (value instanceof Uint8Array) return value
  throw new Error(`expected a BLOB, found ${typeof value}`)
}

/** Runs `body` synchronously; what it throws is a PersistError saying what could not be done. */
const attempt =
  (operation: string) =>
  <A>(body: () => A): Either.Either<A, PersistError> => {
    try {
      return Either.right(body())
    } catch (cause) {
      return Either.left(toPersistError(operation)(cause))
    }
  }

const open = (path: string, durability: Durability) => {
  const db = new Database(path)
  try {
    db.pragma("journal_mode = WAL")
    // See Durability: what each setting keeps of the acknowledged writes, and what it costs.
    db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`)
    db.pragma("busy_timeout = 5000")
    migrate(db)
    return db
  } catch (e) {
    db.close()
    throw e
  }
}

/**
 * Persistence on its own better-sqlite3 connection: statements prepared once and run synchronously, so a
 * write costs what SQLite costs, and a batch is one transaction no other fiber can interleave with.
 */
const make = (db: Database.Database, path: string): PersistenceShape => {
  const existing = db.prepare("SELECT value FROM local_meta WHERE key = 'node_id'").get() as
    { value: string } | undefined
  let nodeId = existing?.value
  if (nodeId === undefined) {
    nodeId = `node-${randomUUID()}`
    db.prepare("INSERT INTO local_meta (key, value) VALUES ('node_id', ?)").run(nodeId)
  }

  const insertUpdate = db.prepare("INSERT INTO updates (data, history) VALUES (?, ?)")
  const insertHistory = db.prepare("INSERT INTO history_updates (data) VALUES (?)")
  const latestSnapshot = db.prepare("SELECT upto_seq, data FROM snapshots ORDER BY upto_seq DESC LIMIT 1")
  const tailAfter = db.prepare("SELECT seq, data FROM updates WHERE seq > ? ORDER BY seq")
  const maxSeq = db.prepare("SELECT MAX(seq) AS seq FROM updates")

  const appendRow = (row: AppendRow): number | undefined => {
    if (row.update !== undefined)
      return Number(insertUpdate.run(row.update, row.history ?? null).lastInsertRowid)
    if (row.history !== undefined) insertHistory.run(row.history)
    return undefined
  }
  const appendRows = db.transaction((rows: ReadonlyArray<AppendRow>) => {
    let last: number | undefined
    for (const row of rows) last = appendRow(row) ?? last
    return last
  })
  // One row is one statement, atomic by itself: no transaction around it (a lone write costs one commit,
  // and what a refusing trigger did before it failed stays, as for any statement outside a transaction).
  const appendBatch = (rows: ReadonlyArray<AppendRow>) =>
    attempt("save a change")(() => (rows.length === 1 ? appendRow(rows[0] as AppendRow) : appendRows(rows)))
  const appendOne = (update: Uint8Array, history: Uint8Array | null) =>
    Effect.suspend(() =>
      attempt("save a change")(() => Number(insertUpdate.run(update, history).lastInsertRowid)),
    )

  const load = Effect.suspend(() =>
    attempt("read the stored state")((): StoredState => {
      const snap = latestSnapshot.get() as { upto_seq: number; data: unknown } | undefined
      const snapshotSeq = snap?.upto_seq ?? 0
      const tail = tailAfter.all(snapshotSeq) as Array<{ seq: number; data: unknown }>
      const last = maxSeq.get() as { seq: number | null } | undefined
      return {
        snapshot: snap === undefined ? undefined : toBytes(snap.data),
        snapshotSeq,
        tail: tail.map((r) => toBytes(r.data)),
        lastSeq: Math.max(snapshotSeq, last?.seq ?? 0),
      }
    }),
  )

  const compactState = db.transaction((snapshot: Uint8Array, uptoSeq: number) => {
    db.prepare("INSERT OR REPLACE INTO snapshots (upto_seq, data, created_at) VALUES (?, ?, ?)").run(
      uptoSeq,
      snapshot,
      Date.now(),
    )
    db.prepare("DELETE FROM snapshots WHERE upto_seq < ?").run(uptoSeq)
    // The history's updates written beside these changes move to its own log (its snapshot does not
    // cover them yet), so the history never has to be loaded to compact the state.
    db.prepare(
      "INSERT INTO history_updates (data) SELECT history FROM updates WHERE seq <= ? AND history IS NOT NULL ORDER BY seq",
    ).run(uptoSeq)
    db.prepare("DELETE FROM updates WHERE seq <= ?").run(uptoSeq)
  })

  const compactHistory = db.transaction((snapshot: Uint8Array) => {
    db.prepare(
      "INSERT INTO history_snapshots (upto_seq, data, created_at) SELECT COALESCE(MAX(upto_seq), 0) + 1, ?, ? FROM history_snapshots",
    ).run(snapshot, Date.now())
    db.prepare(
      "DELETE FROM history_snapshots WHERE upto_seq < (SELECT MAX(upto_seq) FROM history_snapshots)",
    ).run()
    db.prepare("DELETE FROM history_updates").run()
    db.prepare("UPDATE updates SET history = NULL WHERE history IS NOT NULL").run()
  })

  const history: HistoryLog = {
    load: Effect.suspend(() =>
      attempt("read the items' history")(() => {
        const snap = db.prepare("SELECT data FROM history_snapshots ORDER BY upto_seq DESC LIMIT 1").get() as
          { data: unknown } | undefined
        const own = db.prepare("SELECT data FROM history_updates ORDER BY seq").all() as Array<{
          data: unknown
        }>
        const beside = db
          .prepare("SELECT history FROM updates WHERE history IS NOT NULL ORDER BY seq")
          .all() as Array<{ history: unknown }>
        return {
          snapshot: snap === undefined ? undefined : toBytes(snap.data),
          tail: [...own.map((r) => toBytes(r.data)), ...beside.map((r) => toBytes(r.history))],
        }
      }),
    ),
    append: (update) => Effect.suspend(() => attempt("save a change")(() => void insertHistory.run(update))),
    compact: (snapshot) =>
      Effect.suspend(() => attempt("compact the history log")(() => compactHistory(snapshot))),
  }

  return {
    load,
    append: (update) => appendOne(update, null),
    appendBatch,
    compact: (snapshot, uptoSeq) =>
      Effect.suspend(() => attempt("compact the change log")(() => compactState(snapshot, uptoSeq))),
    history,
    appendWithHistory: appendOne,
    nodeId,
    path,
  }
}

/**
 * Persistence in the SQLite file at `path`, created 0600 (with its directory, 0700) when missing. A
 * file that is damaged, or empty or gone after a store existed there, fails with `StoreDamaged`.
 */
export const PersistenceLive = (
  path: string,
  durability: Durability = "normal",
  options: StoreFileOptions = {},
) =>
  Layer.scoped(
    Persistence,
    Effect.gen(function* () {
      yield* checkStoreFile(path, options)
      yield* Effect.sync(() => {
        ensurePrivateDir(dirname(path))
        // SQLite gives the -wal and -shm files the database's mode; older ones are tightened here.
        for (const file of [path, `${path}-wal`, `${path}-shm`])
          if (file === path || existsSync(file)) ensurePrivateFile(file)
      })
      const db = yield* Effect.acquireRelease(
        Effect.try({ try: () => open(path, durability), catch: toPersistError("open the database") }),
        (db) => Effect.sync(() => db.close()),
      )
      const persistence = yield* Effect.try({
        try: () => make(db, path),
        catch: toPersistError("open the database"),
      })
      yield* rememberStore(path, persistence.nodeId)
      return persistence
    }),
  )
