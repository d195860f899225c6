// src/layers/storeDecisions.ts — the Store's writes and projection of the `decisions` map: open a pending
// decision, answer it once (older answers of the same item pruned in the same write). Part of Store.
import { Effect, Either, Schema } from "effect"
import {
  type AnswerError,
  type AnswerInput,
  answerDecision,
  Decision,
  DecisionNotFound,
  prunable,
} from "../domain/Decision.js"
import { ProjectionError, readDecisions } from "./docModel.js"
import type { PersistError } from "./Persistence.js"
import { ItemNotFound } from "./storeErrors.js"
import type { DocAccess } from "./storeTypes.js"

/** What subscribers see of decisions, once the change is on disk. */
export type DecisionEvent =
  | { readonly _tag: "DecisionOpened"; readonly decision: Decision }
  /** `decision` carries its answer. */
  | { readonly _tag: "DecisionAnswered"; readonly decision: Decision }

/** A decision that is being opened has no answer yet. */
export type NewDecision = Decision & { readonly answer?: undefined }

export interface DecisionStore {
  /** Opens a pending decision; one that names an item needs the item to exist. */
  readonly openDecision: (decision: NewDecision) => Effect.Effect<Decision, ItemNotFound | PersistError>
  /** Records the one answer a decision gets; the answered decision keeps it for the record. */
  readonly answerDecision: (
    id: string,
    answer: AnswerInput,
  ) => Effect.Effect<Decision, DecisionNotFound | AnswerError | ProjectionError | PersistError>
  /** Every decision (pending and recently answered), oldest request first. */
  readonly decisions: Effect.Effect<{
    readonly decisions: ReadonlyArray<Decision>
    readonly errors: ReadonlyArray<ProjectionError>
  }>
}

export type DecisionStoreParts = DocAccess<DecisionEvent>

const encode = Schema.encodeSync(Decision)
const decode = Schema.decodeUnknownEither(Decision)

export const decisionStore = ({ maps, commit, write, publish }: DecisionStoreParts): DecisionStore => {
  const openDecision = (decision: NewDecision) =>
    write(
      Effect.gen(function* () {
        const doc = maps()
        if (decision.storyId !== undefined && !doc.items.has(decision.storyId))
          return yield* new ItemNotFound({ id: decision.storyId })
        // Ids are random: meeting one again is a bug in whoever made it, not a state to handle.
        if (doc.decisions.has(decision.id)) return yield* Effect.dieMessage(`decision ${decision.id} exists`)
        yield* commit(() => doc.decisions.set(decision.id, encode(decision)))
        yield* publish({ _tag: "DecisionOpened", decision })
        return decision as Decision
      }),
    )

  const answer = (id: string, input: AnswerInput) =>
    write(
      Effect.gen(function* () {
        const doc = maps()
        const raw = doc.decisions.get(id)
        if (raw === undefined) return yield* new DecisionNotFound({ id })
        const decoded = decode(raw, { onExcessProperty: "error" })
        if (Either.isLeft(decoded))
          return yield* new ProjectionError({ path: `decisions/${id}`, detail: decoded.left.message })
        const answered = yield* answerDecision(decoded.right, input)
        yield* commit(() => {
          doc.decisions.set(id, encode(answered))
          for (const old of prunable(readDecisions(doc).decisions)) doc.decisions.delete(old)
        })
        yield* publish({ _tag: "DecisionAnswered", decision: answered })
        return answered
      }),
    )

  return {
    openDecision,
    answerDecision: answer,
    decisions: Effect.sync(() => readDecisions(maps())),
  }
}
