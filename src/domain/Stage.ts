// src/domain/Stage.ts — where a work item is in the pipeline, as a tagged union that cannot hold
// an impossible state (Merge without commits, Done without its merge commit). Used by transition and Store.
import { Schema } from "effect"

export const Blocked = Schema.TaggedStruct("Blocked", { why: Schema.NonEmptyTrimmedString })
export const MergeFailed = Schema.TaggedStruct("MergeFailed", { why: Schema.NonEmptyTrimmedString })
export const ReviewHold = Schema.TaggedStruct("ReviewHold", {})
export const Abandoned = Schema.TaggedStruct("Abandoned", {})
export const Superseded = Schema.TaggedStruct("Superseded", { by: Schema.NonEmptyTrimmedString })
export const Completed = Schema.TaggedStruct("Completed", {})

export const ArchiveReason = Schema.Union(Blocked, MergeFailed, ReviewHold, Abandoned, Superseded, Completed)
export type ArchiveReason = typeof ArchiveReason.Type

const CommitSha = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{7,64}$/, { message: () => "a git commit id: 7 to 64 lowercase hex digits" }),
)

export const Backlog = Schema.TaggedStruct("Backlog", {})
export const Coding = Schema.TaggedStruct("Coding", {})
export const Qa = Schema.TaggedStruct("Qa", {})
export const Merge = Schema.TaggedStruct("Merge", {
  featureBranch: Schema.NonEmptyTrimmedString,
  commitsAhead: Schema.Int.pipe(
    Schema.greaterThanOrEqualTo(1, {
      message: () => "Merge needs at least one commit ahead of the base branch",
    }),
  ),
})
export const Done = Schema.TaggedStruct("Done", {
  mergeCommit: CommitSha,
  mergedAt: Schema.Int.pipe(Schema.nonNegative()),
})
export const Archived = Schema.TaggedStruct("Archived", { reason: ArchiveReason })

export const Stage = Schema.Union(Backlog, Coding, Qa, Merge, Done, Archived)
export type Stage = typeof Stage.Type
export type StageTag = Stage["_tag"]
export const stageTags: ReadonlyArray<StageTag> = ["Backlog", "Coding", "Qa", "Merge", "Done", "Archived"]

/** Stages an agent of each role may be attached to: a coder never works on Merge. */
export const AgentRole = Schema.Literal("coder", "qa", "mergemaster")
export type AgentRole = typeof AgentRole.Type
export const roleStage: Record<AgentRole, StageTag> = { coder: "Coding", qa: "Qa", mergemaster: "Merge" }

export const QaMode = Schema.Literal("agent", "human", "none")
export type QaMode = typeof QaMode.Type
