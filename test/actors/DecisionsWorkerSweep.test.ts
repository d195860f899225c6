// test/actors/DecisionsWorkerSweep.test.ts — a permission request names the node whose agent asked, and a
// node's start denies its own that are still pending (the agent that asked is gone): a worker its own and
// not another node's; the main node its own and those that name no node (from before nodes were
// recorded), and not a worker's, whose agent may still be waiting.
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber } from "effect"
import { join } from "node:path"
import { Decisions, DecisionsLive, DecisionsWorkerLive } from "../../src/actors/Decisions.js"
import { DecisionId } from "../../src/domain/Decision.js"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { Store } from "../../src/layers/Store.js"
import { openOrphanRequest, withDecisions } from "../support/decisions.js"
import { withStore } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"
import { awaitStore } from "../support/waits.js"

/** A pending permission request of `node`'s agent, as a node that stopped mid-ask leaves it. */
const requestOf = (node: NodeId, id: string) =>
  Effect.flatMap(Store, (store) =>
    store.openDecision({
      _tag: "Permission",
      id: DecisionId.make(id),
      node,
      toolName: "Bash",
      input: { command: "npm publish" },
      requestedAt: 5,
      expiresAt: 300_005,
    }),
  )

/** Each decision's answer by id (undefined while pending). */
const answers = Effect.flatMap(Decisions, (d) =>
  Effect.map(d.list, ({ decisions }) => new Map(decisions.map((x) => [x.id as string, x.answer]))),
)

describe("the start sweep of permission requests", () => {
  it.scoped("a request names the node whose agent asked", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      yield* withDecisions(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const decisions = yield* Decisions
          const asking = yield* Effect.fork(
            decisions.ask(
              { _tag: "Permission", toolName: "Bash", input: { command: "ls" } },
              Duration.infinity,
            ),
          )
          const [request] = yield* awaitStore(
            "the request to be open",
            Effect.map(decisions.pending, (p) => (p.length === 1 ? p : undefined)),
          )
          expect(request).toMatchObject({ _tag: "Permission", node: store.nodeId })
          yield* decisions.answer(request!.id, "allow", "ui:alice")
          expect((yield* Fiber.join(asking)).answer).toMatchObject({ verdict: "allow" })
        }),
        DecisionsWorkerLive,
      )
    }),
  )

  it.scoped(
    "a worker's start denies its own pending requests only; the main node's its own and unnamed ones",
    () =>
      Effect.gen(function* () {
        const db = join(yield* scopedTempDir, "huskies.db")
        // What a node that stopped mid-ask leaves: its own request, another node's, and one naming no node.
        yield* withStore(
          db,
          Effect.gen(function* () {
            const store = yield* Store
            yield* requestOf(store.nodeId, "dec-own")
            yield* requestOf(NodeId.make("node-elsewhere"), "dec-elsewhere")
            yield* openOrphanRequest(store, "dec-unnamed")
          }),
        )
        const onWorker = yield* withDecisions(db, answers, DecisionsWorkerLive)
        expect(onWorker.get("dec-own")).toMatchObject({ verdict: "deny", by: "restart" })
        expect(onWorker.get("dec-elsewhere")).toBeUndefined()
        expect(onWorker.get("dec-unnamed")).toBeUndefined()

        const onMain = yield* withDecisions(db, answers, DecisionsLive)
        expect(onMain.get("dec-unnamed")).toMatchObject({ verdict: "deny", by: "restart" })
        // Another node's agent may still be waiting: that node sweeps it when it starts again.
        expect(onMain.get("dec-elsewhere")).toBeUndefined()
      }),
  )
})
