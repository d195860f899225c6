// test/domain/arbitraries.ts — fast-check (v4) arbitraries for the domain types: ids, stages, execution
// states, work items and pipeline events, mixing sensible values with odd ones. Shared by domain tests.
import * as fc from "fast-check"
import type { ExecutionState } from "../../src/domain/ExecutionState.js"
import { NodeId, Outcome } from "../../src/domain/ExecutionState.js"
import type { PipelineEvent, PipelineEventTag } from "../../src/domain/PipelineEvent.js"
import type { AgentRole, ArchiveReason, QaMode, Stage } from "../../src/domain/Stage.js"
import { type ItemKind, itemKinds, StoryId } from "../../src/domain/StoryId.js"
import type { WorkItem } from "../../src/domain/WorkItem.js"

// ---- ids ---------------------------------------------------------------------------------------

export const itemKindArb: fc.Arbitrary<ItemKind> = fc.constantFrom(...itemKinds)

const slugWordArb = fc.stringMatching(/^[a-z0-9]{1,8}$/)
export const slugArb: fc.Arbitrary<string> = fc
  .array(slugWordArb, { minLength: 1, maxLength: 4 })
  .map((words) => words.join("_"))

/** Valid ids, from `1_story_a` to large numbers and long slugs. */
export const storyIdArb: fc.Arbitrary<StoryId> = fc
  .tuple(
    fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 1_000_000 })),
    itemKindArb,
    slugArb,
  )
  .map(([n, kind, slug]) => StoryId.make(`${n}_${kind}_${slug}`))

/**
 * Node ids: mostly a small pool so that events hit nodes that already run something, plus names that
 * are also `Object.prototype` members and random ids up to the 128-character limit.
 */
export const nodeIdArb: fc.Arbitrary<NodeId> = fc
  .oneof(
    { weight: 6, arbitrary: fc.constantFrom("node-1", "node-2", "laptop.local", "10.0.0.7:4000") },
    { weight: 2, arbitrary: fc.constantFrom("constructor", "toString", "hasOwnProperty", "_") },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,128}$/).filter((s) => s !== "__proto__") },
    { weight: 1, arbitrary: fc.constant("n".repeat(128)) },
  )
  .map((s) => NodeId.make(s))

/**
 * Node ids a stored item may hold. `__proto__` never decodes as a NodeId (a record key of that name
 * would set the prototype instead of an entry), so every generated node id is storable.
 */
export const storedNodeIdArb: fc.Arbitrary<NodeId> = nodeIdArb

// ---- scalars -----------------------------------------------------------------------------------

/** Epoch milliseconds: 0, small, realistic and the largest safe integer. */
export const millisArb: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 0, max: 10_000 }),
  fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
)

/** Strings that decode as NonEmptyTrimmedString, including unicode and very long ones. */
export const reasonTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "tests failed",
    "merge conflict in src/app.ts",
    "x",
    "needs a design decision",
    "ünïcødé ✓",
  ),
  fc.string({ minLength: 1, maxLength: 200, unit: "grapheme" }).filter((s) => s.trim() === s && s.length > 0),
)

export const branchArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("feature/story-7", "huskies/12_story_add_login", "main"),
  slugArb.map((s) => `feature/${s}`),
)

/** Valid git commit ids. */
export const commitShaArb: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{40}$/),
  fc.stringMatching(/^[0-9a-f]{7,64}$/),
)

/** Strings that are not git commit ids: empty, short, uppercase, non-hex, too long. */
export const badShaArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("", "HEAD", "abc", "ABCDEF1234", "xyz1234", " 0123abc", "g".repeat(40), "a".repeat(65)),
  fc.string({ maxLength: 80 }).filter((s) => !/^[0-9a-f]{7,64}$/.test(s)),
)

/** What a merge event might report: mostly real shas, sometimes garbage. */
export const mergeCommitArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: commitShaArb },
  { weight: 1, arbitrary: badShaArb },
)

/** Commits ahead as git reports them: often 0, which can never make a Merge stage. */
export const commitsAheadArb: fc.Arbitrary<number> = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: 0, max: 100_000 }),
)

export const roleArb: fc.Arbitrary<AgentRole> = fc.constantFrom("coder", "qa", "mergemaster")
export const qaModeArb: fc.Arbitrary<QaMode> = fc.constantFrom("agent", "human", "none")

// ---- stages and items --------------------------------------------------------------------------

export const archiveReasonArb: fc.Arbitrary<ArchiveReason> = fc.oneof(
  reasonTextArb.map((why): ArchiveReason => ({ _tag: "Blocked", why })),
  reasonTextArb.map((why): ArchiveReason => ({ _tag: "MergeFailed", why })),
  fc.constant<ArchiveReason>({ _tag: "ReviewHold" }),
  fc.constant<ArchiveReason>({ _tag: "Abandoned" }),
  reasonTextArb.map((by): ArchiveReason => ({ _tag: "Superseded", by })),
  fc.constant<ArchiveReason>({ _tag: "Completed" }),
)

/** Every valid stage. */
export const stageArb: fc.Arbitrary<Stage> = fc.oneof(
  fc.constant<Stage>({ _tag: "Backlog" }),
  fc.constant<Stage>({ _tag: "Coding" }),
  fc.constant<Stage>({ _tag: "Qa" }),
  fc
    .tuple(branchArb, fc.integer({ min: 1, max: 1_000 }))
    .map(([featureBranch, commitsAhead]): Stage => ({ _tag: "Merge", featureBranch, commitsAhead })),
  fc
    .tuple(commitShaArb, millisArb)
    .map(([mergeCommit, mergedAt]): Stage => ({ _tag: "Done", mergeCommit, mergedAt })),
  archiveReasonArb.map((reason): Stage => ({ _tag: "Archived", reason })),
)

export const executionStateArb: fc.Arbitrary<ExecutionState> = fc.oneof(
  fc.constant<ExecutionState>({ _tag: "Idle" }),
  fc.constant<ExecutionState>({ _tag: "Pending" }),
  fc
    .record({ agent: reasonTextArb, role: roleArb, startedAt: millisArb, heartbeatAt: millisArb })
    .map((r): ExecutionState => ({ _tag: "Running", ...r })),
  millisArb.map((resetAt): ExecutionState => ({ _tag: "RateLimited", resetAt })),
  fc.constantFrom(...Outcome.literals).map((outcome): ExecutionState => ({ _tag: "Completed", outcome })),
)

/** Any valid work item (decodes as WorkItem), in any stage, with any execution map. */
export const workItemArb: fc.Arbitrary<WorkItem> = fc
  .record({
    id: storyIdArb,
    kind: itemKindArb,
    stage: stageArb,
    attempts: fc.nat({ max: 20 }),
    feedback: fc.option(fc.string({ maxLength: 100 }), { nil: undefined }),
    createdAt: millisArb,
    updatedAt: millisArb,
    execution: fc
      .uniqueArray(fc.tuple(storedNodeIdArb, executionStateArb), { maxLength: 4, selector: ([n]) => n })
      .map((entries): WorkItem["execution"] => Object.fromEntries(entries)),
  })
  .map(({ feedback, ...rest }): WorkItem => (feedback === undefined ? rest : { ...rest, feedback }))

// ---- events ------------------------------------------------------------------------------------

/**
 * Each pipeline event kind, each of which decodes as a PipelineEvent, with sensible and odd field
 * values (0 commits ahead, bad shas, a retry limit of 0, times before the item's last update).
 * Keyed by tag so a test can weight the kinds it needs (e.g. to walk items all the way to Done).
 */
export const eventArbs: { readonly [K in PipelineEventTag]: fc.Arbitrary<PipelineEvent> } = {
  Start: millisArb.map((at): PipelineEvent => ({ _tag: "Start", at })),
  AgentStarted: fc
    .record({ node: nodeIdArb, agent: reasonTextArb, role: roleArb, at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "AgentStarted", ...r })),
  Heartbeat: fc
    .record({ node: nodeIdArb, at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "Heartbeat", ...r })),
  AgentExited: fc
    .record({ node: nodeIdArb, outcome: fc.constantFrom(...Outcome.literals), at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "AgentExited", ...r })),
  RateLimitHit: fc
    .record({ node: nodeIdArb, resetAt: millisArb, at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "RateLimitHit", ...r })),
  ExecutionCleared: fc
    .record({ node: nodeIdArb, at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "ExecutionCleared", ...r })),
  AgentStopped: fc
    .record({ node: nodeIdArb, at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "AgentStopped", ...r })),
  GatesPassed: fc
    .record({ featureBranch: branchArb, commitsAhead: commitsAheadArb, qa: qaModeArb, at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "GatesPassed", ...r })),
  GatesFailed: fc
    .record({ why: reasonTextArb, retryLimit: fc.nat({ max: 5 }), at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "GatesFailed", ...r })),
  QaApproved: fc
    .record({ featureBranch: branchArb, commitsAhead: commitsAheadArb, at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "QaApproved", ...r })),
  QaRejected: fc
    .record({ notes: reasonTextArb, retryLimit: fc.integer({ min: 0, max: 5 }), at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "QaRejected", ...r })),
  Merged: fc
    .record({ mergeCommit: mergeCommitArb, mergedAt: millisArb, at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "Merged", ...r })),
  MergeFailed: fc
    .record({ why: reasonTextArb, at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "MergeFailed", ...r })),
  Block: fc
    .record({ why: reasonTextArb, at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "Block", ...r })),
  Hold: millisArb.map((at): PipelineEvent => ({ _tag: "Hold", at })),
  Unblock: millisArb.map((at): PipelineEvent => ({ _tag: "Unblock", at })),
  Abandon: millisArb.map((at): PipelineEvent => ({ _tag: "Abandon", at })),
  Supersede: fc
    .record({ by: reasonTextArb, at: millisArb })
    .map((r): PipelineEvent => ({ _tag: "Supersede", ...r })),
  Complete: millisArb.map((at): PipelineEvent => ({ _tag: "Complete", at })),
  Reset: millisArb.map((at): PipelineEvent => ({ _tag: "Reset", at })),
}

/** Any pipeline event, every kind equally likely. */
export const pipelineEventArb: fc.Arbitrary<PipelineEvent> = fc.oneof(...Object.values(eventArbs))

/**
 * Events weighted towards moving an item forward (Start, gates, QA, merge, complete), so that random
 * streams from Backlog regularly reach Merge, Done and Archived(Completed); every kind still occurs.
 */
export const progressingEventArb: fc.Arbitrary<PipelineEvent> = fc.oneof(
  { weight: 3, arbitrary: eventArbs.Start },
  { weight: 3, arbitrary: eventArbs.GatesPassed },
  { weight: 3, arbitrary: eventArbs.QaApproved },
  { weight: 3, arbitrary: eventArbs.Merged },
  { weight: 2, arbitrary: eventArbs.Complete },
  { weight: 2, arbitrary: eventArbs.AgentStarted },
  { weight: 1, arbitrary: eventArbs.Heartbeat },
  { weight: 3, arbitrary: pipelineEventArb },
)

/** A field value a transport might send by mistake: wrong types, negatives, fractions, blanks. */
const oddValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, "", "   ", " padded ", null, true),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.anything({ maxDepth: 1 }),
)

/**
 * Unknown input as it arrives at a boundary: a valid event with one field replaced, removed or an extra
 * key added, or arbitrary JSON-ish values. Some decode as PipelineEvent, most do not.
 */
export const looseEventArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: pipelineEventArb },
  {
    weight: 4,
    arbitrary: fc
      .tuple(pipelineEventArb, fc.nat(), oddValueArb, fc.constantFrom("replace", "remove", "extra" as const))
      .map(([event, pick, value, how]): unknown => {
        const record: Record<string, unknown> = { ...event }
        const keys = Object.keys(record)
        const key = keys[pick % keys.length] ?? "_tag"
        if (how === "remove") delete record[key]
        else if (how === "extra") record["extra"] = value
        else record[key] = value
        return record
      }),
  },
  { weight: 1, arbitrary: fc.anything() },
)
