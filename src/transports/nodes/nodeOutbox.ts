// src/transports/nodes/nodeOutbox.ts — a worker's agent output on its way to the main node: each local
// agent session's log is followed as the local terminal reads it (terminal.ts), its readable lines numbered
// from 1 and kept until the main node acknowledges them, so a reconnect resends from the last acknowledged
// line. Used by nodeClient.ts.
import { Effect, FiberMap, Option, Queue, Schedule, Stream } from "effect"
import type { AgentRole } from "../../domain/Stage.js"
import type { StoryId } from "../../domain/StoryId.js"
import type { AgentWatch } from "../../actors/PipelineView.js"
import { ActivityView } from "../../actors/PipelineView.js"
import type { Outcome } from "../../domain/ExecutionState.js"
import type { Attached, OutputBatch, RemoteAgent, SessionKey } from "../../protocol/nodeRpcs.js"
import { stat } from "node:fs/promises"
import { liveSession } from "../rpc/terminal.js"

/** Lines kept per session while the main node has not acknowledged them; older ones are dropped (and the
 * main node's terminal says how many it missed). */
export const unackedLinesKept = 10_000
/** Lines per Output call. */
export const batchLines = 256

interface Outgoing {
  readonly key: SessionKey
  readonly role: AgentRole
  readonly runtime: string
  readonly startedAt: number
  lastOutputAt: number
  /** Lines not yet acknowledged; the first has seq `firstSeq`. */
  buffer: Array<string>
  firstSeq: number
  /** The seq the next line read gets. */
  nextSeq: number
  acked: number
  ended: { readonly outcome?: Outcome | undefined } | undefined
  /** The main node has the session's end. */
  endAcked: boolean
}

const keyOf = (k: { readonly storyId: string; readonly agent: string; readonly session: number }) =>
  `${k.storyId}\u0000${k.agent}\u0000${k.session}`

const linesOf = (text: string): ReadonlyArray<string> => {
  const lines = text.split("\r\n")
  if (lines.at(-1) === "") lines.pop()
  return lines
}

const isOutcome = (o: string): o is Outcome =>
  o === "succeeded" || o === "failed" || o === "stopped" || o === "timedOut"

export const makeNodeOutbox = Effect.gen(function* () {
  const activity = yield* ActivityView
  // Mutated only inside Effect.sync blocks (or plain synchronous code between yields), which run whole.
  const sessions = new Map<string, Outgoing>()
  /** Woken when a line or an end is added: the sender looks again. */
  const added = yield* Queue.sliding<void>(1)
  /** Woken when an agent starts or ends: the status is sent at once. */
  const changed = yield* Queue.sliding<void>(1)
  const followers = yield* FiberMap.make<string>()
  const now = Effect.clockWith((c) => c.currentTimeMillis)

  const take = (session: Outgoing, lines: ReadonlyArray<string>, at: number) => {
    session.buffer.push(...lines)
    session.nextSeq += lines.length
    session.lastOutputAt = at
    const over = session.buffer.length - unackedLinesKept
    if (over > 0) {
      session.buffer.splice(0, over)
      session.firstSeq += over
    }
  }

  const follow = (session: Outgoing, agent: AgentWatch, logPath: string) => {
    const ended = Effect.map(agent.result, (r) => (isOutcome(r.outcome) ? r.outcome : undefined))
    // The log is made as the agent starts: wait for it rather than watch a file not there yet.
    const logThere = Effect.tryPromise(() => stat(logPath)).pipe(
      Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("10 seconds"))),
    )
    return Effect.zipRight(
      logThere,
      liveSession(logPath, ended).pipe(
        Stream.runForEach((chunk) =>
          Effect.flatMap(now, (at) => {
            if (chunk._tag === "Ended") session.ended = { outcome: chunk.outcome }
            else take(session, linesOf(chunk.text), at)
            return Queue.offer(added, undefined)
          }),
        ),
        Effect.zipRight(Queue.offer(changed, undefined)),
      ),
    ).pipe(
      Effect.catchAll(() =>
        Effect.logWarning(`${session.key.storyId}: no session log at ${logPath}; its output is not sent`),
      ),
    )
  }

  /** Starts following every local agent not followed yet (at start, on AgentStarted, at each status). */
  const discover = Effect.gen(function* () {
    let found = false
    const current = new Set<string>()
    for (const story of yield* activity.agents.stories) {
      if (story.agent === undefined) continue
      const status = yield* story.agent.status
      const key = { storyId: status.storyId, agent: status.agent, session: status.session }
      const id = keyOf(key)
      current.add(id)
      if (sessions.has(id)) continue
      const session: Outgoing = {
        key,
        role: status.role,
        runtime: status.runtime,
        startedAt: status.startedAt,
        lastOutputAt: status.lastOutputAt,
        buffer: [],
        firstSeq: 1,
        nextSeq: 1,
        acked: 0,
        ended: undefined,
        endAcked: false,
      }
      sessions.set(id, session)
      found = true
      yield* FiberMap.run(followers, id, follow(session, story.agent, status.logPath))
    }
    // A session the main node has whole, and no agent shows any more, is done with.
    for (const [id, session] of sessions)
      if (session.endAcked && session.buffer.length === 0 && !current.has(id)) sessions.delete(id)
    if (found) yield* Queue.offer(changed, undefined)
  })

  /** Waits (briefly) for a just-started agent of the item to appear, then follows it. */
  const agentStarted = (storyId: StoryId) =>
    activity.agents.running(storyId).pipe(
      Effect.flatMap((running) => (Option.isSome(running) ? discover : Effect.fail("not yet" as const))),
      Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo("5 seconds"))),
      Effect.catchAll(() => discover),
    )

  /** After (re)attaching: what the main node holds of each session decides where sending resumes. */
  const resume = (attached: Attached) =>
    Effect.sync(() => {
      const held = new Map(attached.sessions.map((s) => [keyOf(s), s.acked]))
      for (const [id, session] of sessions) {
        session.acked = held.get(id) ?? 0
        session.endAcked = false
      }
    })

  /** The next batch to send, if any: from the line after the last acknowledged (or the oldest kept). */
  const nextBatch = Effect.sync((): Option.Option<OutputBatch> => {
    for (const session of sessions.values()) {
      const from = Math.max(session.acked + 1, session.firstSeq)
      const offset = from - session.firstSeq
      const lines = session.buffer.slice(offset, offset + batchLines)
      const last = from + lines.length - 1
      const endNow = session.ended !== undefined && !session.endAcked && last === session.nextSeq - 1
      if (lines.length === 0 && !endNow) continue
      return Option.some({
        ...session.key,
        role: session.role,
        seq: from,
        lines,
        ...(endNow ? { ended: session.ended ?? {} } : {}),
      })
    }
    return Option.none()
  })

  /** The main node holds the batch's session up to `acked`: drop those lines. */
  const acknowledged = (batch: OutputBatch, acked: number) =>
    Effect.sync(() => {
      const id = keyOf(batch)
      const session = sessions.get(id)
      if (session === undefined) return
      session.acked = acked
      const drop = Math.min(session.buffer.length, session.acked - session.firstSeq + 1)
      if (drop > 0) {
        session.buffer.splice(0, drop)
        session.firstSeq += drop
      }
      // An ended session stays (its buffer empty) so that it is not followed again from its first line.
      if (batch.ended !== undefined) session.endAcked = true
    })

  /** Agents running here, for Status. */
  const running = Effect.sync((): ReadonlyArray<RemoteAgent> =>
    [...sessions.values()]
      .filter((s) => s.ended === undefined)
      .map((s) => ({
        ...s.key,
        role: s.role,
        runtime: s.runtime,
        startedAt: s.startedAt,
        lastOutputAt: s.lastOutputAt,
      })),
  )

  return { discover, agentStarted, resume, nextBatch, acknowledged, running, added, changed } as const
})

export type NodeOutbox = Effect.Effect.Success<typeof makeNodeOutbox>
