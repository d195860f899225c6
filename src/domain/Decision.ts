// src/domain/Decision.ts — a decision a person makes (a permission request the rules answer "ask", the QA
// of an item with qa: human): pending until answered, then kept with its verdict, who gave it and when.
// Pure; the Store keeps decisions in its `decisions` map, the Decisions service opens and answers them.
import { Either, Schema } from "effect"
import { AgentName } from "./AgentName.js"
import { NodeId } from "./ExecutionState.js"
import { StoryId } from "./StoryId.js"

const Millis = Schema.Int.pipe(Schema.nonNegative())

/** Made by whoever opens the decision; unique in the document (several nodes may open decisions). */
export const DecisionId = Schema.String.pipe(
  Schema.pattern(/^dec-[A-Za-z0-9-]{1,64}$/, {
    message: () => 'a decision id looks like "dec-…" (list_decisions shows the ids that exist)',
  }),
  Schema.brand("DecisionId"),
)
export type DecisionId = typeof DecisionId.Type

export const PermissionVerdict = Schema.Literal("allow", "deny")
export type PermissionVerdict = typeof PermissionVerdict.Type
export const QaVerdict = Schema.Literal("approve", "reject")
export type QaVerdict = typeof QaVerdict.Type
export const Verdict = Schema.Literal("allow", "deny", "approve", "reject")
export type Verdict = typeof Verdict.Type

/** Who answers when nobody did in time, and when the server died with the decision open. */
export const timeoutAnswerer = "timeout"
export const restartAnswerer = "restart"

const answerOf = <V extends Schema.Schema.Any>(verdict: V) =>
  Schema.Struct({
    verdict,
    /** The person or door that answered: "mcp:<client>", "ui:alice", "timeout", "restart"… */
    by: Schema.NonEmptyTrimmedString,
    at: Millis,
    note: Schema.optional(Schema.String),
  })

export const PermissionAnswer = answerOf(PermissionVerdict)
export const QaAnswer = answerOf(QaVerdict)
export type Answer = typeof PermissionAnswer.Type | typeof QaAnswer.Type

const permissionFields = {
  /** The item and agent asking, when the door that asked knows them. */
  storyId: Schema.optional(StoryId),
  agent: Schema.optional(AgentName),
  /** The node whose agent asked (absent in requests from before nodes were recorded). */
  node: Schema.optional(NodeId),
  toolName: Schema.NonEmptyString,
  /** The tool's input as the agent gave it (JSON). */
  input: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  requestedAt: Millis,
  /** Unanswered by then, the request is denied. */
  expiresAt: Millis,
}

const humanQaFields = {
  storyId: StoryId,
  requestedAt: Millis,
}

/** What asking opens: a decision without its id and answer. */
export const PermissionRequest = Schema.TaggedStruct("Permission", permissionFields)
export const HumanQaRequest = Schema.TaggedStruct("HumanQa", humanQaFields)
export const DecisionRequest = Schema.Union(PermissionRequest, HumanQaRequest)
export type DecisionRequest = typeof DecisionRequest.Type

export const PermissionAsk = Schema.TaggedStruct("Permission", {
  id: DecisionId,
  ...permissionFields,
  answer: Schema.optional(PermissionAnswer),
})
export const HumanQaAsk = Schema.TaggedStruct("HumanQa", {
  id: DecisionId,
  ...humanQaFields,
  answer: Schema.optional(QaAnswer),
})
/** A decision as stored: pending while `answer` is absent. A verdict of the other kind does not decode. */
export const Decision = Schema.Union(PermissionAsk, HumanQaAsk)
export type Decision = typeof Decision.Type

export const isPending = (decision: Decision): boolean => decision.answer === undefined

export const verdictsFor = (decision: Pick<Decision, "_tag">): ReadonlyArray<Verdict> =>
  decision._tag === "Permission" ? PermissionVerdict.literals : QaVerdict.literals

/** The verdict nobody gave: a timeout (or a restart) denies a permission and rejects a QA. */
export const refusal = (decision: Pick<Decision, "_tag">): Verdict =>
  decision._tag === "Permission" ? "deny" : "reject"

export class DecisionNotFound extends Schema.TaggedError<DecisionNotFound>()("DecisionNotFound", {
  id: Schema.String,
}) {
  override get message(): string {
    return `no decision ${this.id}: list_decisions shows the pending ones and the recent answers`
  }
}

export class DecisionAlreadyAnswered extends Schema.TaggedError<DecisionAlreadyAnswered>()(
  "DecisionAlreadyAnswered",
  { id: Schema.String, verdict: Verdict, by: Schema.String },
) {
  override get message(): string {
    return `decision ${this.id} was already answered: ${this.verdict} by ${this.by}; an answer cannot be changed`
  }
}

export class VerdictRefused extends Schema.TaggedError<VerdictRefused>()("VerdictRefused", {
  id: Schema.String,
  kind: Schema.String,
  verdict: Schema.String,
  allowed: Schema.Array(Schema.String),
}) {
  override get message(): string {
    return `decision ${this.id} is a ${this.kind} decision: answer it with ${this.allowed.join(" or ")}, not ${this.verdict}`
  }
}

export type AnswerError = DecisionAlreadyAnswered | VerdictRefused

export interface AnswerInput {
  readonly verdict: Verdict
  readonly by: string
  readonly at: number
  readonly note?: string
}

/** The decision with its answer, or why it cannot take this one. Pure: the Store writes the result. */
export const answerDecision = (
  decision: Decision,
  input: AnswerInput,
): Either.Either<Decision, AnswerError> => {
  if (decision.answer !== undefined)
    return Either.left(
      new DecisionAlreadyAnswered({
        id: decision.id,
        verdict: decision.answer.verdict,
        by: decision.answer.by,
      }),
    )
  const by = input.by.trim() === "" ? "unknown" : input.by.trim()
  const note = input.note === undefined ? {} : { note: input.note }
  const at = Math.max(0, Math.round(input.at))
  switch (decision._tag) {
    case "Permission":
      return input.verdict === "allow" || input.verdict === "deny"
        ? Either.right({ ...decision, answer: { verdict: input.verdict, by, at, ...note } })
        : Either.left(refused(decision, input.verdict))
    case "HumanQa":
      return input.verdict === "approve" || input.verdict === "reject"
        ? Either.right({ ...decision, answer: { verdict: input.verdict, by, at, ...note } })
        : Either.left(refused(decision, input.verdict))
  }
}

const refused = (decision: Decision, verdict: string) =>
  new VerdictRefused({ id: decision.id, kind: decision._tag, verdict, allowed: [...verdictsFor(decision)] })

/** Answered decisions kept per item (and for requests that name none): older answers are dropped. */
export const answersKept = 20

/**
 * Which answered decisions to drop so that at most `keep` answers remain per item (decisions that name
 * no item count as one group); the newest answers stay. Pending decisions are never dropped.
 */
export const prunable = (
  decisions: ReadonlyArray<Decision>,
  keep: number = answersKept,
): Array<DecisionId> => {
  const answered = new Map<string, Array<Decision>>()
  for (const decision of decisions) {
    if (decision.answer === undefined) continue
    const group = decision.storyId ?? ""
    answered.set(group, [...(answered.get(group) ?? []), decision])
  }
  const drop: Array<DecisionId> = []
  for (const group of answered.values()) {
    const newestFirst = group.sort((a, b) => (b.answer?.at ?? 0) - (a.answer?.at ?? 0))
    for (const decision of newestFirst.slice(keep)) drop.push(decision.id)
  }
  return drop
}
