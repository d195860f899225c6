// src/layers/ChatSessions.ts — the chat assistant's conversations, kept in `.huskies/assistant.db` (SQLite,
// 0600): per conversation (platform, room, thread) the chat agent that holds it and the runtime's session
// id to resume, so a restart of serve keeps every conversation. Used by the assistant (src/actors/chatAgents.ts).
import { Context, Effect, Layer } from "effect"
import { PersistError } from "./Persistence.js"
import { openPrivateSqlite } from "./privateSqlite.js"

export interface ChatSession {
  /** The chat agent whose runtime holds the session: another agent cannot resume it. */
  readonly agent: string
  /** The runtime's session id (Claude Code `--resume`, Codex `exec resume`, Gemini `--resume`), if it gave one. */
  readonly sessionId?: string
  /** Turns run in this conversation so far. */
  readonly turns: number
}

export interface ChatSessionsShape {
  readonly get: (conversation: string) => Effect.Effect<ChatSession | undefined, PersistError>
  readonly set: (conversation: string, session: ChatSession, at: number) => Effect.Effect<void, PersistError>
  /** Forgets a conversation: its next message starts a new session. */
  readonly forget: (conversation: string) => Effect.Effect<void, PersistError>
}

export class ChatSessions extends Context.Tag("huskies/ChatSessions")<ChatSessions, ChatSessionsShape>() {}

const schema = `
CREATE TABLE IF NOT EXISTS conversations (
  conversation TEXT PRIMARY KEY, agent TEXT NOT NULL, session_id TEXT, turns INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);`

const make = (path: string) =>
  Effect.gen(function* () {
    const db = yield* openPrivateSqlite(path, {
      schema,
      onError: (detail) => new PersistError({ operation: "open the chat conversations", detail }),
    })
    const attempt = <A>(operation: string, body: () => A) =>
      Effect.try({ try: body, catch: (e) => new PersistError({ operation, detail: String(e) }) })
    const select = db.prepare("SELECT agent, session_id, turns FROM conversations WHERE conversation = ?")
    const upsert = db.prepare(
      "INSERT OR REPLACE INTO conversations (conversation, agent, session_id, turns, updated_at) VALUES (?, ?, ?, ?, ?)",
    )
    const remove = db.prepare("DELETE FROM conversations WHERE conversation = ?")
    return ChatSessions.of({
      get: (conversation) =>
        attempt("read a chat conversation", () => {
          const row = select.get(conversation) as
            { agent: string; session_id: string | null; turns: number } | undefined
          return row === undefined
            ? undefined
            : {
                agent: row.agent,
                turns: row.turns,
                ...(row.session_id === null ? {} : { sessionId: row.session_id }),
              }
        }),
      set: (conversation, session, at) =>
        attempt(
          "keep a chat conversation",
          () => void upsert.run(conversation, session.agent, session.sessionId ?? null, session.turns, at),
        ),
      forget: (conversation) => attempt("forget a chat conversation", () => void remove.run(conversation)),
    })
  })

/** The conversations in the SQLite file at `path` (created 0600), open while the layer lives. */
export const ChatSessionsLive = (path: string): Layer.Layer<ChatSessions, PersistError> =>
  Layer.scoped(ChatSessions, make(path))
