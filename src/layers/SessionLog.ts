// src/layers/SessionLog.ts — each agent run's session log on disk: `.huskies/logs/<id>/<agent>-<n>.jsonl`,
// one JSON object per line (parsed agent events and raw output), appended as it happens so a crash
// loses at most the line being written. AgentActor writes it; get_agent_log reads past sessions.
import { Effect, Schema, type Scope } from "effect"
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { ensurePrivateDir, privateWrite } from "./privateFiles.js"
import { agentNameShape, isAgentNameText } from "../domain/AgentName.js"
import { isStoryId } from "../domain/StoryId.js"

export class SessionLogError extends Schema.TaggedError<SessionLogError>()("SessionLogError", {
  path: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `session log ${this.path}: ${this.detail}`
  }
}

export interface SessionLogFile {
  readonly agent: string
  readonly session: number
  readonly path: string
  readonly bytes: number
  readonly modifiedAt: number
}

export interface SessionLogWriter {
  readonly path: string
  readonly session: number
  readonly append: (entry: Readonly<Record<string, unknown>>) => Effect.Effect<void, SessionLogError>
}

export const logsDir = (root: string, id: string): string => join(root, ".huskies", "logs", id)

/** Every session log of an item, oldest session first per agent. */
export const listSessionLogs = (root: string, id: string): ReadonlyArray<SessionLogFile> => {
  const dir = logsDir(root, id)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .flatMap((name) => {
      const m = /^(.+)-(\d+)\.jsonl$/.exec(name)
      if (m === null) return []
      const path = join(dir, name)
      const stat = statSync(path)
      return [
        { agent: m[1] as string, session: Number(m[2]), path, bytes: stat.size, modifiedAt: stat.mtimeMs },
      ]
    })
    .sort((a, b) => a.agent.localeCompare(b.agent) || a.session - b.session)
}

/** Opens the next session log for `agent` on item `id` (session numbers start at 1, never reused). */
export const openSessionLog = (
  root: string,
  id: string,
  agent: string,
): Effect.Effect<SessionLogWriter, SessionLogError, Scope.Scope> =>
  Effect.gen(function* () {
    const dir = logsDir(root, id)
    // Checked where names enter (agents.toml, tools); here again because these become file names.
    if (!isAgentNameText(agent) || !isStoryId(id)) {
      return yield* new SessionLogError({
        path: dir,
        detail: `the agent name ${JSON.stringify(agent)} or the item id ${JSON.stringify(id)} is not a plain file name (expected an agent name of ${agentNameShape}, and an id like 12_story_add_login)`,
      })
    }
    yield* Effect.try({
      try: () => ensurePrivateDir(dir),
      catch: (e) => new SessionLogError({ path: dir, detail: String(e) }),
    })
    const previous = listSessionLogs(root, id).filter((f) => f.agent === agent)
    const session = previous.reduce((max, f) => Math.max(max, f.session), 0) + 1
    const path = join(dir, `${agent}-${session}.jsonl`)
    const append = (entry: Readonly<Record<string, unknown>>) =>
      Effect.try({
        try: () =>
          appendFileSync(
            path,
            JSON.stringify({ time: new Date().toISOString(), ...entry }) + "\n",
            privateWrite,
          ),
        catch: (e) => new SessionLogError({ path, detail: e instanceof Error ? e.message : String(e) }),
      })
    yield* append({ type: "session_start", agent, session, storyId: id })
    yield* Effect.addFinalizer((exit) =>
      // The end marker is best effort: a log we cannot write to must not fail the agent's cleanup.
      Effect.ignore(append({ type: "session_end", exit: exit._tag })),
    )
    return { path, session, append }
  })

/** Reads a session log back, skipping a torn last line left by a crash. */
export const readSessionLog = (path: string, limit?: number): ReadonlyArray<Record<string, unknown>> => {
  const lines = readFileSync(path, "utf8").split("\n")
  const entries: Array<Record<string, unknown>> = []
  for (const line of lines) {
    if (line.trim() === "") continue
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      entries.push({ type: "unreadable_line", line: line.slice(0, 200) })
    }
  }
  return limit === undefined ? entries : entries.slice(-limit)
}
