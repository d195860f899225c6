// src/actors/sessions.ts — what earlier agent sessions on an item left on disk: the CLI session id a
// retrying coder resumes. Read from the session logs, so it survives a server restart. Used by StoryActor.
import { listSessionLogs, readSessionLog } from "../layers/SessionLog.js"

/** The CLI session id of `agent`'s most recent session on item `id` that reported one. */
export const previousSessionId = (root: string, id: string, agent: string): string | undefined => {
  const sessions = listSessionLogs(root, id)
    .filter((f) => f.agent === agent)
    .sort((a, b) => b.session - a.session)
  for (const file of sessions) {
    for (const entry of readSessionLog(file.path)) {
      const event = entry["event"]
      if (
        typeof event === "object" &&
        event !== null &&
        "_tag" in event &&
        event._tag === "SessionStarted" &&
        "sessionId" in event &&
        typeof event.sessionId === "string" &&
        event.sessionId !== ""
      )
        return event.sessionId
    }
  }
  return undefined
}
