// src/actors/pipeline/verdicts.ts — a person's decisions carried out: an answer to a pending decision is
// recorded with who gave it, and a human QA verdict then moves the item. Recorded first, so of two people
// answering at once only one moves it; a move that fails leaves the item's QA pending again.
import { Effect, Either, Option } from "effect"
import type { Decision, Verdict } from "../../domain/Decision.js"
import type { StoryId } from "../../domain/StoryId.js"
import { Decisions } from "../Decisions.js"
import { CommandRefused } from "./errors.js"
import { approveQa, rejectQa, type Settings } from "./moves.js"

/** The pending human-QA decision of the item, if it has one. */
export const pendingQaOf = (id: StoryId) =>
  Effect.map(Decisions, (decisions) => decisions.pending).pipe(
    Effect.flatten,
    Effect.map((pending) =>
      Option.fromNullable(pending.find((d) => d._tag === "HumanQa" && d.storyId === id)),
    ),
  )

/** Moves an item in QA as a person decided: approve to Merge, reject back to Coding with the note. */
const moveAsDecided = (
  settings: Settings,
  id: StoryId,
  verdict: "approve" | "reject",
  by: string,
  note?: string,
) =>
  verdict === "approve"
    ? approveQa(settings, id, "person", note, by)
    : Effect.map(rejectQa(settings, id, note?.trim() || `QA rejected by ${by}`, by), (r) => r.after)

/** Runs `move` after `decision` was answered; if the move fails the item's QA is pending again. */
export const orReopen = <A, E extends { readonly message: string }, R>(
  decision: Decision,
  verdict: Verdict,
  move: Effect.Effect<A, E, R>,
) =>
  Effect.gen(function* () {
    const moved = yield* Effect.either(move)
    if (Either.isRight(moved)) return moved.right
    if (decision.storyId === undefined) return yield* Effect.fail(moved.left)
    // The item is still in QA and still needs a person: it gets a pending decision again.
    const reopened = yield* (yield* Decisions).open({ _tag: "HumanQa", storyId: decision.storyId })
    return yield* new CommandRefused({
      command: `${verdict} ${decision.storyId}`,
      message: `${verdict} recorded, but ${decision.storyId} could not move: ${moved.left.message}. Its QA is pending again as ${reopened.id}.`,
    })
  })

/** A person's QA verdict on an item in QA (accept_story): recorded on its pending decision, then the move. */
export const humanQa = (
  settings: Settings,
  id: StoryId,
  verdict: "approve" | "reject",
  by: string,
  note?: string,
) =>
  Effect.gen(function* () {
    const pending = yield* pendingQaOf(id)
    const move = moveAsDecided(settings, id, verdict, by, note)
    if (Option.isNone(pending)) return yield* move
    const answered = yield* (yield* Decisions).answer(pending.value.id, verdict, by, note)
    return yield* orReopen(answered, verdict, move)
  })

/** An answer to any pending decision (answer_decision): recorded, and a human QA verdict carried out. */
export const answerDecision = (
  settings: Settings,
  decisionId: string,
  verdict: Verdict,
  by: string,
  note?: string,
) =>
  Effect.gen(function* () {
    const answered = yield* (yield* Decisions).answer(decisionId, verdict, by, note)
    if (answered._tag !== "HumanQa") return answered
    const qaVerdict = answered.answer?.verdict === "approve" ? "approve" : "reject"
    yield* orReopen(answered, verdict, moveAsDecided(settings, answered.storyId, qaVerdict, by, note))
    return answered
  })

/**
 * A person's move of an item out of QA (move_story to merge or coding) is their QA verdict: when the item
 * waits for one, it is recorded with who gave it before the move. A rejection without a reason is left to
 * the move to refuse, so nothing is recorded for it.
 */
export const moveOutOfQa = <A, E extends { readonly message: string }, R>(
  id: StoryId,
  verdict: "approve" | "reject",
  by: string,
  reason: string | undefined,
  move: Effect.Effect<A, E, R>,
) =>
  Effect.gen(function* () {
    if (verdict === "reject" && (reason ?? "").trim() === "") return yield* move
    const pending = yield* pendingQaOf(id)
    if (Option.isNone(pending)) return yield* move
    const answered = yield* (yield* Decisions).answer(pending.value.id, verdict, by, reason)
    return yield* orReopen(answered, verdict, move)
  })
