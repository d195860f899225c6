// src/actors/sessions.ts — what earlier agent sessions on an item left on disk: which agent worked on it
// last, and the CLI session id a retrying coder resumes. Read from the session logs (through `SessionLog`),
// so it survives a server restart. Used by StoryActor and mergemaster.
import { Effect, Either, Schema } from "effect"
import { SessionLog, type SessionLogEntry } from "../layers/SessionLog.js"
import type { StoryId } from "../domain/StoryId.js"

/** The CLI reports its session id in its first lines: the head of a log is enough, however long it grew. */
const headBytes = 64 * 1024

/** The entry in which a CLI says which session it is. */
const SessionStarted = Schema.Struct({
  event: Schema.Struct({ _tag: Schema.Literal("SessionStarted"), sessionId: Schema.NonEmptyString }),
})
const asSessionStarted = Schema.decodeUnknownEither(SessionStarted)

const sessionIdAmong = (entries: ReadonlyArray<SessionLogEntry>): string | undefined => {
  for (const entry of entries) {
    // Most entries are other events: not the one we are looking for, and nothing wrong with them.
    const started = asSessionStarted(entry)
    if (Either.isRight(started)) return started.right.event.sessionId
  }
  return undefined
}

/**
 * The CLI session id of `agent`'s most recent session on item `id` that reported one. A log that cannot be
 * listed or read is logged and passed over: the agent then starts a fresh session, which loses only the
 * CLI's memory of earlier turns.
 */
export const findPreviousSessionId = (
  root: string,
  id: StoryId,
  agent: string,
): Effect.Effect<string | undefined> =>
  Effect.gen(function* () {
    const logs = yield* SessionLog
    const sessions = (yield* logs.list(root, id))
      .filter((f) => f.agent === agent)
      .sort((a, b) => b.session - a.session)
    for (const file of sessions) {
      const entries = yield* logs
        .readHead(file.path, headBytes)
        .pipe(Effect.catchAll((e) => Effect.as(Effect.logWarning(`${e.message}: not resumed from`), [])))
      const sessionId = sessionIdAmong(entries)
      if (sessionId !== undefined) return sessionId
    }
    return undefined
  }).pipe(
    Effect.catchAll((e) =>
      Effect.as(Effect.logWarning(`${e.message}: no earlier session to resume`), undefined),
    ),
  )

/**
 * Of `agents`, the one whose session log on item `id` was written last (one directory listing). Logs that
 * cannot be listed are logged, and then no agent is preferred: any free one may take the item.
 */
export const findLastAgentOn = (
  root: string,
  id: StoryId,
  agents: ReadonlyArray<string>,
): Effect.Effect<string | undefined> =>
  Effect.flatMap(SessionLog, (logs) => logs.list(root, id)).pipe(
    Effect.map(
      (files) =>
        files.filter((f) => agents.includes(f.agent)).sort((a, b) => b.modifiedAt - a.modifiedAt)[0]?.agent,
    ),
    Effect.catchAll((e) => Effect.as(Effect.logWarning(`${e.message}: no agent preferred`), undefined)),
  )
