// src/actors/Decisions.ts — the decisions people make, as a command service over the Store: ask (open a
// decision and wait for its answer or its timeout), answer, list; opens and closes the decision of an item
// with qa: human as it enters and leaves QA. Used by prompt_permission, the decision tools and serve.
import { Clock, Context, Duration, Effect, Either, Layer, Option, Queue } from "effect"
import { randomUUID } from "node:crypto"
import {
  type AnswerError,
  answerDecision,
  type Decision,
  DecisionId,
  type DecisionNotFound,
  isPending,
  refusal,
  restartAnswerer,
  timeoutAnswerer,
  type Verdict,
} from "../domain/Decision.js"
import type { AgentName } from "../domain/AgentName.js"
import type { QaMode } from "../domain/Stage.js"
import { parseStoryDoc } from "../domain/StoryDoc.js"
import type { StoryId } from "../domain/StoryId.js"
import type { ProjectionError } from "../layers/docModel.js"
import { HuskiesConfig } from "../layers/HuskiesConfig.js"
import { withComponent } from "../layers/Logs.js"
import type { PersistError } from "../layers/Persistence.js"
import { type ItemNotFound, Store, type StoreEvent } from "../layers/Store.js"

/** What a caller asks about; the service stamps the id and the times. */
export type Question =
  | {
      readonly _tag: "Permission"
      readonly storyId?: StoryId
      readonly agent?: AgentName
      readonly toolName: string
      readonly input: Readonly<Record<string, unknown>>
    }
  | { readonly _tag: "HumanQa"; readonly storyId: StoryId }

/** Who "answers" a decision whose item was deleted while someone waited for it (nothing is recorded). */
export const deletedAnswerer = "deleted"
/** Who refuses a decision whose asker went away (the agent's call was cancelled). */
export const cancelledAnswerer = "cancelled"

export interface DecisionsShape {
  /**
   * Opens a decision and waits for its answer. Unanswered after `timeout` (Duration.infinity: never), it
   * is refused (deny / reject) by "timeout"; an interrupted wait refuses it by "cancelled".
   * Returns the decision with the answer that won.
   */
  readonly ask: (
    question: Question,
    timeout: Duration.DurationInput,
  ) => Effect.Effect<Decision, ItemNotFound | ProjectionError | PersistError>
  /** Opens a decision without waiting for it (a human QA: the item waits in QA, nobody blocks). */
  readonly open: (question: Question) => Effect.Effect<Decision, ItemNotFound | PersistError>
  /** A person's (or a door's) answer; refused if the decision is unknown, answered, or of another kind. */
  readonly answer: (
    id: string,
    verdict: Verdict,
    by: string,
    note?: string,
  ) => Effect.Effect<Decision, DecisionNotFound | AnswerError | ProjectionError | PersistError>
  /** The decisions waiting for an answer, oldest first. */
  readonly pending: Effect.Effect<ReadonlyArray<Decision>>
  /** Every decision kept: pending, and the recent answers of each item. */
  readonly list: Effect.Effect<{
    readonly decisions: ReadonlyArray<Decision>
    readonly errors: ReadonlyArray<ProjectionError>
  }>
}

export class Decisions extends Context.Tag("huskies/Decisions")<Decisions, DecisionsShape>() {}

const newId = Effect.sync(() => DecisionId.make(`dec-${randomUUID()}`))

// Infinity is no Millis: a permission that never expires is stored as expiring at the end of time.
const expiry = (now: number, timeout: Duration.Duration) =>
  Duration.isFinite(timeout) ? now + Duration.toMillis(timeout) : Number.MAX_SAFE_INTEGER

/** Whether this node owns the project's decisions (the main node); a worker's only ask and wait. */
class OwnsDecisions extends Context.Reference<OwnsDecisions>()("huskies/OwnsDecisions", {
  defaultValue: () => true,
}) {}

const make = Effect.gen(function* () {
  const store = yield* Store

  const build = (question: Question, timeout: Duration.Duration) =>
    Effect.gen(function* () {
      const id = yield* newId
      const requestedAt = yield* Clock.currentTimeMillis
      if (question._tag === "HumanQa")
        return { _tag: "HumanQa", id, storyId: question.storyId, requestedAt } as const
      const { storyId, agent } = question
      return {
        _tag: "Permission",
        id,
        ...(storyId === undefined ? {} : { storyId }),
        ...(agent === undefined ? {} : { agent }),
        // The asker's node: only that node knows when its agent is gone (it sweeps the request at start).
        node: store.nodeId,
        toolName: question.toolName,
        input: question.input,
        requestedAt,
        expiresAt: expiry(requestedAt, timeout),
      } as const
    })

  const answer = (id: string, verdict: Verdict, by: string, note?: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (at) =>
      store.answerDecision(id, { verdict, by, at, ...(note === undefined ? {} : { note }) }),
    )

  const current = (id: string) =>
    Effect.map(store.decisions, ({ decisions }) => decisions.find((d) => d.id === id))

  /** Refuses `decision` on behalf of `by`; if someone answered first, theirs is the answer. */
  const refuse = (decision: Decision, by: string, note: string) =>
    answer(decision.id, refusal(decision), by, note).pipe(
      Effect.catchTags({
        DecisionAlreadyAnswered: () => Effect.map(current(decision.id), (found) => found ?? gone(decision)),
        // Deleted with its item meanwhile: the refusal stands, there is only no record left to keep it.
        DecisionNotFound: () => Effect.succeed(gone(decision)),
        // A refusal of the decision's own kind is always a legal verdict.
        VerdictRefused: (e) => Effect.die(e),
      }),
    )

  // The decision as refused when nothing is left to record it in (its item was deleted).
  const gone = (decision: Decision): Decision =>
    Either.getOrElse(
      answerDecision(decision, { verdict: refusal(decision), by: deletedAnswerer, at: decision.requestedAt }),
      () => decision,
    )

  const awaitAnswer = (events: Queue.Dequeue<StoreEvent>, decision: Decision) =>
    Effect.gen(function* () {
      for (;;) {
        const event = yield* Queue.take(events)
        if (event._tag === "DecisionAnswered" && event.decision.id === decision.id) return event.decision
        if (event._tag === "ItemDeleted" && event.id === decision.storyId) return gone(decision)
      }
    })

  const ask = (question: Question, timeoutInput: Duration.DurationInput) =>
    Effect.scoped(
      Effect.gen(function* () {
        const timeout = Duration.decode(timeoutInput)
        // Subscribed before the decision exists, so an answer cannot come before anyone listens.
        const events = yield* store.subscribe
        const decision = yield* store.openDecision(yield* build(question, timeout))
        const waiting = awaitAnswer(events, decision)
        const timed = Duration.isFinite(timeout)
          ? Effect.timeoutTo(waiting, {
              duration: timeout,
              onSuccess: Effect.succeed<Decision>,
              onTimeout: () =>
                refuse(decision, timeoutAnswerer, `nobody answered within ${Duration.format(timeout)}`),
            }).pipe(Effect.flatten)
          : waiting
        return yield* timed.pipe(
          Effect.onInterrupt(() =>
            refuse(decision, cancelledAnswerer, "the asker stopped waiting").pipe(
              // The asker is gone: a refusal that cannot be written leaves the decision pending, and the
              // next start of the server refuses it; there is nobody to report the failure to but the log.
              Effect.catchAll((e) =>
                Effect.logWarning(`decision ${decision.id} stays pending: ${e.message}`),
              ),
              withComponent("decisions"),
            ),
          ),
        )
      }),
    )

  const open = (question: Question) =>
    Effect.flatMap(build(question, Duration.infinity), (decision) => store.openDecision(decision))

  const pending = Effect.map(store.decisions, ({ decisions }) => decisions.filter(isPending))

  // Subscribed before the sweep, so that no move made from here on is missed by the follower.
  const events = yield* store.subscribe
  // Decisions are replicated: a worker starting must not settle the main node's pending ones, nor open a
  // second human-QA decision for an item.
  const owns = yield* OwnsDecisions
  // This node's own agents asked these: they are gone now, whichever node this is.
  yield* restartSweep(store, answer, owns)
  if (owns) {
    yield* openMissingQa(store, open)
    yield* followHumanQa(store, events, answer, open)
  }

  return {
    ask,
    open,
    answer,
    pending,
    list: store.decisions,
  } satisfies DecisionsShape
})

type Answer = DecisionsShape["answer"]
type StoreShape = Store["Type"]

/**
 * A permission request this node's agent made before it stopped has nobody waiting for it any more: it is
 * denied. Another node's stays (its agent may still wait; that node sweeps it at its start), except that
 * the main node also takes requests that name no node (made before nodes were recorded). On the main
 * node (`owns`), a human QA stays pending (the item still waits in QA), unless its item left QA meanwhile.
 */
const restartSweep = (store: StoreShape, answer: Answer, owns: boolean) =>
  Effect.gen(function* () {
    const { decisions, errors } = yield* store.decisions
    if (owns) for (const e of errors) yield* Effect.logWarning(e.message)
    const ours = (decision: Decision) =>
      decision._tag === "Permission"
        ? decision.node === store.nodeId || (owns && decision.node === undefined)
        : owns
    const close = (decision: Decision) =>
      Effect.gen(function* () {
        if (decision._tag === "Permission")
          return yield* answer(
            decision.id,
            "deny",
            restartAnswerer,
            "the server restarted while the request waited",
          )
        const item = yield* Effect.either(store.get(decision.storyId))
        if (item._tag === "Left" || item.right.stage._tag === "Qa") return
        const stage = item.right.stage._tag
        yield* answer(
          decision.id,
          stage === "Merge" || stage === "Done" ? "approve" : "reject",
          "unknown",
          `the item left QA (now in ${stage}) while the server was down`,
        )
      })
    for (const decision of decisions.filter((d) => isPending(d) && ours(d))) {
      yield* close(decision).pipe(
        // Left pending, the decision is swept again at the next start; the Store's own callers see a store
        // that cannot write, so the log is the right place for this one.
        Effect.catchAll((e) => Effect.logWarning(`could not close decision ${decision.id}: ${e.message}`)),
      )
    }
  }).pipe(withComponent("decisions"))

/**
 * Items waiting in QA for a person without a pending decision (from before decisions were kept, or moved
 * in while no server ran) get one. QA is a person's unless the item's `qa` (or, with the project's config
 * at hand, `default_qa`) says agent; without the config only an item that says so itself counts.
 */
const openMissingQa = (store: StoreShape, open: DecisionsShape["open"]) =>
  Effect.gen(function* () {
    const config = yield* Effect.serviceOption(HuskiesConfig)
    const defaultQa = yield* Option.match(config, {
      onNone: () => Effect.succeed<QaMode>("agent"),
      // No config that loads: nothing to go on but the items themselves.
      onSome: (service) =>
        Effect.match(service.get, {
          onFailure: (): QaMode => "agent",
          onSuccess: (c) => c.project.defaultQa,
        }),
    })
    const { items } = yield* store.list
    const { decisions } = yield* store.decisions
    const covered = new Set(
      decisions.filter((d) => d._tag === "HumanQa" && isPending(d)).map((d) => d.storyId),
    )
    for (const item of items) {
      if (item.stage._tag !== "Qa" || covered.has(item.id)) continue
      const content = yield* Effect.option(store.content(item.id))
      const authored = Option.flatMap(content, (text) => Either.getRight(parseStoryDoc(text)))
      const qa = Option.match(authored, { onNone: () => undefined, onSome: (doc) => doc.frontMatter.qa })
      if ((qa ?? defaultQa) === "agent") continue
      yield* open({ _tag: "HumanQa", storyId: item.id }).pipe(
        // Without its decision the item still waits in QA as before; the next start tries again.
        Effect.catchAll((e) => Effect.logWarning(`no decision opened for ${item.id} in QA: ${e.message}`)),
      )
    }
  }).pipe(withComponent("decisions"))

/** Human QA as state: opened when gates pass for an item with qa: human, closed when the item leaves QA. */
const followHumanQa = (
  store: StoreShape,
  events: Queue.Dequeue<StoreEvent>,
  answer: Answer,
  open: DecisionsShape["open"],
) =>
  Effect.gen(function* () {
    const pendingQa = (storyId: StoryId) =>
      Effect.map(store.decisions, ({ decisions }) =>
        decisions.filter((d) => d._tag === "HumanQa" && d.storyId === storyId && isPending(d)),
      )
    const onEvent = (event: StoreEvent) =>
      Effect.gen(function* () {
        if (event._tag !== "ItemChanged") return
        const { before, after, event: move } = event
        if (move._tag === "GatesPassed" && move.qa === "human" && after.stage._tag === "Qa") {
          if ((yield* pendingQa(after.id)).length === 0) yield* open({ _tag: "HumanQa", storyId: after.id })
          return
        }
        if (before.stage._tag !== "Qa" || after.stage._tag === "Qa") return
        const by =
          (move._tag === "QaApproved" || move._tag === "QaRejected") &&
          "by" in move &&
          typeof move.by === "string"
            ? move.by
            : move._tag === "Replicated"
              ? move.from
              : "unknown"
        // A peer's change has no event: an item that went on to Merge or Done was approved there.
        const approved =
          move._tag === "QaApproved" ||
          (move._tag === "Replicated" && (after.stage._tag === "Merge" || after.stage._tag === "Done"))
        for (const decision of yield* pendingQa(after.id)) {
          yield* answer(
            decision.id,
            approved ? "approve" : "reject",
            by,
            move._tag === "QaRejected"
              ? move.notes
              : approved
                ? undefined
                : move._tag === "Replicated"
                  ? `the item left QA on ${move.from} (now in ${after.stage._tag})`
                  : `the item left QA (${move._tag})`,
          ).pipe(
            // Answered by a person between our read and our write: their answer is the record.
            Effect.catchTag("DecisionAlreadyAnswered", () => Effect.void),
          )
        }
      })
    yield* Effect.forkScoped(
      Effect.forever(
        Queue.take(events).pipe(
          Effect.flatMap(onEvent),
          // One event that cannot be followed (a failed write) must not stop the following of the next;
          // the decision stays as it was, and the log says which.
          Effect.catchAll((e) => Effect.logWarning(`human QA decision not updated: ${e.message}`)),
          withComponent("decisions"),
        ),
      ),
    )
  })

export const DecisionsLive: Layer.Layer<Decisions, never, Store> = Layer.scoped(Decisions, make)

/** A worker node's Decisions: its agents ask and wait; the main node sweeps them and keeps human QA. */
export const DecisionsWorkerLive: Layer.Layer<Decisions, never, Store> = Layer.scoped(
  Decisions,
  Effect.provideService(make, OwnsDecisions, false),
)
