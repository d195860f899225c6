// src/layers/ProjectLock.ts — one server per project: an exclusive lock on `.huskies/run/server.lock`
// held for the server's life, and a record of who holds it (`server.json`: pid and URL) so a second
// `serve` says which server to stop. Acquired by `serve` before it opens the store.
import Database from "better-sqlite3"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { projectPaths } from "./Project.js"
import { ensurePrivateDir, ensurePrivateFile, privateWrite } from "./privateFiles.js"

export class ProjectLocked extends Schema.TaggedError<ProjectLocked>()("ProjectLocked", {
  root: Schema.String,
  holder: Schema.String,
}) {
  override get message(): string {
    return `another huskies server already serves ${this.root} (${this.holder}): use that one, or stop it before starting a new one`
  }
}

export class ProjectLockError extends Schema.TaggedError<ProjectLockError>()("ProjectLockError", {
  path: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `could not lock the project at ${this.path}: ${this.detail} (check the permissions of .huskies/run/)`
  }
}

const ServerRecord = Schema.parseJson(
  Schema.Struct({ pid: Schema.Int, url: Schema.String, startedAt: Schema.Number }),
)

export interface ProjectLockShape {
  /** Records the URL this server answers on, for a second `serve` (and people) to find. */
  readonly recordListening: (url: string) => Effect.Effect<void>
}

export class ProjectLock extends Context.Tag("huskies/ProjectLock")<ProjectLock, ProjectLockShape>() {}

const runDir = (root: string) => join(projectPaths(root).huskiesDir, "run")
export const serverRecordPath = (root: string) => join(runDir(root), "server.json")

/** Who holds the lock, as its record says; a record that cannot be read still names the file. */
const describeHolder = (root: string): string => {
  const path = serverRecordPath(root)
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch {
    return "it is still starting: its pid and URL are not recorded yet"
  }
  return Option.match(Schema.decodeUnknownOption(ServerRecord)(text), {
    onNone: () => `its record ${path} cannot be read`,
    onSome: (record) => `pid ${record.pid}, ${record.url}`,
  })
}

/**
 * Node has no flock, so the lock is SQLite's: an exclusive transaction on a lock file takes a POSIX
 * lock that the kernel drops when the process ends, however it ends (kill -9 included), and SQLite
 * makes a second connection in the same process see it too. Nothing is ever written in it.
 */
const acquire = (root: string) =>
  Effect.gen(function* () {
    const dir = runDir(root)
    const lockPath = join(dir, "server.lock")
    const opened = yield* Effect.try({
      try: () => {
        // `.huskies/` is private as a whole: whatever is in it, no other user can reach. Its state
        // directories are made private here too, since git creates the worktree parents itself.
        const { huskiesDir } = projectPaths(root)
        for (const sub of ["", "run", "logs", "worktrees", "merge"]) ensurePrivateDir(join(huskiesDir, sub))
        ensurePrivateFile(lockPath)
        const db = new Database(lockPath, { timeout: 0 })
        try {
          db.pragma("journal_mode = MEMORY")
          db.exec("BEGIN EXCLUSIVE")
          return db
        } catch (e) {
          db.close()
          if ((e as { code?: unknown }).code === "SQLITE_BUSY") return undefined
          throw e
        }
      },
      catch: (e) =>
        new ProjectLockError({ path: lockPath, detail: e instanceof Error ? e.message : String(e) }),
    })
    if (opened === undefined) return yield* new ProjectLocked({ root, holder: describeHolder(root) })
    // A record left now is a killed server's: it would name a process that is gone.
    rmSync(serverRecordPath(root), { force: true })
    return opened
  })

const release = (root: string, db: Database.Database) =>
  Effect.sync(() => {
    // The record goes first, while the lock still keeps a new server from writing its own.
    rmSync(serverRecordPath(root), { force: true })
    db.close()
  })

/** Holds the project's lock for the layer's lifetime; fails with `ProjectLocked` if a server holds it. */
export const ProjectLockLive = (root: string) =>
  Layer.scoped(
    ProjectLock,
    Effect.gen(function* () {
      yield* Effect.acquireRelease(acquire(root), (db) => release(root, db))
      const startedAt = Date.now()
      return {
        recordListening: (url) =>
          Effect.sync(() =>
            writeFileSync(
              serverRecordPath(root),
              Schema.encodeSync(ServerRecord)({ pid: process.pid, url, startedAt }),
              privateWrite,
            ),
          ).pipe(
            // The record only helps a second server say who is running; the lock works without it.
            Effect.catchAllDefect((e) => Effect.logWarning(`server record not written: ${String(e)}`)),
          ),
      }
    }),
  )
