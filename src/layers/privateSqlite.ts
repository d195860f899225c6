// src/layers/privateSqlite.ts — opens a small SQLite database of private state under `.huskies/` (the file
// 0600 before SQLite writes it, its directory 0700, WAL) for the life of a scope. Used by the chat
// conversations (ChatSessions), the chat outbox (Outbox) and the node list (nodeTrustDb).
import Database from "better-sqlite3"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { dirname } from "node:path"
import { ensurePrivateDir, ensurePrivateFile } from "./privateFiles.js"

export interface PrivateSqliteOptions<E> {
  /** Statements run on every open (`CREATE TABLE IF NOT EXISTS …`). */
  readonly schema: string
  /** Wait this long for another process's lock instead of failing at once (SQLite's busy_timeout). */
  readonly busyTimeoutMs?: number
  /** Runs after the schema, still inside the open: a migration of an older file. */
  readonly upgrade?: (db: Database.Database) => void
  /** The typed error for a failure to open, from what SQLite or the file system said. */
  readonly onError: (detail: string) => E
}

export const openPrivateSqlite = <E>(path: string, options: PrivateSqliteOptions<E>) =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        ensurePrivateDir(dirname(path))
        ensurePrivateFile(path)
        const opened = new Database(path)
        try {
          opened.pragma("journal_mode = WAL")
          if (options.busyTimeoutMs !== undefined) opened.pragma(`busy_timeout = ${options.busyTimeoutMs}`)
          opened.exec(options.schema)
          options.upgrade?.(opened)
          // SQLite gives -wal and -shm the database's mode; tightened here in case they predate it.
          for (const file of [`${path}-wal`, `${path}-shm`]) if (existsSync(file)) ensurePrivateFile(file)
          return opened
        } catch (e) {
          opened.close()
          throw e
        }
      },
      catch: (e) => options.onError(String(e)),
    }),
    (opened) => Effect.sync(() => opened.close()),
  )
