// src/actors/sessions.ts — what earlier agent sessions on an item left on disk: which agent worked on it
// last, and the CLI session id a retrying coder resumes. Read from the session logs, so it survives a
// server restart. Used by StoryActor.
import { closeSync, openSync, readSync } from "node:fs"
import { listSessionLogs } from "../layers/SessionLog.js"

/** The CLI reports its session id in its first lines: the head of a log is enough, however long it grew. */
const headBytes = 64 * 1024

const headOf = (path: string): string => {
  const fd = openSync(path, "r")
  try {
    const buffer = Buffer.alloc(headBytes)
    return buffer.subarray(0, readSync(fd, buffer, 0, headBytes, 0)).toString("utf8")
  } finally {
    closeSync(fd)
  }
}

const sessionIdIn = (path: string): string | undefined => {
  for (const line of headOf(path).split("\n")) {
    try {
      const event: unknown = (JSON.parse(line) as Record<string, unknown>)["event"]
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
    } catch {
      // A line cut by the head's end, or torn by a crash: not the one we are looking for.
    }
  }
  return undefined
}

/** The CLI session id of `agent`'s most recent session on item `id` that reported one. */
export const previousSessionId = (root: string, id: string, agent: string): string | undefined => {
  const sessions = listSessionLogs(root, id)
    .filter((f) => f.agent === agent)
    .sort((a, b) => b.session - a.session)
  for (const file of sessions) {
    const sessionId = sessionIdIn(file.path)
    if (sessionId !== undefined) return sessionId
  }
  return undefined
}

/** Of `agents`, the one whose session log on item `id` was written last (one directory listing). */
export const lastAgentOn = (root: string, id: string, agents: ReadonlyArray<string>): string | undefined =>
  listSessionLogs(root, id)
    .filter((f) => agents.includes(f.agent))
    .sort((a, b) => b.modifiedAt - a.modifiedAt)[0]?.agent
