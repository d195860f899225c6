// test/actors/DecisionsWorker.test.ts — a worker node's Decisions over its replica: starting, it leaves the
// main node's pending permission requests alone (the main node sweeps its own at its start) and opens no
// human-QA decision of its own for an item in QA; the main node's Decisions, started on the same document,
// still sweeps and opens them.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, type Scope } from "effect"
import { join } from "node:path"
import { Decisions, DecisionsLive, DecisionsWorkerLive } from "../../src/actors/Decisions.js"
import { DecisionId } from "../../src/domain/Decision.js"
import { Store } from "../../src/layers/Store.js"
import { intoQa, storeLayer, withStore } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"

const story = (name: string) => ({
  kind: "story" as const,
  name,
  content: `---\nname: ${name}\nqa: human\n---\n`,
})

const withDecisions = <A, E>(
  layer: typeof DecisionsLive,
  dbPath: string,
  program: Effect.Effect<A, E, Store | Decisions | Scope.Scope>,
) => Effect.scoped(Effect.provide(program, layer.pipe(Layer.provideMerge(storeLayer(dbPath)))))

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
          yield* store.openDecision({
            _tag: "Permission",
            id: DecisionId.make("dec-main"),
            toolName: "Bash",
            input: { command: "npm publish" },
            requestedAt: 5,
            expiresAt: 300_005,
          })
          return id
        }),
      )
      yield* withDecisions(
        DecisionsWorkerLive,
        db,
        Effect.gen(function* () {
          const pending = yield* (yield* Decisions).pending
          expect(pending.map((d) => d.id)).toEqual(["dec-main"])
        }),
      )
      yield* withDecisions(
        DecisionsLive,
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
