// src/transports/rpc/itemDetail.ts — what /rpc's Item shows of one work item: the record, its card and
// markdown, its agent sessions (session logs + usage ledger + the running agent), its last gate results
// (TestRuns keeps the last of each kind on this server), and its merge job or squash commit.
import { Effect, Option, Schema } from "effect"
import { runKey } from "../../actors/pipeline/projectCommand.js"
import { ActivityView, PipelineView } from "../../actors/PipelineView.js"
import { Outcome } from "../../domain/ExecutionState.js"
import type { StoryId } from "../../domain/StoryId.js"
import { Project } from "../../layers/Project.js"
import { SessionLog } from "../../layers/SessionLog.js"
import { TestRuns } from "../../layers/TestRuns.js"
import type { UsageRecord } from "../../layers/Usage.js"
import { type GateResult, type ItemDetail, Refused, type SessionSummary } from "../../protocol/uiRpcs.js"
import { LiveFeed } from "./LiveFeed.js"

const isOutcome = Schema.is(Outcome)

/** The gate kinds TestRuns keeps a last result of, by the key it keeps it under. */
const gateKinds = [
  { name: "tests", key: (id: StoryId) => runKey(id, "test") },
  { name: "lint", key: (id: StoryId) => runKey(id, "lint") },
  { name: "build", key: (id: StoryId) => runKey(id, "build") },
] as const

// Gate logs are named <kind>-<start millis>.log: the only record of when the run started.
const startedAt = (logPath: string): number => Number(/-(\d+)\.log$/.exec(logPath)?.[1] ?? 0)

export const itemDetail = (id: StoryId, ledger: Effect.Effect<ReadonlyArray<UsageRecord>>) =>
  Effect.gen(function* () {
    const view = yield* PipelineView
    const root = (yield* Project).root
    const item = yield* view.get(id)
    const content = yield* view.content(id)
    const card = yield* (yield* LiveFeed).cards.card(id)
    if (Option.isNone(card)) return yield* new Refused({ message: `${id} was deleted` })

    const logs = yield* SessionLog
    const files = yield* logs.list(root, id)
    // A log's first line (session_start) says when the session began; one that cannot be read says nothing.
    const starts = yield* Effect.forEach(files, (f) =>
      logs.readHead(f.path, 1024).pipe(
        Effect.map((entries) => Date.parse(String(entries[0]?.["time"]))),
        Effect.orElseSucceed(() => Number.NaN),
      ),
    )
    const records = (yield* ledger).filter((r) => r.storyId === id)
    const running = yield* (yield* ActivityView).agents.running(id)
    const status = Option.isSome(running) ? Option.some(yield* running.value.status) : Option.none()
    const sessions = files.map((f, i): SessionSummary => {
      const started = starts[i] ?? Number.NaN
      const record = records.find((r) => r.agent === f.agent && r.session === f.session)
      const live =
        Option.isSome(status) && status.value.agent === f.agent && status.value.session === f.session
      const usage = live ? Option.getOrThrow(status).usage : record
      return {
        session: f.session,
        agent: f.agent,
        role: record?.role ?? (live ? Option.getOrThrow(status).role : ""),
        ...(live
          ? { startedAt: Option.getOrThrow(status).startedAt }
          : Number.isFinite(started) && started >= 0
            ? { startedAt: started }
            : {}),
        ...(record !== undefined && isOutcome(record.outcome) ? { outcome: record.outcome } : {}),
        running: live,
        inputTokens: usage?.inputTokens ?? 0,
        outputTokens: usage?.outputTokens ?? 0,
        costUsd: live ? (Option.getOrThrow(status).costUsd ?? null) : (record?.costUsd ?? null),
      }
    })

    const runs = yield* TestRuns
    const gates: Array<GateResult> = []
    for (const kind of gateKinds) {
      const last = yield* runs.last(kind.key(id))
      if (last !== undefined)
        gates.push({ name: kind.name, passed: last.passed, at: startedAt(last.logPath), output: last.tail })
    }

    const mergeJob = (yield* view.mergeJobs).jobs.find((j) => j.storyId === id)
    const mergeCommit = item.stage._tag === "Done" ? item.stage.mergeCommit : mergeJob?.commit
    return {
      item,
      card: card.value,
      content,
      history: yield* view.history(id),
      sessions,
      gates,
      ...(mergeJob === undefined ? {} : { mergeJob }),
      ...(mergeCommit === undefined ? {} : { mergeCommit }),
    } satisfies ItemDetail
  })
