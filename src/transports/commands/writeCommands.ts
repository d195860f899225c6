// src/transports/commands/writeCommands.ts — the chat commands that change something: move, start, stop,
// assign, depends, unblock, delete, timer, approve, reject. Each is one call on the command layer
// (Pipeline) as `by`; a refusal fails with the command layer's own message, which the caller shows.
import { Clock, Effect } from "effect"
import { Decisions } from "../../actors/Decisions.js"
import { CommandRefused, type Moved, Pipeline } from "../../actors/Pipeline.js"
import { ActivityView } from "../../actors/PipelineView.js"
import type { AgentName } from "../../domain/AgentName.js"
import { describeDelay, resolveWhen, type TimerWhen } from "../../domain/chatTime.js"
import type { Decision } from "../../domain/Decision.js"
import { describeDependencies } from "../../domain/dependencies.js"
import type { StageName } from "../../domain/moveRoutes.js"
import { setFrontMatter } from "../../domain/StoryDoc.js"
import type { StoryId } from "../../domain/StoryId.js"
import { describeStage } from "../../domain/transition.js"
import { deleteItem } from "../tools/deleteTools.js"
import { itemStatus } from "../tools/inspectTools.js"
import { numberOf } from "./readCommands.js"

const iso = (millis: number) => new Date(millis).toISOString()

const movedText = (id: StoryId, { before, after }: Moved) =>
  `Moved ${numberOf(id)}: ${describeStage(before)} → ${describeStage(after.stage)}.`

export const moveReply = (id: StoryId, to: StageName, reason: string | undefined, by: string) =>
  Effect.flatMap(Pipeline, (p) => p.move(id, to, reason, by)).pipe(Effect.map((m) => movedText(id, m)))

export const startReply = (id: StoryId, agent: AgentName | undefined, by: string) =>
  Effect.gen(function* () {
    const started = yield* (yield* Pipeline).startAgent(id, agent, by)
    if (started.alreadyRunning) return `${numberOf(id)} is already being worked on.`
    const who = agent ?? "an agent"
    return `Started ${numberOf(id)} (${describeStage(started.item.stage)}): ${who} takes it as soon as one is free.`
  })

export const stopReply = (id: StoryId, by: string) =>
  Effect.map(
    Effect.flatMap(Pipeline, (p) => p.stopAgent(id, by)),
    (stopped) =>
      stopped.stopped
        ? `Stopped the work on ${numberOf(id)}${stopped.result === undefined ? "" : ` (${stopped.result.agent}: ${stopped.result.outcome})`}; start ${numberOf(id)} resumes it.`
        : `Nothing was running on ${numberOf(id)}; it will not start by itself until start ${numberOf(id)}.`,
  )

export const assignReply = (id: StoryId, agent: AgentName) =>
  Effect.gen(function* () {
    const known = yield* (yield* ActivityView).agents.configured
    if (!known.some((a) => a.name === agent)) {
      return yield* new CommandRefused({
        command: `assign ${numberOf(id)} ${agent}`,
        message: `no agent is called "${agent}"; agents.toml defines ${known.map((a) => a.name).join(", ") || "none"}`,
      })
    }
    yield* (yield* Pipeline).edit(id, (doc) => setFrontMatter(doc, "agent", agent))
    return `${numberOf(id)} is assigned to ${agent}: it works on it from its next start.`
  })

export const dependsReply = (id: StoryId, on: ReadonlyArray<StoryId>) =>
  Effect.map(
    Effect.flatMap(Pipeline, (p) => p.setDependencies(id, on)),
    ({ dependencies }) =>
      on.length === 0
        ? `${numberOf(id)} depends on nothing now.`
        : `${numberOf(id)} depends on ${on.map(numberOf).join(", ")}: ${describeDependencies(dependencies)}.`,
  )

export const unblockReply = (id: StoryId, by: string) =>
  Effect.map(
    Effect.flatMap(Pipeline, (p) => p.unblock(id, by)),
    (m) => movedText(id, m),
  )

/** What `delete n` asks before anything is deleted. */
export const deleteQuestion = (id: StoryId) =>
  Effect.map(
    itemStatus(id),
    (s) =>
      `Delete ${numberOf(id)} ${s.name} (${s.stage.summary})? Its agent is stopped, and it goes from the board with its worktree, branch and session logs; this cannot be undone. Type: delete ${numberOf(id)} confirm`,
  )

export const deleteReply = (id: StoryId) =>
  Effect.map(deleteItem(id), (report) => `Deleted ${numberOf(id)}: ${report.summary}.`)

export const timerReply = (id: StoryId, when: TimerWhen) =>
  Effect.gen(function* () {
    const pipeline = yield* Pipeline
    if (when._tag === "Off") {
      const cancelled = yield* pipeline.cancelTimers(id)
      return cancelled.length === 0
        ? `${numberOf(id)} had no timers.`
        : `Cancelled ${cancelled.length === 1 ? "the timer" : `${cancelled.length} timers`} of ${numberOf(id)}.`
    }
    const now = yield* Clock.currentTimeMillis
    const at = resolveWhen(when, now)
    if (at < now) {
      return yield* new CommandRefused({
        command: `timer ${numberOf(id)}`,
        message: `${iso(at)} has passed (it is ${iso(now)} UTC): give a later time, or start ${numberOf(id)} now`,
      })
    }
    const timer = yield* pipeline.scheduleStart(id, at)
    return `${numberOf(id)} starts at ${iso(timer.at)} (in ${describeDelay(Math.round((timer.at - now) / 1000))}).`
  })

/** The oldest pending permission request of the item's agents, if any. */
const pendingPermission = (id: StoryId) =>
  Effect.map(
    Effect.flatMap(Decisions, (d) => d.pending),
    (pending) =>
      pending.find(
        (d): d is Extract<Decision, { readonly _tag: "Permission" }> =>
          d._tag === "Permission" && d.storyId === id,
      ),
  )

const describeRequest = (d: Extract<Decision, { readonly _tag: "Permission" }>) => {
  const command = d.input["command"]
  const detail =
    typeof command === "string" ? `: ${command.length > 80 ? `${command.slice(0, 77)}…` : command}` : ""
  return `${d.agent ?? "the agent"}'s ${d.toolName}${detail}`
}

/**
 * A person's yes (`approve`) or no (`reject`) on an item: to its agent's pending permission request if
 * it has one (the agent is blocked on it), else as its QA verdict.
 */
export const verdictReply = (
  id: StoryId,
  verdict: "approve" | "reject",
  note: string | undefined,
  by: string,
) =>
  Effect.gen(function* () {
    const pipeline = yield* Pipeline
    const permission = yield* pendingPermission(id)
    if (permission !== undefined) {
      const answer = verdict === "approve" ? "allow" : "deny"
      yield* pipeline.answerDecision(permission.id, answer, by, note)
      return `${answer === "allow" ? "Allowed" : "Denied"} ${describeRequest(permission)} on ${numberOf(id)}.`
    }
    const after = yield* pipeline.humanQa(id, verdict, by, note)
    if (verdict === "approve")
      return `Approved the QA of ${numberOf(id)}: ${describeStage(after.stage)}; the merge queue merges it.`
    return after.stage._tag === "Coding"
      ? `Sent ${numberOf(id)} back to Coding; the next coder gets your notes.`
      : `Rejected ${numberOf(id)}: it has failed too often and is ${describeStage(after.stage)}.`
  })
