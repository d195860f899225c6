// src/domain/transition.ts — the one pure function through which every pipeline move happens.
// Store.apply calls it; MCP/chat use `legalEvents` to explain what is possible from a stage.
import { Either, Match, ParseResult, Schema } from "effect"
import type { ExecutionState } from "./ExecutionState.js"
import type { PipelineEvent, PipelineEventTag } from "./PipelineEvent.js"
import { type ArchiveReason, roleStage, Stage, type StageTag } from "./Stage.js"
import type { WorkItem } from "./WorkItem.js"

export class TransitionError extends Schema.TaggedError<TransitionError>()("TransitionError", {
  id: Schema.String,
  from: Schema.String,
  event: Schema.String,
  reason: Schema.String,
  legal: Schema.Array(Schema.String),
}) {
  override get message(): string {
    const legal = this.legal.length === 0 ? "none" : this.legal.join(", ")
    return `cannot apply ${this.event} to ${this.id} in ${this.from}: ${this.reason} (legal from ${this.from}: ${legal})`
  }
}

/** Events that never depend on the stage: they describe a node's agent, which may outlive a move. */
const executionEvents: ReadonlyArray<PipelineEventTag> = [
  "Heartbeat",
  "AgentExited",
  "RateLimitHit",
  "ExecutionCleared",
  "AgentStopped",
]
const holdEvents: ReadonlyArray<PipelineEventTag> = ["Block", "Hold", "Abandon", "Supersede"]

const stageEvents: Record<StageTag, ReadonlyArray<PipelineEventTag>> = {
  Backlog: ["Start", ...holdEvents],
  Coding: ["AgentStarted", "GatesPassed", "GatesFailed", "Reset", ...holdEvents],
  Qa: ["AgentStarted", "QaApproved", "QaRejected", "Reset", ...holdEvents],
  Merge: ["AgentStarted", "Merged", "MergeFailed", "Reset", ...holdEvents],
  Done: ["Complete"],
  Archived: ["Unblock"],
}

const revivable = new Set(["Blocked", "ReviewHold", "MergeFailed", "Abandoned"])

/** The events that may be applied to an item in `stage` (execution events are always listed). */
export const legalEvents = (stage: Stage): ReadonlyArray<PipelineEventTag> => {
  if (stage._tag === "Archived" && !revivable.has(stage.reason._tag)) return executionEvents
  return [...stageEvents[stage._tag], ...executionEvents]
}

const validateStage = Schema.validateEither(Stage)

/** Why `stage` may not exist (e.g. `mergeCommit: a git commit id: …`), or undefined when it may. */
const stageProblem = (stage: Stage): string | undefined => {
  const checked = validateStage(stage)
  if (Either.isRight(checked)) return undefined
  return ParseResult.ArrayFormatter.formatErrorSync(checked.left)
    .map((issue) => `${issue.path.join(".")}: ${issue.message}`)
    .join("; ")
}

export const transition = (
  item: WorkItem,
  event: PipelineEvent,
): Either.Either<WorkItem, TransitionError> => {
  const fail = (reason: string) =>
    Either.left(
      new TransitionError({
        id: item.id,
        from: item.stage._tag,
        event: event._tag,
        reason,
        legal: legalEvents(item.stage),
      }),
    )
  if (!legalEvents(item.stage).includes(event._tag)) {
    return fail(`${event._tag} is not a move out of ${describeStage(item.stage)}`)
  }
  const touched = { ...item, updatedAt: Math.max(item.updatedAt, event.at) }
  // `base` lets a move drop optional fields (feedback): spreading `changes` can only add keys.
  const moveTo = (
    stage: Stage,
    changes: Partial<WorkItem> = {},
    base: WorkItem = touched,
  ): Either.Either<WorkItem, TransitionError> => {
    const problem = stageProblem(stage)
    if (problem !== undefined) return fail(`the resulting ${stage._tag} stage would be invalid: ${problem}`)
    const moved = { ...base, ...changes, stage }
    // A finished run describes the stage it ran in (a person's stop included): once the item moves on,
    // it says nothing about the new stage. Running and rate-limited agents are kept: actors end them.
    return stage._tag === item.stage._tag ? Either.right(moved) : Either.right(withoutFinishedRuns(moved))
  }
  const setExecution = (node: string, state: ExecutionState): Either.Either<WorkItem, TransitionError> =>
    Either.right({ ...touched, execution: { ...item.execution, [node]: state } })
  const running = (node: string) => {
    const state = item.execution[node]
    return state?._tag === "Running" ? state : undefined
  }
  // One more failed attempt: back to Coding with `why` as the next coder's feedback, or past the limit
  // archived as Blocked, so neither failing tests nor a review loop can go on for ever.
  const failedAttempt = (text: string, retryLimit: number, what: string) => {
    // Test output ends with a newline; a Blocked reason may not, or the item could never be archived.
    const why = text.trim()
    const attempts = item.attempts + 1
    if (attempts > retryLimit) {
      const times = `${attempts} attempt${attempts === 1 ? "" : "s"}`
      return moveTo(
        { _tag: "Archived", reason: { _tag: "Blocked", why: `${what} after ${times}: ${why}` } },
        { attempts, feedback: why },
      )
    }
    return moveTo({ _tag: "Coding" }, { attempts, feedback: why })
  }
  const withoutFeedback = (): WorkItem => {
    const { feedback: _feedback, ...rest } = touched
    return rest
  }

  return Match.value(event).pipe(
    Match.tagsExhaustive({
      Start: () => moveTo({ _tag: "Coding" }, { attempts: 0 }),
      AgentStarted: (e) => {
        if (roleStage[e.role] !== item.stage._tag) {
          return fail(`a ${e.role} works on ${roleStage[e.role]} items, never on ${item.stage._tag}`)
        }
        if (running(e.node) !== undefined) return fail(`node ${e.node} already runs an agent on this item`)
        // Decoding a record assigns `out[key] = …`, so a `__proto__` entry would be lost on reload.
        if (e.node === "__proto__") return fail("`__proto__` cannot be used as a node id: rename the node")
        return setExecution(e.node, {
          _tag: "Running",
          agent: e.agent,
          role: e.role,
          startedAt: e.at,
          heartbeatAt: e.at,
        })
      },
      Heartbeat: (e) => {
        const state = running(e.node)
        if (state === undefined) return fail(`node ${e.node} runs no agent on this item`)
        return setExecution(e.node, { ...state, heartbeatAt: Math.max(state.heartbeatAt, e.at) })
      },
      AgentExited: (e) => {
        const state = item.execution[e.node]
        if (state?._tag !== "Running" && state?._tag !== "RateLimited") {
          return fail(`node ${e.node} runs no agent on this item`)
        }
        return setExecution(e.node, { _tag: "Completed", outcome: e.outcome })
      },
      RateLimitHit: (e) => {
        if (running(e.node) === undefined) return fail(`node ${e.node} runs no agent on this item`)
        return setExecution(e.node, { _tag: "RateLimited", resetAt: e.resetAt })
      },
      AgentStopped: (e) => setExecution(e.node, { _tag: "Completed", outcome: "stopped" }),
      ExecutionCleared: (e) => {
        const { [e.node]: _cleared, ...rest } = item.execution
        return Either.right({ ...touched, execution: rest })
      },
      GatesPassed: (e) => {
        // A coder that committed nothing has not passed, whatever the tests say: never spend QA on it.
        if (e.commitsAhead < 1) return fail(noCommits(e.featureBranch))
        if (e.qa !== "none") return moveTo({ _tag: "Qa" }, {}, withoutFeedback())
        return moveTo(
          { _tag: "Merge", featureBranch: e.featureBranch, commitsAhead: e.commitsAhead },
          {},
          withoutFeedback(),
        )
      },
      GatesFailed: (e) => failedAttempt(e.why, e.retryLimit, "gave up"),
      QaApproved: (e) => {
        if (e.commitsAhead < 1) return fail(noCommits(e.featureBranch))
        return moveTo(
          { _tag: "Merge", featureBranch: e.featureBranch, commitsAhead: e.commitsAhead },
          {},
          withoutFeedback(),
        )
      },
      QaRejected: (e) => failedAttempt(e.notes, e.retryLimit, "QA rejected it"),
      Merged: (e) => moveTo({ _tag: "Done", mergeCommit: e.mergeCommit, mergedAt: e.mergedAt }),
      MergeFailed: (e) => moveTo({ _tag: "Archived", reason: { _tag: "MergeFailed", why: e.why.trim() } }),
      Block: (e) => moveTo({ _tag: "Archived", reason: { _tag: "Blocked", why: e.why } }),
      Hold: () => moveTo({ _tag: "Archived", reason: { _tag: "ReviewHold" } }),
      Abandon: () => moveTo({ _tag: "Archived", reason: { _tag: "Abandoned" } }),
      Supersede: (e) => moveTo({ _tag: "Archived", reason: { _tag: "Superseded", by: e.by } }),
      Complete: () => moveTo({ _tag: "Archived", reason: { _tag: "Completed" } }),
      Unblock: () => moveTo({ _tag: "Backlog" }, { attempts: 0 }),
      Reset: () => moveTo({ _tag: "Backlog" }, { attempts: 0 }),
    }),
  )
}

const withoutFinishedRuns = (item: WorkItem): WorkItem => ({
  ...item,
  execution: Object.fromEntries(
    Object.entries(item.execution).filter(([, state]) => state._tag !== "Completed"),
  ),
})

const noCommits = (branch: string) =>
  `${branch} has no commits ahead of the base branch, so there is nothing to merge: check that the agent committed its work on that branch`

/**
 * A short human description of a stage, used in error messages and status lines. A switch, not a Match:
 * it runs for every item in every status answer, and a Match builds its matcher on each call.
 */
export const describeStage = (stage: Stage): string => {
  switch (stage._tag) {
    case "Backlog":
      return "Backlog"
    case "Coding":
      return "Coding"
    case "Qa":
      return "QA"
    case "Merge":
      return `Merge (${stage.featureBranch}, ${stage.commitsAhead} commit${stage.commitsAhead === 1 ? "" : "s"} ahead)`
    case "Done":
      return `Done (${stage.mergeCommit.slice(0, 12)})`
    case "Archived":
      return `Archived (${describeReason(stage.reason)})`
  }
}

export const describeReason = (reason: ArchiveReason): string => {
  switch (reason._tag) {
    case "Blocked":
      return `blocked: ${reason.why}`
    case "MergeFailed":
      return `merge failed: ${reason.why}`
    case "ReviewHold":
      return "on review hold"
    case "Abandoned":
      return "abandoned"
    case "Superseded":
      return `superseded by ${reason.by}`
    case "Completed":
      return "completed"
  }
}
