// src/transports/rpc/readHandlers.ts — the /rpc reads: the board (LiveFeed), pages of Done/Archived, an
// item's details, an agent's terminal, the agents, cost, server logs and settings. Each reads through the
// read-only views and disk services only.
import { Chunk, Data, Effect, Option, Schedule, Schema, Stream } from "effect"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { ActivityView, PipelineView } from "../../actors/PipelineView.js"
import { Outcome } from "../../domain/ExecutionState.js"
import { isStoryId, type StoryId } from "../../domain/StoryId.js"
import type { RpcGroup } from "@effect/rpc"
import { HuskiesConfig } from "../../layers/HuskiesConfig.js"
import { type LogEntry, LogBuffer, logMatcher, type LogQuery } from "../../layers/Logs.js"
import { Project } from "../../layers/Project.js"
import { TestRuns } from "../../layers/TestRuns.js"
import {
  describeSessions,
  latestSessionLog,
  SessionLog,
  type SessionLogFile,
} from "../../layers/SessionLog.js"
import { aggregateUsage, readUsage, roundUsd, type UsageRecord } from "../../layers/Usage.js"
import {
  type LogLine,
  Refused,
  uiProtocolVersion,
  type UiRpcs,
  VersionMismatch,
} from "../../protocol/uiRpcs.js"
import { LiveFeed } from "./LiveFeed.js"
import { itemDetail } from "./itemDetail.js"
import { liveSession, pastSession } from "./terminal.js"
import { refused } from "./writeHandlers.js"

type Handlers = RpcGroup.HandlersFrom<RpcGroup.Rpcs<typeof UiRpcs>>
type ReadTags = "Board" | "Page" | "Item" | "Terminal" | "Agents" | "Cost" | "Logs" | "Settings"

/** Pages are at most this long, whatever the client asks. */
const maxPage = 500
/** How many recent log lines a Logs subscription starts with; live lines beyond what the client takes. */
const recentLogLines = 500
const logBacklog = 1_000

const isOutcome = Schema.is(Outcome)

const logLine = (e: LogEntry): LogLine => ({
  time: e.time,
  level: e.level,
  component: e.component,
  message: Object.keys(e.fields).length === 0 ? e.message : `${e.message} ${JSON.stringify(e.fields)}`,
})

const logLevels = ["All", "Fatal", "Error", "Warning", "Info", "Debug", "Trace", "None"] as const
const isLogLevel = Schema.is(Schema.Literal(...logLevels))

/** The outcome the usage ledger recorded for one session, if any. */
const outcomeOf = (records: ReadonlyArray<UsageRecord>, id: string, file: SessionLogFile) => {
  const outcome = records.find(
    (r) => r.storyId === id && r.agent === file.agent && r.session === file.session,
  )?.outcome
  return isOutcome(outcome) ? outcome : undefined
}

/** The item's work is starting an agent whose process is not there yet. */
class AgentStarting extends Data.TaggedError("AgentStarting") {}

const readText = (path: string) => Effect.promise(() => readFile(path, "utf8").catch(() => ""))

export const readHandlers = Effect.gen(function* () {
  const feed = yield* LiveFeed
  const view = yield* PipelineView
  const activity = yield* ActivityView
  const project = yield* Project
  const config = yield* HuskiesConfig
  const logs = yield* LogBuffer
  const sessionLogs = yield* SessionLog
  const services = yield* Effect.context<ActivityView | PipelineView | Project | LiveFeed | TestRuns>()

  const ledger = readUsage(project.root).pipe(
    Effect.map((l) => l.records),
    Effect.tapError((e) => Effect.logWarning(`usage not shown: ${e.message}`)),
    Effect.orElseSucceed((): ReadonlyArray<UsageRecord> => []),
  )

  /**
   * Whether the item's work here is about to start an agent: marked Running in the Store, its actor
   * starting or taking its agent, the process (and its log) a moment away.
   */
  const starting = (id: StoryId) =>
    Effect.gen(function* () {
      const item = yield* Effect.option(view.get(id))
      if (Option.isNone(item) || item.value.execution[view.nodeId]?._tag !== "Running") return false
      const stories = yield* activity.agents.stories
      return stories.some(
        (s) => s.storyId === id && (s.phase === "Starting" || s.phase === "WaitingForAgent"),
      )
    })

  // Asked for the running session just as it starts, the terminal waits for its process (up to 10 s)
  // rather than show the previous session or nothing: that moment publishes no event to wait on.
  const agentOf = (id: StoryId, waitForStart: boolean) =>
    Effect.gen(function* () {
      const running = yield* activity.agents.running(id)
      if (Option.isNone(running) && waitForStart && (yield* starting(id))) return yield* new AgentStarting()
      return running
    }).pipe(
      Effect.retry({ schedule: Schedule.exponential("20 millis", 1.5).pipe(Schedule.upTo("10 seconds")) }),
      Effect.orElseSucceed(() => Option.none()),
    )

  const terminal = ({ id, session, agent }: Parameters<Handlers["Terminal"]>[0]) =>
    Stream.unwrap(
      Effect.gen(function* () {
        const running = yield* agentOf(id, session === undefined)
        const files = yield* refused(sessionLogs.list(project.root, id))
        const status = Option.isSome(running) ? Option.some(yield* running.value.status) : Option.none()
        const live =
          Option.isSome(status) &&
          (session === undefined || session === status.value.session) &&
          (agent === undefined || agent === status.value.agent)
        if (Option.isSome(running) && Option.isSome(status) && live) {
          const ended = Effect.map(running.value.result, (r) =>
            isOutcome(r.outcome) ? r.outcome : undefined,
          )
          return liveSession(status.value.logPath, ended)
        }
        const candidates = files.filter(
          (f) =>
            (session === undefined || f.session === session) && (agent === undefined || f.agent === agent),
        )
        // An agent on a worker node: its output as the node sends it (when it runs there, or no log is here).
        if (Option.isSome(activity.nodes)) {
          const remote = yield* activity.nodes.value.terminal(id, { session, agent })
          const runsThere = Option.isSome(yield* activity.nodes.value.runningOn(id))
          if (Option.isSome(remote) && (runsThere || candidates.length === 0)) return remote.value
        }
        const chosen = latestSessionLog(candidates)
        if (chosen === undefined) {
          const there = describeSessions(files)
          return yield* new Refused({
            message: `${id} has no ${session === undefined ? "session" : `session ${session}`}${agent === undefined ? "" : ` of ${agent}`}; ${files.length === 0 ? "it has none" : `it has: ${there}`}`,
          })
        }
        return pastSession(chosen.path, outcomeOf(yield* ledger, id, chosen))
      }),
    )

  return {
    Board: ({ resume, version }) =>
      version === uiProtocolVersion
        ? feed.board(resume)
        : Stream.fail(new VersionMismatch({ client: version, server: uiProtocolVersion })),
    Page: ({ stage, before, beforeId, limit }) =>
      feed.page(stage, before, beforeId, Math.max(1, Math.min(maxPage, limit))),
    Item: ({ id }) => refused(itemDetail(id, ledger)).pipe(Effect.provide(services)),
    Terminal: terminal,
    Agents: () =>
      Effect.gen(function* () {
        const configured = yield* activity.agents.configured
        const busy = yield* activity.agents.busy
        const remote = Option.isSome(activity.nodes) ? yield* activity.nodes.value.agents : []
        const elsewhere = remote.map((a) => ({
          name: a.agent,
          role: a.role,
          runtime: a.runtime,
          node: a.node,
          storyId: a.storyId,
          status: "busy",
        }))
        const here = configured.map((a) => {
          const busyWith = busy.find((b) => b.agent === a.name)?.storyId
          const storyId = isStoryId(busyWith) ? busyWith : undefined
          return {
            name: a.name,
            role: a.stage,
            runtime: a.runtime,
            node: view.nodeId,
            ...(storyId === undefined ? {} : { storyId }),
            status: storyId === undefined ? "idle" : "busy",
          }
        })
        return [...here, ...elsewhere]
      }),
    Cost: ({ group, storyId }) =>
      Effect.map(ledger, (records) => {
        const report = aggregateUsage(records, storyId === undefined ? {} : { storyId }, [group])
        const key = { item: "storyId", agent: "agent", model: "model", day: "day" } as const
        return {
          group,
          rows: report.rows.map((row) => ({
            key: String(row[key[group]] ?? "(none)"),
            runs: row.runs,
            inputTokens: row.inputTokens,
            outputTokens: row.outputTokens,
            costUsd: roundUsd(row.costUsd),
          })),
          totalUsd: roundUsd(report.total.costUsd),
        }
      }),
    Logs: ({ level, text }) => {
      if (level !== undefined && !isLogLevel(level))
        return Stream.fail(new Refused({ message: `level: expected one of ${logLevels.join(", ")}` }))
      const query: LogQuery = {
        ...(level === undefined ? {} : { level }),
        ...(text === undefined ? {} : { text }),
      }
      const matches = logMatcher(query)
      // The recent lines and the subscription are taken in one synchronous step: no line falls between.
      return Stream.async<LogLine>(
        (emit) => {
          const recent = logs.ring.toArray().filter(matches).slice(-recentLogLines)
          void emit.chunk(Chunk.fromIterable(recent.map(logLine)))
          const off = logs.ring.subscribe((e) => {
            if (matches(e)) void emit.single(logLine(e))
          })
          return Effect.sync(off)
        },
        // A client that does not keep up loses the oldest lines, not the server its memory.
        { bufferSize: logBacklog, strategy: "sliding" },
      )
    },
    Settings: () =>
      Effect.gen(function* () {
        const problem = yield* config.problem
        return {
          projectToml: yield* readText(join(project.huskiesDir, "project.toml")),
          agentsToml: yield* readText(join(project.huskiesDir, "agents.toml")),
          ...(Option.isSome(problem) ? { problem: problem.value.message } : {}),
        }
      }),
  } satisfies Pick<Handlers, ReadTags>
})
