// src/layers/Outbox.ts — the chat notifications waiting to be delivered, kept in `.huskies/outbox.db`
// (SQLite, 0600) so a restart or a platform outage loses none: enqueue (de-duplicated by id), pending,
// ack; with the thread root of each item per room, the message of each permission prompt (recorded before
// it is sent) and the adapters' small memories (Matrix's prompt reactions, WhatsApp's 24-hour windows).
// Used by the chat door (src/transports/chat/door), which gets it like Decisions.
import { Context, Effect, Layer } from "effect"
import { PersistError } from "./Persistence.js"
import { openPrivateSqlite } from "./privateSqlite.js"

export interface OutboxEntry {
  /** Unique per event and room: enqueueing an id twice keeps one. */
  readonly id: string
  readonly platform: string
  readonly room: string
  /** The item it is about (its thread), if any. */
  readonly item?: string | undefined
  /** moves | merges | failures | rate_limits | digest */
  readonly kind: string
  readonly text: string
  readonly at: number
}

export interface PromptMessage {
  readonly room: string
  readonly messageId: string
}

/** A prompt as recorded: its room from before the send, its message once the platform took it. */
export interface PromptRecord {
  readonly room: string
  /** Undefined while the send has not returned (or a previous run ended during it). */
  readonly messageId: string | undefined
}

export interface OutboxShape {
  readonly enqueue: (entries: ReadonlyArray<OutboxEntry>) => Effect.Effect<void, PersistError>
  /** Undelivered entries of a platform, oldest first. */
  readonly pending: (platform: string) => Effect.Effect<ReadonlyArray<OutboxEntry>, PersistError>
  /** Marks entries delivered (they are never sent again). */
  readonly ack: (ids: ReadonlyArray<string>) => Effect.Effect<void, PersistError>
  readonly threadRoot: (
    platform: string,
    room: string,
    item: string,
  ) => Effect.Effect<string | undefined, PersistError>
  readonly setThreadRoot: (
    platform: string,
    room: string,
    item: string,
    messageId: string,
  ) => Effect.Effect<void, PersistError>
  readonly prompt: (
    platform: string,
    decision: string,
  ) => Effect.Effect<PromptRecord | undefined, PersistError>
  /**
   * Records that the prompt of `decision` goes to `room`, before it is sent, so whatever answers it while
   * the send is under way finds it. True when this call recorded it; false when it was recorded already.
   */
  readonly recordPrompt: (
    platform: string,
    decision: string,
    room: string,
  ) => Effect.Effect<boolean, PersistError>
  readonly setPrompt: (
    platform: string,
    decision: string,
    message: PromptMessage,
  ) => Effect.Effect<void, PersistError>
  /** An adapter's remembered value under (platform, kind, key), if any. */
  readonly recall: (
    platform: string,
    kind: string,
    key: string,
  ) => Effect.Effect<string | undefined, PersistError>
  /** Remembers a value (the newest `keepMemories` per platform and kind are kept); undefined forgets it. */
  readonly memorise: (
    platform: string,
    kind: string,
    key: string,
    value: string | undefined,
  ) => Effect.Effect<void, PersistError>
}

/** How many values an adapter may remember per kind: bounded, however long the server runs. */
export const keepMemories = 1000

export class Outbox extends Context.Tag("huskies/Outbox")<Outbox, OutboxShape>() {}

const schema = `
CREATE TABLE IF NOT EXISTS outbox (
  id TEXT PRIMARY KEY, platform TEXT NOT NULL, room TEXT NOT NULL, item TEXT, kind TEXT NOT NULL,
  text TEXT NOT NULL, at INTEGER NOT NULL, delivered_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (platform, delivered_at, at);
CREATE TABLE IF NOT EXISTS thread_roots (
  platform TEXT NOT NULL, room TEXT NOT NULL, item TEXT NOT NULL, message_id TEXT NOT NULL,
  PRIMARY KEY (platform, room, item)
);
CREATE TABLE IF NOT EXISTS prompt_posts (
  platform TEXT NOT NULL, decision TEXT NOT NULL, room TEXT NOT NULL, message_id TEXT,
  PRIMARY KEY (platform, decision)
);
CREATE TABLE IF NOT EXISTS memories (
  platform TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (platform, kind, key)
);
CREATE INDEX IF NOT EXISTS memories_age ON memories (platform, kind, seq);`

// Outboxes written before prompts were recorded ahead of their send kept only sent ones, in `prompts`.
const migrate = `
INSERT OR IGNORE INTO prompt_posts (platform, decision, room, message_id)
  SELECT platform, decision, room, message_id FROM prompts;
DROP TABLE prompts;`

// Delivered entries are kept a day (a restart within it cannot resend them), then dropped.
const keepDelivered = 24 * 60 * 60 * 1000

const make = (path: string) =>
  Effect.gen(function* () {
    const db = yield* openPrivateSqlite(path, {
      schema,
      upgrade: (opened) => {
        const old = opened.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'prompts'")
        if (old.get() !== undefined) opened.transaction(() => opened.exec(migrate))()
      },
      onError: (detail) => new PersistError({ operation: "open the chat outbox", detail }),
    })
    const attempt = <A>(operation: string, body: () => A) =>
      Effect.try({ try: body, catch: (e) => new PersistError({ operation, detail: String(e) }) })

    const insert = db.prepare(
      "INSERT OR IGNORE INTO outbox (id, platform, room, item, kind, text, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    const insertAll = db.transaction((entries: ReadonlyArray<OutboxEntry>) => {
      for (const e of entries) insert.run(e.id, e.platform, e.room, e.item ?? null, e.kind, e.text, e.at)
    })
    const pendingRows = db.prepare(
      "SELECT id, platform, room, item, kind, text, at FROM outbox WHERE platform = ? AND delivered_at IS NULL ORDER BY at, rowid",
    )
    const ackOne = db.prepare("UPDATE outbox SET delivered_at = ? WHERE id = ?")
    const prune = db.prepare("DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?")
    const ackAll = db.transaction((ids: ReadonlyArray<string>, now: number) => {
      for (const id of ids) ackOne.run(now, id)
      prune.run(now - keepDelivered)
    })
    const getRoot = db.prepare(
      "SELECT message_id FROM thread_roots WHERE platform = ? AND room = ? AND item = ?",
    )
    const putRoot = db.prepare(
      "INSERT OR REPLACE INTO thread_roots (platform, room, item, message_id) VALUES (?, ?, ?, ?)",
    )
    const getPrompt = db.prepare(
      "SELECT room, message_id FROM prompt_posts WHERE platform = ? AND decision = ?",
    )
    const addPrompt = db.prepare(
      "INSERT OR IGNORE INTO prompt_posts (platform, decision, room, message_id) VALUES (?, ?, ?, NULL)",
    )
    const putPrompt = db.prepare(
      "INSERT OR REPLACE INTO prompt_posts (platform, decision, room, message_id) VALUES (?, ?, ?, ?)",
    )
    const getMemory = db.prepare("SELECT value FROM memories WHERE platform = ? AND kind = ? AND key = ?")
    const putMemory = db.prepare(
      `INSERT OR REPLACE INTO memories (platform, kind, key, value, seq)
       VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM memories))`,
    )
    const dropMemory = db.prepare("DELETE FROM memories WHERE platform = ? AND kind = ? AND key = ?")
    const trimMemories = db.prepare(
      `DELETE FROM memories WHERE platform = ? AND kind = ? AND seq <= (
         SELECT seq FROM memories WHERE platform = ? AND kind = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
    )
    const memoriseOne = db.transaction((platform: string, kind: string, key: string, value: string) => {
      putMemory.run(platform, kind, key, value)
      trimMemories.run(platform, kind, platform, kind, keepMemories)
    })

    type Row = {
      id: string
      platform: string
      room: string
      item: string | null
      kind: string
      text: string
      at: number
    }

    return Outbox.of({
      enqueue: (entries) => attempt("keep a chat notification", () => insertAll(entries)),
      pending: (platform) =>
        attempt("read the chat outbox", () =>
          (pendingRows.all(platform) as Array<Row>).map((r): OutboxEntry => ({
            ...r,
            item: r.item ?? undefined,
          })),
        ),
      ack: (ids) => attempt("mark chat notifications delivered", () => ackAll(ids, Date.now())),
      threadRoot: (platform, room, item) =>
        attempt("read a chat thread", () => {
          const row = getRoot.get(platform, room, item) as { message_id: string } | undefined
          return row?.message_id
        }),
      setThreadRoot: (platform, room, item, messageId) =>
        attempt("keep a chat thread", () => void putRoot.run(platform, room, item, messageId)),
      prompt: (platform, decision) =>
        attempt("read a chat prompt", () => {
          const row = getPrompt.get(platform, decision) as
            { room: string; message_id: string | null } | undefined
          return row === undefined ? undefined : { room: row.room, messageId: row.message_id ?? undefined }
        }),
      recordPrompt: (platform, decision, room) =>
        attempt("record a chat prompt", () => addPrompt.run(platform, decision, room).changes === 1),
      setPrompt: (platform, decision, message) =>
        attempt(
          "keep a chat prompt",
          () => void putPrompt.run(platform, decision, message.room, message.messageId),
        ),
      recall: (platform, kind, key) =>
        attempt("read a chat adapter's memory", () => {
          const row = getMemory.get(platform, kind, key) as { value: string } | undefined
          return row?.value
        }),
      memorise: (platform, kind, key, value) =>
        attempt("keep a chat adapter's memory", () =>
          value === undefined
            ? void dropMemory.run(platform, kind, key)
            : memoriseOne(platform, kind, key, value),
        ),
    })
  })

/** The outbox in the SQLite file at `path` (created 0600), open while the layer lives. */
export const OutboxLive = (path: string): Layer.Layer<Outbox, PersistError> =>
  Layer.scoped(Outbox, make(path))
