// test/domain/transition.test.ts — the pipeline state machine: every legal move with its exact result,
// every illegal move with its error, the stage invariants, and property tests over random event streams.
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as fc from "fast-check"
import { type ExecutionState, NodeId } from "../../src/domain/ExecutionState.js"
import { PipelineEvent, type PipelineEventTag } from "../../src/domain/PipelineEvent.js"
import { roleStage, Stage } from "../../src/domain/Stage.js"
import { StoryId } from "../../src/domain/StoryId.js"
import { legalEvents, transition, TransitionError } from "../../src/domain/transition.js"
import { newWorkItem, WorkItem } from "../../src/domain/WorkItem.js"
import {
  itemKindArb,
  looseEventArb,
  millisArb,
  pipelineEventArb,
  progressingEventArb,
  storyIdArb,
  workItemArb,
} from "./arbitraries.js"

// ---- fixtures ----------------------------------------------------------------------------------

const id = StoryId.make("7_story_add_login")
const n1 = NodeId.make("node-1")
const n2 = NodeId.make("node-2")
const sha = "0123456789abcdef0123456789abcdef01234567"

/** The agent already running on node-1 in every fixture item. */
const coderOnN1: ExecutionState = {
  _tag: "Running",
  agent: "claude",
  role: "coder",
  startedAt: 500,
  heartbeatAt: 900,
}

const backlog: Stage = { _tag: "Backlog" }
const coding: Stage = { _tag: "Coding" }
const qa: Stage = { _tag: "Qa" }
const merge: Stage = { _tag: "Merge", featureBranch: "feature/7-login", commitsAhead: 3 }
const done: Stage = { _tag: "Done", mergeCommit: sha, mergedAt: 950 }
const blocked: Stage = { _tag: "Archived", reason: { _tag: "Blocked", why: "waiting on design" } }
const mergeFailed: Stage = {
  _tag: "Archived",
  reason: { _tag: "MergeFailed", why: "conflict in src/app.ts" },
}
const reviewHold: Stage = { _tag: "Archived", reason: { _tag: "ReviewHold" } }
const abandoned: Stage = { _tag: "Archived", reason: { _tag: "Abandoned" } }
const superseded: Stage = { _tag: "Archived", reason: { _tag: "Superseded", by: "9_story_login_v2" } }
const completed: Stage = { _tag: "Archived", reason: { _tag: "Completed" } }

const allStages: ReadonlyArray<Stage> = [
  backlog,
  coding,
  qa,
  merge,
  done,
  blocked,
  mergeFailed,
  reviewHold,
  abandoned,
  superseded,
  completed,
]
const stageName = (stage: Stage): string =>
  stage._tag === "Archived" ? `Archived(${stage.reason._tag})` : stage._tag

/** Every fixture item: attempts 1, feedback from an earlier gate run, a coder running on node-1. */
const itemIn = (stage: Stage): WorkItem => ({
  id,
  kind: "story",
  stage,
  attempts: 1,
  feedback: "lint failed",
  createdAt: 100,
  updatedAt: 1_000,
  execution: { [n1]: coderOnN1 },
})

/** Every event happens at 2_000, after the fixture's updatedAt of 1_000. */
const at = 2_000
const ev = {
  Start: { _tag: "Start", at },
  AgentStarted: (role: "coder" | "qa" | "mergemaster"): PipelineEvent => ({
    _tag: "AgentStarted",
    node: n2,
    agent: "claude-opus",
    role,
    at,
  }),
  Heartbeat: { _tag: "Heartbeat", node: n1, at },
  AgentExited: { _tag: "AgentExited", node: n1, outcome: "failed", at },
  RateLimitHit: { _tag: "RateLimitHit", node: n1, resetAt: 9_000, at },
  ExecutionCleared: { _tag: "ExecutionCleared", node: n1, at },
  AgentStopped: { _tag: "AgentStopped", node: n1, at },
  GatesPassed: (qaMode: "agent" | "human" | "none"): PipelineEvent => ({
    _tag: "GatesPassed",
    featureBranch: "feature/7-login",
    commitsAhead: 3,
    qa: qaMode,
    at,
  }),
  GatesFailed: (retryLimit: number): PipelineEvent => ({
    _tag: "GatesFailed",
    why: "tests failed",
    retryLimit,
    at,
  }),
  QaApproved: { _tag: "QaApproved", featureBranch: "feature/7-login", commitsAhead: 2, at },
  QaRejected: { _tag: "QaRejected", notes: "the logout button is missing", retryLimit: 5, at },
  Merged: { _tag: "Merged", mergeCommit: "abcdef1234567", mergedAt: 1_900, at },
  MergeFailed: { _tag: "MergeFailed", why: "conflict in src/app.ts", at },
  Block: { _tag: "Block", why: "needs a product decision", at },
  Hold: { _tag: "Hold", at },
  Unblock: { _tag: "Unblock", at },
  Abandon: { _tag: "Abandon", at },
  Supersede: { _tag: "Supersede", by: "9_story_login_v2", at },
  Complete: { _tag: "Complete", at },
  Reset: { _tag: "Reset", at },
} satisfies Record<PipelineEventTag, PipelineEvent | ((...args: never) => PipelineEvent)>

/** One sample of every event kind, for the illegal-move table. */
const sampleEvents: ReadonlyArray<PipelineEvent> = [
  ev.Start,
  ev.AgentStarted("coder"),
  ev.Heartbeat,
  ev.AgentExited,
  ev.RateLimitHit,
  ev.ExecutionCleared,
  ev.AgentStopped,
  ev.GatesPassed("none"),
  ev.GatesFailed(3),
  ev.QaApproved,
  ev.QaRejected,
  ev.Merged,
  ev.MergeFailed,
  ev.Block,
  ev.Hold,
  ev.Unblock,
  ev.Abandon,
  ev.Supersede,
  ev.Complete,
  ev.Reset,
]

const expectRight = (result: Either.Either<WorkItem, TransitionError>): WorkItem => {
  if (Either.isLeft(result)) throw new Error(`expected a move, got: ${result.left.message}`)
  return result.right
}
const expectLeft = (result: Either.Either<WorkItem, TransitionError>): TransitionError => {
  if (Either.isRight(result)) throw new Error(`expected an error, got ${JSON.stringify(result.right)}`)
  return result.left
}

// ---- every legal move --------------------------------------------------------------------------

interface Case {
  readonly from: Stage
  readonly event: PipelineEvent
  readonly label?: string
  /** The complete resulting item, written out. */
  readonly to: WorkItem
}

const same = { id, kind: "story", createdAt: 100 } as const

/** Archiving keeps attempts, feedback and execution; only the stage and updatedAt change. */
const holdCases = (from: Stage): ReadonlyArray<Case> => [
  {
    from,
    event: ev.Block,
    to: {
      ...same,
      stage: { _tag: "Archived", reason: { _tag: "Blocked", why: "needs a product decision" } },
      attempts: 1,
      feedback: "lint failed",
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
  {
    from,
    event: ev.Hold,
    to: {
      ...same,
      stage: { _tag: "Archived", reason: { _tag: "ReviewHold" } },
      attempts: 1,
      feedback: "lint failed",
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
  {
    from,
    event: ev.Abandon,
    to: {
      ...same,
      stage: { _tag: "Archived", reason: { _tag: "Abandoned" } },
      attempts: 1,
      feedback: "lint failed",
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
  {
    from,
    event: ev.Supersede,
    to: {
      ...same,
      stage: { _tag: "Archived", reason: { _tag: "Superseded", by: "9_story_login_v2" } },
      attempts: 1,
      feedback: "lint failed",
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
]

/** Execution events never move the stage: they only rewrite node-1's entry (and updatedAt). */
const executionCases = (from: Stage): ReadonlyArray<Case> => [
  {
    from,
    event: ev.Heartbeat,
    to: {
      ...same,
      stage: from,
      attempts: 1,
      feedback: "lint failed",
      execution: {
        [n1]: { _tag: "Running", agent: "claude", role: "coder", startedAt: 500, heartbeatAt: 2_000 },
      },
      updatedAt: 2_000,
    },
  },
  {
    from,
    event: ev.AgentExited,
    to: {
      ...same,
      stage: from,
      attempts: 1,
      feedback: "lint failed",
      execution: { [n1]: { _tag: "Completed", outcome: "failed" } },
      updatedAt: 2_000,
    },
  },
  {
    from,
    event: ev.RateLimitHit,
    to: {
      ...same,
      stage: from,
      attempts: 1,
      feedback: "lint failed",
      execution: { [n1]: { _tag: "RateLimited", resetAt: 9_000 } },
      updatedAt: 2_000,
    },
  },
  {
    from,
    event: ev.AgentStopped,
    to: {
      ...same,
      stage: from,
      attempts: 1,
      feedback: "lint failed",
      execution: { [n1]: { _tag: "Completed", outcome: "stopped" } },
      updatedAt: 2_000,
    },
  },
  {
    from,
    event: ev.ExecutionCleared,
    to: { ...same, stage: from, attempts: 1, feedback: "lint failed", execution: {}, updatedAt: 2_000 },
  },
]

/** An agent of the stage's role starts on node-2, next to the coder on node-1. */
const agentStartedCase = (from: Stage, role: "coder" | "qa" | "mergemaster"): Case => ({
  from,
  event: ev.AgentStarted(role),
  to: {
    ...same,
    stage: from,
    attempts: 1,
    feedback: "lint failed",
    execution: {
      [n1]: coderOnN1,
      [n2]: { _tag: "Running", agent: "claude-opus", role, startedAt: 2_000, heartbeatAt: 2_000 },
    },
    updatedAt: 2_000,
  },
})

/** Unblock revives an archived item into Backlog with a fresh attempt count. */
const unblockCase = (from: Stage): Case => ({
  from,
  event: ev.Unblock,
  to: {
    ...same,
    stage: { _tag: "Backlog" },
    attempts: 0,
    feedback: "lint failed",
    execution: { [n1]: coderOnN1 },
    updatedAt: 2_000,
  },
})

const resetCase = (from: Stage): Case => ({
  from,
  event: ev.Reset,
  to: {
    ...same,
    stage: { _tag: "Backlog" },
    attempts: 0,
    feedback: "lint failed",
    execution: { [n1]: coderOnN1 },
    updatedAt: 2_000,
  },
})

const legalCases: ReadonlyArray<Case> = [
  // Backlog
  {
    from: backlog,
    event: ev.Start,
    to: {
      ...same,
      stage: { _tag: "Coding" },
      attempts: 0,
      feedback: "lint failed",
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
  ...holdCases(backlog),
  ...executionCases(backlog),
  // Coding
  agentStartedCase(coding, "coder"),
  {
    from: coding,
    event: ev.GatesPassed("agent"),
    label: "qa agent",
    to: { ...same, stage: { _tag: "Qa" }, attempts: 1, execution: { [n1]: coderOnN1 }, updatedAt: 2_000 },
  },
  {
    from: coding,
    event: ev.GatesPassed("human"),
    label: "qa human",
    to: { ...same, stage: { _tag: "Qa" }, attempts: 1, execution: { [n1]: coderOnN1 }, updatedAt: 2_000 },
  },
  {
    from: coding,
    event: ev.GatesPassed("none"),
    label: "qa none",
    to: {
      ...same,
      stage: { _tag: "Merge", featureBranch: "feature/7-login", commitsAhead: 3 },
      attempts: 1,
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
  {
    from: coding,
    event: ev.GatesFailed(3),
    label: "retry",
    to: {
      ...same,
      stage: { _tag: "Coding" },
      attempts: 2,
      feedback: "tests failed",
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
  {
    from: coding,
    event: ev.GatesFailed(1),
    label: "retry limit reached",
    to: {
      ...same,
      stage: { _tag: "Archived", reason: { _tag: "Blocked", why: "gave up after 2 attempts: tests failed" } },
      attempts: 2,
      feedback: "tests failed",
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
  resetCase(coding),
  ...holdCases(coding),
  ...executionCases(coding),
  // Qa
  agentStartedCase(qa, "qa"),
  {
    from: qa,
    event: ev.QaApproved,
    to: {
      ...same,
      stage: { _tag: "Merge", featureBranch: "feature/7-login", commitsAhead: 2 },
      attempts: 1,
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
  {
    from: qa,
    event: ev.QaRejected,
    to: {
      ...same,
      stage: { _tag: "Coding" },
      attempts: 2,
      feedback: "the logout button is missing",
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
  resetCase(qa),
  ...holdCases(qa),
  ...executionCases(qa),
  // Merge
  agentStartedCase(merge, "mergemaster"),
  {
    from: merge,
    event: ev.Merged,
    to: {
      ...same,
      stage: { _tag: "Done", mergeCommit: "abcdef1234567", mergedAt: 1_900 },
      attempts: 1,
      feedback: "lint failed",
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
  {
    from: merge,
    event: ev.MergeFailed,
    to: {
      ...same,
      stage: { _tag: "Archived", reason: { _tag: "MergeFailed", why: "conflict in src/app.ts" } },
      attempts: 1,
      feedback: "lint failed",
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
  resetCase(merge),
  ...holdCases(merge),
  ...executionCases(merge),
  // Done
  {
    from: done,
    event: ev.Complete,
    to: {
      ...same,
      stage: { _tag: "Archived", reason: { _tag: "Completed" } },
      attempts: 1,
      feedback: "lint failed",
      execution: { [n1]: coderOnN1 },
      updatedAt: 2_000,
    },
  },
  ...executionCases(done),
  // Archived: four reasons can be revived, Superseded and Completed are final.
  unblockCase(blocked),
  ...executionCases(blocked),
  unblockCase(mergeFailed),
  ...executionCases(mergeFailed),
  unblockCase(reviewHold),
  ...executionCases(reviewHold),
  unblockCase(abandoned),
  ...executionCases(abandoned),
  ...executionCases(superseded),
  ...executionCases(completed),
]

describe("transition: legal moves", () => {
  it("the table covers every (stage, legal event) pair", () => {
    const covered = new Set(legalCases.map((c) => `${stageName(c.from)} ${c.event._tag}`))
    const legal = new Set(allStages.flatMap((s) => legalEvents(s).map((e) => `${stageName(s)} ${e}`)))
    expect([...covered].sort()).toEqual([...legal].sort())
    expect(legal.size).toBe(89)
  })

  it.each(
    legalCases.map((c) => [`${stageName(c.from)} + ${c.event._tag}${c.label ? ` (${c.label})` : ""}`, c]),
  )("%s", (_name, c) => {
    const result = expectRight(transition(itemIn(c.from), c.event))
    // toStrictEqual also tells `feedback` absent from `feedback: undefined`.
    expect(result).toStrictEqual(c.to)
    expect(Schema.decodeUnknownEither(WorkItem)(JSON.parse(JSON.stringify(result)))).toStrictEqual(
      Either.right(c.to),
    )
  })

  it("legalEvents lists exactly these moves per stage", () => {
    const exec = ["Heartbeat", "AgentExited", "RateLimitHit", "ExecutionCleared", "AgentStopped"]
    const holds = ["Block", "Hold", "Abandon", "Supersede"]
    expect(Object.fromEntries(allStages.map((s) => [stageName(s), [...legalEvents(s)].sort()]))).toEqual({
      Backlog: ["Start", ...holds, ...exec].sort(),
      Coding: ["AgentStarted", "GatesPassed", "GatesFailed", "Reset", ...holds, ...exec].sort(),
      Qa: ["AgentStarted", "QaApproved", "QaRejected", "Reset", ...holds, ...exec].sort(),
      Merge: ["AgentStarted", "Merged", "MergeFailed", "Reset", ...holds, ...exec].sort(),
      Done: ["Complete", ...exec].sort(),
      "Archived(Blocked)": ["Unblock", ...exec].sort(),
      "Archived(MergeFailed)": ["Unblock", ...exec].sort(),
      "Archived(ReviewHold)": ["Unblock", ...exec].sort(),
      "Archived(Abandoned)": ["Unblock", ...exec].sort(),
      "Archived(Superseded)": [...exec].sort(),
      "Archived(Completed)": [...exec].sort(),
    })
  })

  it("updatedAt never goes back when an event carries an older time", () => {
    const result = expectRight(transition(itemIn(backlog), { _tag: "Start", at: 10 }))
    expect(result.updatedAt).toBe(1_000)
    expect(result.stage).toEqual({ _tag: "Coding" })
  })

  it("a heartbeat older than the last one does not move heartbeatAt back", () => {
    const result = expectRight(transition(itemIn(coding), { _tag: "Heartbeat", node: n1, at: 600 }))
    expect(result.execution).toEqual({ [n1]: coderOnN1 })
  })

  it("an agent that hit a rate limit can still exit, and a new one can start on that node", () => {
    const limited = expectRight(transition(itemIn(coding), ev.RateLimitHit))
    expect(expectRight(transition(limited, ev.AgentExited)).execution).toEqual({
      [n1]: { _tag: "Completed", outcome: "failed" },
    })
    const restarted = expectRight(
      transition(limited, { _tag: "AgentStarted", node: n1, agent: "claude", role: "coder", at: 9_500 }),
    )
    expect(restarted.execution).toEqual({
      [n1]: { _tag: "Running", agent: "claude", role: "coder", startedAt: 9_500, heartbeatAt: 9_500 },
    })
  })

  it("a finished run is forgotten when the item changes stage, a running one is kept", () => {
    const stopped = { _tag: "Completed", outcome: "stopped" } as const
    const item = { ...itemIn(coding), execution: { [n1]: coderOnN1, [n2]: stopped } }
    // Same stage: the stopped run stays, so the scheduler keeps leaving the item alone.
    expect(expectRight(transition(item, ev.GatesFailed(5))).execution).toEqual({
      [n1]: coderOnN1,
      [n2]: stopped,
    })
    // Another stage: only the running agent remains (its actor ends it).
    expect(expectRight(transition(item, ev.Block)).execution).toEqual({ [n1]: coderOnN1 })
  })
})

// ---- every illegal move ------------------------------------------------------------------------

describe("transition: illegal moves", () => {
  const illegal = allStages.flatMap((stage) =>
    sampleEvents
      .filter((event) => !legalEvents(stage).includes(event._tag))
      .map((event) => [`${stageName(stage)} + ${event._tag}`, stage, event] as const),
  )

  it("there are 11 stages × 20 events − 89 legal = 131 illegal pairs", () => {
    // `ev` satisfies Record<PipelineEventTag, …>, so its keys are every event kind.
    expect(sampleEvents.map((e) => e._tag).sort()).toEqual(Object.keys(ev).sort())
    expect(illegal.length).toBe(131)
  })

  it.each(illegal)("%s is refused with the legal moves", (_name, stage, event) => {
    const item = itemIn(stage)
    const error = expectLeft(transition(item, event))
    expect(error).toBeInstanceOf(TransitionError)
    expect(error._tag).toBe("TransitionError")
    expect(error.id).toBe(id)
    expect(error.from).toBe(stage._tag)
    expect(error.event).toBe(event._tag)
    expect(error.reason).toContain(`${event._tag} is not a move out of`)
    expect(error.legal).toEqual(legalEvents(stage))
    expect(error.message).toContain(`cannot apply ${event._tag} to ${id} in ${stage._tag}`)
    expect(error.message).toContain(`legal from ${stage._tag}: ${legalEvents(stage).join(", ")}`)
  })

  it("the message names the archive reason, so a user sees why Unblock is or is not offered", () => {
    const error = expectLeft(transition(itemIn(superseded), ev.Unblock))
    expect(error.message).toBe(
      "cannot apply Unblock to 7_story_add_login in Archived: Unblock is not a move out of Archived (superseded by 9_story_login_v2) (legal from Archived: Heartbeat, AgentExited, RateLimitHit, ExecutionCleared, AgentStopped)",
    )
  })

  it("execution events for a node that runs nothing are refused", () => {
    const idle = { ...itemIn(coding), execution: {} }
    for (const event of [ev.Heartbeat, ev.AgentExited, ev.RateLimitHit]) {
      const error = expectLeft(transition(idle, event))
      expect(error.reason).toBe("node node-1 runs no agent on this item")
    }
    // Clearing what is already clear is harmless: it only records the time.
    expect(expectRight(transition(idle, ev.ExecutionCleared))).toStrictEqual({ ...idle, updatedAt: 2_000 })
  })

  it("a node cannot start a second agent on the same item", () => {
    const error = expectLeft(
      transition(itemIn(coding), { _tag: "AgentStarted", node: n1, agent: "other", role: "coder", at }),
    )
    expect(error.reason).toBe("node node-1 already runs an agent on this item")
  })

  it("a node named __proto__ is refused instead of being lost when the item is reloaded", () => {
    expect(Either.isLeft(Schema.decodeUnknownEither(NodeId)("__proto__"))).toBe(true)
    // Events built in code skip decoding; transition refuses the name on its own too.
    const error = expectLeft(
      transition(itemIn(coding), {
        _tag: "AgentStarted",
        node: "__proto__" as NodeId,
        agent: "claude",
        role: "coder",
        at,
      }),
    )
    expect(error.reason).toContain("`__proto__` cannot be used as a node id")
  })
})

// ---- invariants ----------------------------------------------------------------------------------

describe("transition: invariants", () => {
  describe("Merge never has 0 commits ahead", () => {
    it("GatesPassed with qa none and 0 commits ahead is refused with what to check", () => {
      const error = expectLeft(
        transition(itemIn(coding), {
          _tag: "GatesPassed",
          featureBranch: "feature/7-login",
          commitsAhead: 0,
          qa: "none",
          at,
        }),
      )
      expect(error.reason).toBe(
        "feature/7-login has no commits ahead of the base branch, so there is nothing to merge: check that the agent committed its work on that branch",
      )
      expect(error.legal).toEqual(legalEvents(coding))
    })

    it("QaApproved with 0 commits ahead is refused with what to check", () => {
      const error = expectLeft(
        transition(itemIn(qa), { _tag: "QaApproved", featureBranch: "feature/7-login", commitsAhead: 0, at }),
      )
      expect(error.reason).toContain("feature/7-login has no commits ahead of the base branch")
      expect(error.reason).toContain("check that the agent committed its work on that branch")
    })

    it("a Merge stage with 0 commits ahead does not decode", () => {
      const decoded = Schema.decodeUnknownEither(Stage)({
        _tag: "Merge",
        featureBranch: "x",
        commitsAhead: 0,
      })
      expect(Either.isLeft(decoded)).toBe(true)
      if (Either.isLeft(decoded))
        expect(decoded.left.message).toContain("Merge needs at least one commit ahead")
    })
  })

  describe("Done always has its merge commit and time", () => {
    it.each(["", "HEAD", "abc", "ABCDEF1234", "not-a-sha", "a".repeat(65)])(
      "Merged with mergeCommit %j is refused",
      (mergeCommit) => {
        const error = expectLeft(
          transition(itemIn(merge), { _tag: "Merged", mergeCommit, mergedAt: 1_900, at }),
        )
        expect(error.from).toBe("Merge")
        expect(error.reason).toBe(
          "the resulting Done stage would be invalid: mergeCommit: a git commit id: 7 to 64 lowercase hex digits",
        )
      },
    )

    it("a Done stage without mergedAt or mergeCommit does not decode", () => {
      expect(Either.isLeft(Schema.decodeUnknownEither(Stage)({ _tag: "Done", mergeCommit: sha }))).toBe(true)
      expect(Either.isLeft(Schema.decodeUnknownEither(Stage)({ _tag: "Done", mergedAt: 5 }))).toBe(true)
      expect(
        Either.isRight(Schema.decodeUnknownEither(Stage)({ _tag: "Done", mergeCommit: sha, mergedAt: 5 })),
      ).toBe(true)
    })
  })

  describe("agents attach only to their own stage", () => {
    const cases = [
      { stage: merge, role: "coder", ok: false },
      { stage: qa, role: "coder", ok: false },
      { stage: coding, role: "coder", ok: true },
      { stage: coding, role: "qa", ok: false },
      { stage: merge, role: "qa", ok: false },
      { stage: qa, role: "qa", ok: true },
      { stage: coding, role: "mergemaster", ok: false },
      { stage: qa, role: "mergemaster", ok: false },
      { stage: merge, role: "mergemaster", ok: true },
    ] as const
    it.each(cases.map((c) => [`${c.role} on ${c.stage._tag}`, c] as const))("%s", (_name, c) => {
      const result = transition(itemIn(c.stage), ev.AgentStarted(c.role))
      if (c.ok) {
        expect(expectRight(result).execution[n2]).toEqual({
          _tag: "Running",
          agent: "claude-opus",
          role: c.role,
          startedAt: 2_000,
          heartbeatAt: 2_000,
        })
      } else {
        const error = expectLeft(result)
        expect(error.reason).toBe(`a ${c.role} works on ${roleStage[c.role]} items, never on ${c.stage._tag}`)
      }
    })

    it("a coder is never attached to a Merge item, whatever else is running", () => {
      const error = expectLeft(transition(itemIn(merge), ev.AgentStarted("coder")))
      expect(error.reason).toBe("a coder works on Coding items, never on Merge")
    })

    it("no agent starts on Backlog, Done or Archived items", () => {
      for (const stage of [backlog, done, blocked, completed]) {
        for (const role of ["coder", "qa", "mergemaster"] as const) {
          expect(expectLeft(transition(itemIn(stage), ev.AgentStarted(role))).reason).toContain(
            "AgentStarted is not a move out of",
          )
        }
      }
    })
  })

  describe("retries", () => {
    it("GatesFailed counts attempts, keeps the failure as feedback, and blocks past the retry limit", () => {
      const failed = (why: string): PipelineEvent => ({ _tag: "GatesFailed", why, retryLimit: 2, at })
      let item: WorkItem = { ...newWorkItem(id, "story", 100), stage: { _tag: "Coding" } }
      item = expectRight(transition(item, failed("unit tests failed")))
      expect([item.stage, item.attempts, item.feedback]).toEqual([{ _tag: "Coding" }, 1, "unit tests failed"])
      item = expectRight(transition(item, failed("lint failed")))
      expect([item.stage, item.attempts, item.feedback]).toEqual([{ _tag: "Coding" }, 2, "lint failed"])
      item = expectRight(transition(item, failed("typecheck failed")))
      expect(item.stage).toEqual({
        _tag: "Archived",
        reason: { _tag: "Blocked", why: "gave up after 3 attempts: typecheck failed" },
      })
      expect([item.attempts, item.feedback]).toEqual([3, "typecheck failed"])
    })

    it("a retry limit of 0 blocks on the first failure", () => {
      const item = expectRight(
        transition(
          { ...newWorkItem(id, "story", 100), stage: { _tag: "Coding" } },
          { _tag: "GatesFailed", why: "build broke", retryLimit: 0, at },
        ),
      )
      expect(item.stage).toEqual({
        _tag: "Archived",
        reason: { _tag: "Blocked", why: "gave up after 1 attempt: build broke" },
      })
    })

    it("passing the gates clears the previous failure; a QA rejection becomes the next coder's feedback", () => {
      let item = itemIn(coding)
      item = expectRight(transition(item, ev.GatesPassed("agent")))
      expect("feedback" in item).toBe(false)
      item = expectRight(transition(item, ev.QaRejected))
      expect(item.feedback).toBe("the logout button is missing")
      expect(item.stage).toEqual({ _tag: "Coding" })
    })

    it("a failure text ending in a newline (test output) still archives the item past the limit", () => {
      const failed = expectRight(
        transition(itemIn(coding), {
          _tag: "GatesFailed",
          why: "tests failed:\n\nFAIL x\n",
          retryLimit: 0,
          at,
        }),
      )
      expect(failed.stage).toEqual({
        _tag: "Archived",
        reason: { _tag: "Blocked", why: "gave up after 2 attempts: tests failed:\n\nFAIL x" },
      })
      const merge: Stage = { _tag: "Merge", featureBranch: "feature/x", commitsAhead: 1 }
      const mergeFailed = expectRight(
        transition(itemIn(merge), { _tag: "MergeFailed", why: "gates failed\n", at }),
      )
      expect(mergeFailed.stage).toEqual({
        _tag: "Archived",
        reason: { _tag: "MergeFailed", why: "gates failed" },
      })
    })

    it("QA rejections count as attempts: a review loop ends Blocked past the retry limit", () => {
      const rejected = expectRight(
        transition(itemIn(qa), { _tag: "QaRejected", notes: "still no logout", retryLimit: 1, at }),
      )
      expect(rejected.stage).toEqual({
        _tag: "Archived",
        reason: { _tag: "Blocked", why: "QA rejected it after 2 attempts: still no logout" },
      })
      expect(rejected.feedback).toBe("still no logout")
    })

    it("Unblock after giving up starts the count again", () => {
      const gaveUp = expectRight(transition(itemIn(coding), ev.GatesFailed(0)))
      const revived = expectRight(transition(gaveUp, ev.Unblock))
      expect([revived.stage, revived.attempts]).toEqual([{ _tag: "Backlog" }, 0])
      expect(expectRight(transition(revived, ev.Start)).attempts).toBe(0)
    })
  })

  describe("Start only from Backlog", () => {
    it.each(allStages.filter((s) => s._tag !== "Backlog").map((s) => [stageName(s), s] as const))(
      "a late Start timer cannot restart an item in %s",
      (_name, stage) => {
        const item = itemIn(stage)
        const error = expectLeft(transition(item, ev.Start))
        expect(error.event).toBe("Start")
        expect(error.legal).not.toContain("Start")
      },
    )

    it("a second Start after the first is refused", () => {
      const started = expectRight(transition(newWorkItem(id, "story", 100), { _tag: "Start", at: 200 }))
      expect(expectLeft(transition(started, { _tag: "Start", at: 300 })).from).toBe("Coding")
    })
  })
})

// ---- properties --------------------------------------------------------------------------------

const decodeItem = Schema.decodeUnknownEither(WorkItem)
const decodeEvent = Schema.decodeUnknownEither(PipelineEvent)

/**
 * The item survives storage: JSON round trip, decode, and the same item comes back. (toEqual, not
 * toStrictEqual: a node named `constructor` defeats toStrictEqual's class check.)
 */
const expectRoundTrip = (item: WorkItem): void => {
  const decoded = decodeItem(JSON.parse(JSON.stringify(item)))
  if (Either.isLeft(decoded)) throw new Error(`item no longer decodes: ${decoded.left.message}`)
  expect(decoded.right).toEqual(item)
  expect(Object.keys(decoded.right.execution).sort()).toEqual(Object.keys(item.execution).sort())
}

describe("transition: properties", () => {
  it("any event stream from a new item keeps it decodable after a JSON round trip, with updatedAt never decreasing", () => {
    const reached = new Set<string>()
    fc.assert(
      fc.property(
        storyIdArb,
        itemKindArb,
        millisArb,
        fc.oneof(
          fc.array(pipelineEventArb, { minLength: 1, maxLength: 100, size: "max" }),
          fc.array(progressingEventArb, { minLength: 1, maxLength: 100, size: "max" }),
        ),
        (storyId, kind, createdAt, events) => {
          let item = newWorkItem(storyId, kind, createdAt)
          for (const event of events) {
            const result = transition(item, event)
            if (Either.isLeft(result)) {
              expect(result.left.legal).toEqual(legalEvents(item.stage))
              continue
            }
            const next = result.right
            expect(next.updatedAt).toBeGreaterThanOrEqual(item.updatedAt)
            expect(next.updatedAt).toBeGreaterThanOrEqual(event.at)
            expect([next.id, next.kind, next.createdAt]).toEqual([item.id, item.kind, item.createdAt])
            expect(legalEvents(item.stage)).toContain(event._tag)
            if (event._tag === "Start") expect(item.stage._tag).toBe("Backlog")
            if (event._tag === "AgentStarted") expect(roleStage[event.role]).toBe(item.stage._tag)
            expectRoundTrip(next)
            item = next
            reached.add(stageName(item.stage))
          }
        },
      ),
      { numRuns: 400 },
    )
    // The property is only worth something if the random streams reach every stage.
    for (const stage of [
      "Coding",
      "Qa",
      "Merge",
      "Done",
      "Archived(Completed)",
      "Archived(Blocked)",
      "Backlog",
    ]) {
      expect(reached).toContain(stage)
    }
  })

  it("never throws for any input that decodes as an event, from any valid item", () => {
    let decodedCount = 0
    fc.assert(
      fc.property(workItemArb, looseEventArb, (item, input) => {
        const decoded = decodeEvent(input)
        if (Either.isLeft(decoded)) return
        decodedCount += 1
        const result = transition(item, decoded.right)
        if (Either.isRight(result)) {
          expect(result.right.updatedAt).toBeGreaterThanOrEqual(item.updatedAt)
          expectRoundTrip(result.right)
        } else {
          expect(result.left.message.length).toBeGreaterThan(0)
        }
      }),
      { numRuns: 2_000 },
    )
    expect(decodedCount).toBeGreaterThan(100)
  })

  it("the arbitrary items and events themselves decode", () => {
    fc.assert(
      fc.property(workItemArb, pipelineEventArb, (item, event) => {
        expectRoundTrip(item)
        expect(Either.isRight(decodeEvent(event))).toBe(true)
      }),
    )
  })
})
