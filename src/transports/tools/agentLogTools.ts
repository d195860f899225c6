// src/transports/tools/agentLogTools.ts — get_agent_log: an item's agent session logs as they are on disk
// (.huskies/logs/<id>/<agent>-<n>.jsonl), past sessions included, whether or not the item is still in
// the Store. For people, chat and QA agents reviewing what a coder did.
import { Effect, Option, Schema } from "effect"
import { ActivityView } from "../../actors/PipelineView.js"
import type { StoryId } from "../../domain/StoryId.js"
import { Project } from "../../layers/Project.js"
import {
  describeSessions,
  latestSessionLog,
  logsDir,
  SessionLog,
  type SessionLogFile,
} from "../../layers/SessionLog.js"
import { agentNameParam, requireId, StoryIdParam } from "./itemAccess.js"
import { defineTool, ToolFailure } from "./Tool.js"

const SessionView = Schema.Struct({
  agent: Schema.String,
  session: Schema.Number,
  bytes: Schema.Number,
  modified: Schema.String,
})

const sessionView = (f: SessionLogFile) => ({
  agent: f.agent,
  session: f.session,
  bytes: f.bytes,
  modified: new Date(f.modifiedAt).toISOString(),
})

/** The session asked for, or a failure naming the sessions there are. */
const pick = (
  id: string,
  files: ReadonlyArray<SessionLogFile>,
  agent: string | undefined,
  session: number,
): Effect.Effect<SessionLogFile, ToolFailure> => {
  const found = files.filter((f) => f.session === session && (agent === undefined || f.agent === agent))
  const only = found[0]
  if (found.length === 1 && only !== undefined) return Effect.succeed(only)
  const there = files.length === 0 ? "it has none" : `it has: ${describeSessions(files)}`
  return Effect.fail(
    new ToolFailure({
      message:
        found.length === 0
          ? `${id} has no session ${session}${agent === undefined ? "" : ` of ${agent}`}; ${there}`
          : `${id} has a session ${session} for several agents (${found.map((f) => f.agent).join(", ")}): give agent too`,
    }),
  )
}

/**
 * An item whose sessions ran on a worker node (none here): the session's readable lines, fetched from that
 * node (undefined when no worker ran it or the node cannot answer).
 */
const remoteLog = (id: StoryId, agent: string | undefined, session: number | undefined, limit: number) =>
  Effect.gen(function* () {
    const nodes = (yield* ActivityView).nodes
    if (Option.isNone(nodes)) return undefined
    const newest = yield* nodes.value.tail(id, 1)
    if (Option.isNone(newest)) return undefined
    const { node, key } = newest.value
    const reply = yield* Effect.option(
      nodes.value.fetchLog(node, { storyId: id, agent: agent ?? key.agent, session }),
    )
    if (Option.isNone(reply) || reply.value.session === undefined) return undefined
    const lines = reply.value.lines
    const shown = lines.slice(-limit)
    return {
      story_id: id,
      logs_dir: `node ${node}`,
      sessions: [],
      log: {
        agent: agent ?? key.agent,
        session: reply.value.session,
        path: `node:${node}`,
        total_entries: lines.length,
        truncated: reply.value.truncated || shown.length < lines.length,
        entries: shown.map((text) => ({ type: "line", text })),
      },
      summary: `fetched from worker node ${node}: the last ${shown.length} lines of ${agent ?? key.agent} session ${reply.value.session}`,
    }
  })

export const getAgentLog = defineTool({
  name: "get_agent_log",
  description:
    "An item's agent session logs, read from disk (.huskies/logs/<id>/<agent>-<n>.jsonl): parsed agent events and raw output, one entry per line. Without session: the list of sessions (agent, session number, bytes, last modified; only that agent's when agent is given) and the last limit entries (default 200) of the most recently modified one. With session (and agent when several agents have that number): that session's last limit entries. Works for finished sessions and for items no longer in the Store, as long as the logs are on disk (delete_story removes them). When the item's sessions ran on a worker node (none here), the session is fetched from that node as readable lines. Does not block.",
  input: {
    story_id: StoryIdParam,
    agent: Schema.optional(agentNameParam("only this agent's sessions, e.g. coder-1")),
    session: Schema.optional(
      Schema.Int.pipe(Schema.positive()).annotations({
        description: "the session number (from the list this tool returns)",
      }),
    ),
    limit: Schema.optional(
      Schema.Int.pipe(Schema.between(1, 5000)).annotations({
        description: "how many entries from the session's end, 1 to 5000 (default 200)",
      }),
    ),
  },
  output: Schema.Struct({
    story_id: Schema.String,
    logs_dir: Schema.String,
    sessions: Schema.Array(SessionView),
    log: Schema.NullOr(
      Schema.Struct({
        agent: Schema.String,
        session: Schema.Number,
        path: Schema.String,
        total_entries: Schema.Number,
        truncated: Schema.Boolean.annotations({ description: "earlier entries were left out (raise limit)" }),
        entries: Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
      }),
    ),
    summary: Schema.String,
  }),
  run: ({ story_id, agent, session, limit }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const project = yield* Project
      const dir = logsDir(project.root, id)
      const logs = yield* SessionLog
      const all = yield* logs.list(project.root, id)
      if (all.length === 0) {
        const remote = yield* remoteLog(id, agent, session, limit ?? 200)
        if (remote !== undefined) return remote
      }
      const files = agent === undefined ? all : all.filter((f) => f.agent === agent)
      const chosen = session !== undefined ? yield* pick(id, all, agent, session) : latestSessionLog(files)
      const sessions = files.map(sessionView)
      if (chosen === undefined) {
        return {
          story_id: id,
          logs_dir: dir,
          sessions,
          log: null,
          summary:
            all.length === 0
              ? `no session logs for ${id} in ${dir}`
              : `no sessions of ${agent} for ${id}; there are: ${describeSessions(all)}`,
        }
      }
      // A line that does not decode is logged with its file and skipped; the rest is shown.
      const entries = yield* logs.read(chosen.path)
      const shown = entries.slice(-(limit ?? 200))
      return {
        story_id: id,
        logs_dir: dir,
        sessions,
        log: {
          agent: chosen.agent,
          session: chosen.session,
          path: chosen.path,
          total_entries: entries.length,
          truncated: shown.length < entries.length,
          entries: shown,
        },
        summary: `${sessions.length} session${sessions.length === 1 ? "" : "s"}; showing the last ${shown.length} of ${entries.length} entries of ${chosen.agent} session ${chosen.session}`,
      }
    }),
})

export const agentLogTools = [getAgentLog] as const
