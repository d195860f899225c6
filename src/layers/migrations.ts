// src/layers/migrations.ts — versioned schema of huskies.db. Each migration runs once, in order,
// inside a transaction; `schema_version` records which ran. Used by Persistence when it opens the file.
import type Database from "better-sqlite3"

interface Migration {
  readonly version: number
  readonly name: string
  readonly statements: ReadonlyArray<string>
}

export const migrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: "update log, snapshots and local metadata",
    statements: [
      `CREATE TABLE updates (seq INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL)`,
      `CREATE TABLE snapshots (upto_seq INTEGER PRIMARY KEY, data BLOB NOT NULL, created_at INTEGER NOT NULL)`,
      `CREATE TABLE local_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    ],
  },
  {
    // A second document, read only when an item's history is, so a start never loads it.
    version: 2,
    name: "items' history: its own update log and snapshots",
    statements: [
      `CREATE TABLE history_updates (seq INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL)`,
      `CREATE TABLE history_snapshots (upto_seq INTEGER PRIMARY KEY, data BLOB NOT NULL, created_at INTEGER NOT NULL)`,
    ],
  },
  {
    // A history update saved in the row of the change it records: one insert, both or neither.
    version: 3,
    name: "a change's history update in its row",
    statements: [`ALTER TABLE updates ADD COLUMN history BLOB`],
  },
]

export const latestSchemaVersion = migrations.reduce((max, m) => Math.max(max, m.version), 0)

/** Brings the file to the latest schema, each migration in its own transaction; throws for a file newer
 * than this huskies. */
export const migrate = (db: Database.Database): void => {
  db.exec(
    `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
  )
  const row = db.prepare("SELECT MAX(version) AS version FROM schema_version").get() as
    { version: number | null } | undefined
  const current = row?.version ?? 0
  if (current > latestSchemaVersion) {
    throw new Error(
      `huskies.db has schema version ${current}, newer than this huskies understands (${latestSchemaVersion}): upgrade huskies`,
    )
  }
  const record = db.prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)")
  for (const m of migrations) {
    if (m.version <= current) continue
    db.transaction(() => {
      for (const statement of m.statements) db.exec(statement)
      record.run(m.version, m.name, Date.now())
    })()
  }
}
