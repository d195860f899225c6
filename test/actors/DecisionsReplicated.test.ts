// test/actors/DecisionsReplicated.test.ts — a human QA decision closes when its item leaves QA by another
// node's change (replicated: no event, only where the item went): approved when it went on to Merge,
// rejected with where it went otherwise, answered by that node.
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Queue } from "effect"
import { join } from "node:path"
import { Decisions, DecisionsLive } from "../../src/actors/Decisions.js"
import { Store, type StoreEvent } from "../../src/layers/Store.js"
import { exchange, intoQa, openStore, storeLayer, story } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"

const answered = (events: Queue.Dequeue<StoreEvent>) =>
  Effect.gen(function* () {
    for (;;) {
      const event = yield* Queue.take(events)
      if (event._tag === "DecisionAnswered") return event.decision
    }
  })

describe("Decisions and replicated changes", () => {
  it.scoped(
    "a human QA is approved when a peer moved its item on to Merge, rejected when it moved it back",
    () =>
      Effect.gen(function* () {
        const dir = yield* scopedTempDir
        const a = yield* openStore(join(dir, "a.db"))
        const ctx = yield* Layer.build(DecisionsLive.pipe(Layer.provideMerge(storeLayer(join(dir, "b.db")))))
        const b = Context.get(ctx, Store)
        const decisions = Context.get(ctx, Decisions)
        const events = yield* b.subscribe
        const approvedThere = yield* intoQa(b, story("Approved elsewhere"))
        const rejectedThere = yield* intoQa(b, story("Rejected elsewhere"))
        // Decisions opens them as it follows the moves: wait for both.
        for (let opened = 0; opened < 2;) if ((yield* Queue.take(events))._tag === "DecisionOpened") opened++
        expect(yield* decisions.pending).toHaveLength(2)
        yield* exchange(b, a, "node-b")

        yield* a.apply(approvedThere, { _tag: "QaApproved", featureBranch: "f", commitsAhead: 1, at: 3 })
        yield* exchange(a, b, "node-a")
        expect(yield* answered(events)).toMatchObject({
          storyId: approvedThere,
          answer: { verdict: "approve", by: "node-a" },
        })

        yield* a.apply(rejectedThere, { _tag: "QaRejected", notes: "no tests", retryLimit: 3, at: 4 })
        yield* exchange(a, b, "node-a")
        expect(yield* answered(events)).toMatchObject({
          storyId: rejectedThere,
          answer: { verdict: "reject", by: "node-a", note: "the item left QA on node-a (now in Coding)" },
        })
        expect(yield* decisions.pending).toEqual([])
      }),
  )
})
