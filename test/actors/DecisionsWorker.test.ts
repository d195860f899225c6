// test/actors/DecisionsWorker.test.ts — a worker node's Decisions over its replica: starting, it leaves the
// main node's pending permission requests alone (the main node sweeps its own at its start) and opens no
// human-QA decision of its own for an item in QA; the main node's Decisions, started on the same document,
// still sweeps and opens them.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { join } from "node:path"
import { Decisions, DecisionsWorkerLive } from "../../src/actors/Decisions.js"
import { Store } from "../../src/layers/Store.js"
import { openOrphanRequest, withDecisions } from "../support/decisions.js"
import { intoQa, withStore } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"

const story = (name: string) => ({
  kind: "story" as const,
  name,
  content: `---\nname: ${name}\nqa: human\n---\n`,
})

describe("Decisions on a worker node", () => {
  it.scoped("settle nothing and open no human QA at start; the main node's do", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      // The replica as sync left it: an item in QA with no decision yet, and the main node's open request.
      const qaItem = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const id = yield* intoQa(store, story("Review me"))
          yield* openOrphanRequest(store, "dec-main")
          return id
        }),
      )
      yield* withDecisions(
        db,
        Effect.gen(function* () {
          const pending = yield* (yield* Decisions).pending
          expect(pending.map((d) => d.id)).toEqual(["dec-main"])
        }),
        DecisionsWorkerLive,
      )
      yield* withDecisions(
        db,
        Effect.gen(function* () {
          const decisions = yield* Decisions
          const { decisions: all } = yield* decisions.list
          expect(all.find((d) => d.id === "dec-main")?.answer).toMatchObject({
            verdict: "deny",
            by: "restart",
          })
          expect(yield* decisions.pending).toMatchObject([{ _tag: "HumanQa", storyId: qaItem }])
        }),
      )
    }),
  )
})
