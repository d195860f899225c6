// test/actors/Decisions.test.ts — the Decisions service on a real Store: ask waits for a person's answer or
// its timeout (TestClock), a restart denies the permission requests nobody waits for any more, and an
// item with qa: human has a decision from the moment its gates pass until it leaves QA.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Queue, type Scope, TestClock } from "effect"
import { join } from "node:path"
import { Decisions } from "../../src/actors/Decisions.js"
import type { StoreEvent } from "../../src/layers/Store.js"
import { Store } from "../../src/layers/Store.js"
import { openOrphanRequest, withDecisions } from "../support/decisions.js"
import { intoQa, story, withStore } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"

const publish = { _tag: "Permission", toolName: "Bash", input: { command: "npm publish" } } as const

const freshDb = Effect.map(scopedTempDir, (dir) => join(dir, "huskies.db"))

interface Services {
  readonly decisions: Decisions["Type"]
  readonly store: Store["Type"]
  /** The Store's events from before the test's first step. */
  readonly events: Queue.Dequeue<StoreEvent>
}

/** Runs `body` with Decisions over a Store on a new database, handing it the services and the events. */
const onFreshStore = <A, E>(
  body: (services: Services) => Effect.Effect<A, E, Store | Decisions | Scope.Scope>,
) =>
  Effect.flatMap(freshDb, (db) =>
    withDecisions(
      db,
      Effect.gen(function* () {
        const store = yield* Store
        return yield* body({ decisions: yield* Decisions, store, events: yield* store.subscribe })
      }),
    ),
  )

/** The next event of `tag` on the Store's bus. */
const next = <T extends StoreEvent["_tag"]>(events: Queue.Dequeue<StoreEvent>, tag: T) =>
  Effect.gen(function* () {
    for (;;) {
      const event = yield* Queue.take(events)
      if (event._tag === tag) return event as Extract<StoreEvent, { _tag: T }>
    }
  })

/** Moves a new item through Coding into QA with the given QA mode; returns its id. */
const reviewInQa = (qa: "human" | "agent") =>
  Effect.flatMap(Store, (store) => intoQa(store, story("Review me"), qa))

describe("Decisions", () => {
  it.scoped("ask waits for the answer another fiber gives, and returns who gave it", () =>
    onFreshStore(({ decisions, events }) =>
      Effect.gen(function* () {
        const asking = yield* Effect.fork(decisions.ask(publish, "5 minutes"))
        const opened = yield* next(events, "DecisionOpened")
        expect(yield* decisions.pending).toEqual([opened.decision])
        expect(opened.decision).toMatchObject({ _tag: "Permission", toolName: "Bash", expiresAt: 300_000 })
        yield* decisions.answer(opened.decision.id, "allow", "ui:alice", "just this once")
        const answered = yield* Fiber.join(asking)
        expect(answered.answer).toEqual({ verdict: "allow", by: "ui:alice", at: 0, note: "just this once" })
        expect(yield* decisions.pending).toEqual([])
        const again = yield* Effect.flip(decisions.answer(opened.decision.id, "deny", "ui:bob"))
        expect(again._tag).toBe("DecisionAlreadyAnswered")
      }),
    ),
  )

  it.scoped("unanswered when the timeout passes, ask is denied by timeout, on the record", () =>
    onFreshStore(({ decisions, events }) =>
      Effect.gen(function* () {
        const asking = yield* Effect.fork(decisions.ask(publish, "5 minutes"))
        yield* next(events, "DecisionOpened")
        yield* TestClock.adjust("4 minutes")
        expect((yield* decisions.pending).length).toBe(1)
        yield* TestClock.adjust("1 minute")
        const answered = yield* Fiber.join(asking)
        expect(answered.answer).toMatchObject({ verdict: "deny", by: "timeout", at: 300_000 })
        expect(answered.answer?.note).toContain("nobody answered within 5m")
        const { decisions: kept } = yield* decisions.list
        expect(kept).toEqual([answered])
      }),
    ),
  )

  it.scoped("an asker that stops waiting refuses its request rather than leaving it pending", () =>
    onFreshStore(({ decisions, events }) =>
      Effect.gen(function* () {
        const asking = yield* Effect.fork(decisions.ask(publish, "5 minutes"))
        yield* next(events, "DecisionOpened")
        yield* Fiber.interrupt(asking)
        const { decisions: kept } = yield* decisions.list
        expect(kept.map((d) => d.answer?.by)).toEqual(["cancelled"])
      }),
    ),
  )

  it.scoped("an item deleted while someone waits on its decision ends the wait with a refusal", () =>
    onFreshStore(({ store, events }) =>
      Effect.gen(function* () {
        const item = yield* store.create(story("Short-lived"))
        const asking = yield* Effect.fork(
          (yield* Decisions).ask({ _tag: "HumanQa", storyId: item.id }, "1 hour"),
        )
        yield* next(events, "DecisionOpened")
        yield* store.delete(item.id)
        const ended = yield* Fiber.join(asking)
        expect(ended.answer).toMatchObject({ verdict: "reject", by: "deleted" })
        expect((yield* store.decisions).decisions).toEqual([])
      }),
    ),
  )

  it.scoped("a restart denies the permission requests pending when the server died, and keeps human QA", () =>
    Effect.gen(function* () {
      const db = yield* freshDb
      const qaItem = yield* withDecisions(
        db,
        Effect.gen(function* () {
          const events = yield* (yield* Store).subscribe
          const id = yield* reviewInQa("human")
          yield* next(events, "DecisionOpened")
          // What a server that died mid-ask leaves behind: the open request, and nobody waiting for it.
          yield* openOrphanRequest(yield* Store, "dec-orphan")
          return id
        }),
      )
      yield* withDecisions(
        db,
        Effect.gen(function* () {
          const decisions = yield* Decisions
          const { decisions: all } = yield* decisions.list
          expect(all.find((d) => d.id === "dec-orphan")?.answer).toMatchObject({
            verdict: "deny",
            by: "restart",
            note: "the server restarted while the request waited",
          })
          const pending = yield* decisions.pending
          expect(pending).toMatchObject([{ _tag: "HumanQa", storyId: qaItem }])
        }),
      )
    }),
  )

  it.scoped("a human QA whose item left QA while the server was down is closed at the next start", () =>
    Effect.gen(function* () {
      const db = yield* freshDb
      const id = yield* withDecisions(
        db,
        Effect.gen(function* () {
          const events = yield* (yield* Store).subscribe
          const id = yield* reviewInQa("human")
          yield* next(events, "DecisionOpened")
          return id
        }),
      )
      // Another writer of the same document (a peer, a repair) moves the item while no Decisions runs.
      yield* withStore(
        db,
        Effect.flatMap(Store, (store) =>
          store.apply(id, { _tag: "QaRejected", notes: "no", retryLimit: 3, at: 9 }),
        ),
      )
      yield* withDecisions(
        db,
        Effect.gen(function* () {
          const { decisions } = yield* (yield* Decisions).list
          expect(decisions).toMatchObject([
            {
              _tag: "HumanQa",
              storyId: id,
              answer: {
                verdict: "reject",
                by: "unknown",
                note: "the item left QA (now in Coding) while the server was down",
              },
            },
          ])
        }),
      )
    }),
  )

  it.scoped("an item waiting in QA for a person without a decision gets one at startup", () =>
    Effect.gen(function* () {
      const db = yield* freshDb
      // Moved into QA while no Decisions ran (an older server): one says qa: human, one says nothing.
      const [human] = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const ids = []
          for (const front of ["qa: human\n", ""]) {
            ids.push(
              yield* intoQa(store, {
                kind: "story",
                name: "Old",
                content: `---\nname: Old\n${front}---\n`,
              }),
            )
          }
          return ids
        }),
      )
      yield* withDecisions(
        db,
        Effect.gen(function* () {
          // Without the project's config, only the item that says so itself is known to wait for a person.
          expect(yield* (yield* Decisions).pending).toMatchObject([{ _tag: "HumanQa", storyId: human }])
        }),
      )
      // A second start opens no second decision for the same wait.
      yield* withDecisions(
        db,
        Effect.gen(function* () {
          expect((yield* (yield* Decisions).pending).length).toBe(1)
        }),
      )
    }),
  )

  it.scoped("an item with qa: human gets a decision as it enters QA, approved as it moves to Merge", () =>
    onFreshStore(({ decisions, store, events }) =>
      Effect.gen(function* () {
        const id = yield* reviewInQa("human")
        const opened = yield* next(events, "DecisionOpened")
        expect(opened.decision).toMatchObject({ _tag: "HumanQa", storyId: id })
        yield* store.apply(id, { _tag: "QaApproved", featureBranch: "f", commitsAhead: 1, at: 3 })
        const answered = yield* next(events, "DecisionAnswered")
        expect(answered.decision).toMatchObject({
          id: opened.decision.id,
          answer: { verdict: "approve", by: "unknown" },
        })
        expect(yield* decisions.pending).toEqual([])
      }),
    ),
  )

  it.scoped("QA rejected sends the notes with the reject; an item with qa: agent gets no decision", () =>
    onFreshStore(({ decisions, store, events }) =>
      Effect.gen(function* () {
        const byAgent = yield* reviewInQa("agent")
        const byHuman = yield* reviewInQa("human")
        const opened = yield* next(events, "DecisionOpened")
        expect(opened.decision.storyId).toBe(byHuman)
        yield* store.apply(byHuman, {
          _tag: "QaRejected",
          notes: "the button is blue",
          retryLimit: 3,
          at: 4,
        })
        const answered = yield* next(events, "DecisionAnswered")
        expect(answered.decision.answer).toMatchObject({ verdict: "reject", note: "the button is blue" })
        const { decisions: all } = yield* decisions.list
        expect(all.filter((d) => d.storyId === byAgent)).toEqual([])
      }),
    ),
  )

  it.scoped("a person's answer to a human QA stands when the item then leaves QA", () =>
    onFreshStore(({ decisions, store, events }) =>
      Effect.gen(function* () {
        const id = yield* reviewInQa("human")
        const opened = yield* next(events, "DecisionOpened")
        yield* decisions.answer(opened.decision.id, "approve", "ui:alice")
        yield* store.apply(id, { _tag: "QaApproved", featureBranch: "f", commitsAhead: 1, at: 3 })
        yield* store.apply(id, { _tag: "Merged", mergeCommit: "abc1234", mergedAt: 5, at: 5 })
        // The service follows events in order: once it opened the next item's decision, it has seen the moves.
        const later = yield* reviewInQa("human")
        expect((yield* next(events, "DecisionOpened")).decision.storyId).toBe(later)
        const { decisions: all } = yield* decisions.list
        expect(all.filter((d) => d.storyId === id).map((d) => d.answer?.by)).toEqual(["ui:alice"])
      }),
    ),
  )
})
