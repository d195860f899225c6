// src/layers/storeFile.ts — the checks `.huskies/huskies.db` passes before the store opens it: a file
// that is not a database, a damaged one, or one that existed and is now empty or gone stops the server
// with the file named, a copy kept and what to do. Used by PersistenceLive and Store's first load.
import Database from "better-sqlite3"
import { Effect, Schema } from "effect"
import * as Y from "yjs"
import type { PersistenceShape, StoredState } from "./Persistence.js"
import { copyFileSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { constants } from "node:fs"
import { ensurePrivateFile, privateWrite } from "./privateFiles.js"

export class StoreDamaged extends Schema.TaggedError<StoreDamaged>()("StoreDamaged", {
  path: Schema.String,
  problem: Schema.String,
  /** Where the damaged files were copied, if anything was there to copy. */
  copies: Schema.Array(Schema.String),
  fix: Schema.String,
}) {
  override get message(): string {
    const kept = this.copies.length === 0 ? "" : ` A copy is kept at ${this.copies.join(", ")}.`
    return `the project's store ${this.path} ${this.problem}.${kept} ${this.fix}`
  }
}

export interface StoreFileOptions {
  /** Start with an empty store even though one existed here before (`serve --start-empty`). */
  readonly startEmpty?: boolean
}

/** The identity of the store at `dbPath`, written when it is first opened; outlives the store's file. */
export const storeIdPath = (dbPath: string): string => `${dbPath}.id`

const sidecars = (dbPath: string) => [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]

/**
 * Copies the store's files (database, WAL, shared memory) to `<name>.corrupt-<time>`, never over an
 * existing file: each damaged state is kept as it was found, however often the server is started.
 */
export const keepCopies = (dbPath: string, now: Date): ReadonlyArray<string> => {
  const stamp = now.toISOString().replace(/[:.]/g, "-")
  const copies: Array<string> = []
  for (const file of sidecars(dbPath)) {
    if (!existsSync(file)) continue
    for (let n = 0; ; n++) {
      const target = `${file}.corrupt-${stamp}${n === 0 ? "" : `-${n}`}`
      try {
        copyFileSync(file, target, constants.COPYFILE_EXCL)
        copies.push(target)
        break
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      }
    }
  }
  return copies
}

const restoreOrStartEmpty = (dbPath: string) =>
  `Restore ${dbPath} from a backup, or run \`huskies serve --start-empty\` to start this project with no items.`

/** What is wrong with the file before SQLite opens it, or undefined when it is fit to open. */
const checkBeforeOpen = (dbPath: string) => {
  const existed = existsSync(storeIdPath(dbPath))
  if (!existsSync(dbPath)) {
    if (!existed) return undefined
    return {
      problem: `is gone, but ${storeIdPath(dbPath)} shows a store existed here: every work item it held is missing`,
      fix: restoreOrStartEmpty(dbPath),
    }
  }
  if (statSync(dbPath).size === 0)
    return {
      problem: "is empty (0 bytes): every work item it held is missing",
      fix: restoreOrStartEmpty(dbPath),
    }
  return undefined
}

/** SQLite's own verdict on the file: what is wrong with it, or undefined when it is fit to open. */
const sqliteProblem = (dbPath: string) => {
  const verdict = sqliteVerdict(dbPath)
  return verdict === "ok"
    ? undefined
    : { problem: `is damaged (${verdict})`, fix: restoreOrStartEmpty(dbPath) }
}

const sqliteVerdict = (dbPath: string): string => {
  if (!existsSync(dbPath)) return "ok"
  let db: Database.Database | undefined
  try {
    db = new Database(dbPath, { fileMustExist: true, timeout: 5_000 })
    const rows = db.pragma("quick_check(1)") as ReadonlyArray<{ quick_check: string }>
    return rows[0]?.quick_check ?? "ok"
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  } finally {
    db?.close()
  }
}

/**
 * Refuses a store file that would lose or hide the project's items if opened: one that is empty, or
 * gone while its identity file says it existed, or not a SQLite database, or failing SQLite's quick
 * check. A copy of what was there is kept either way; with `startEmpty` the files are then removed
 * and the store starts with no items (a healthy store is never touched).
 */
export const checkStoreFile = (dbPath: string, options: StoreFileOptions = {}) =>
  Effect.sync(() => {
    const found = checkBeforeOpen(dbPath) ?? sqliteProblem(dbPath)
    if (found === undefined) return undefined
    const copies = keepCopies(dbPath, new Date())
    if (options.startEmpty === true) {
      for (const file of sidecars(dbPath)) rmSync(file, { force: true })
      return undefined
    }
    return new StoreDamaged({ path: dbPath, copies, ...found })
  }).pipe(Effect.flatMap((damaged) => (damaged === undefined ? Effect.void : Effect.fail(damaged))))

/**
 * A valid SQLite file whose rows are not Yjs updates, found when the Store loads it: SQLite's checks
 * cannot see this. A copy is kept as for any damage.
 */
/** A Y.Doc from a stored snapshot and tail; `onUnreadable` says what a change that cannot be read is. */
export const docFromStored = <E>(
  stored: Pick<StoredState, "snapshot" | "tail">,
  onUnreadable: (cause: unknown) => E,
) =>
  Effect.try({
    try: () => {
      const doc = new Y.Doc()
      if (stored.snapshot !== undefined) Y.applyUpdate(doc, stored.snapshot)
      // Yjs merges are order-independent, so one merged apply equals replaying the tail one by one.
      if (stored.tail.length > 0) Y.applyUpdate(doc, Y.mergeUpdates([...stored.tail]))
      return doc
    },
    catch: onUnreadable,
  })

export const unreadableStore = (dbPath: string, cause: unknown): StoreDamaged =>
  new StoreDamaged({
    path: dbPath,
    problem: `holds changes that cannot be read (${cause instanceof Error ? cause.message : String(cause)})`,
    copies: keepCopies(dbPath, new Date()),
    fix: `Restore ${dbPath} from a backup, or move it aside with its -wal and -shm files and run \`huskies serve --start-empty\` to start this project with no items.`,
  })

/** Records that a store with `nodeId` exists at `dbPath`, so its later loss is noticed. */
export const rememberStore = (dbPath: string, nodeId: string) =>
  Effect.sync(() => {
    const path = storeIdPath(dbPath)
    const current = existsSync(path) ? readFileSync(path, "utf8") : undefined
    const next = JSON.stringify({ nodeId }) + "\n"
    if (current === next) return
    writeFileSync(path, next, privateWrite)
    ensurePrivateFile(path)
  })

/** The document Persistence holds (its snapshot and tail), or StoreDamaged when they cannot be read. */
export const loadDoc = (persistence: PersistenceShape) =>
  Effect.gen(function* () {
    const stored = yield* persistence.load
    const doc = yield* docFromStored(stored, (e) => unreadableStore(persistence.path, e))
    return { doc, stored }
  })
