// test/support/decisions.ts — for the Decisions tests: Decisions (the main node's or a worker's) over a real
// Store on a SQLite file, and the open permission request a server that died mid-ask leaves behind.
import { Effect, Layer, type Scope } from "effect"
import { type Decisions, DecisionsLive } from "../../src/actors/Decisions.js"
import { DecisionId } from "../../src/domain/Decision.js"
import type { Store } from "../../src/layers/Store.js"
import { storeLayer } from "./store.js"

/** Runs `program` with `layer` (the main node's Decisions by default) over a Store on `dbPath`, closed after. */
export const withDecisions = <A, E>(
  dbPath: string,
  program: Effect.Effect<A, E, Store | Decisions | Scope.Scope>,
  layer: typeof DecisionsLive = DecisionsLive,
) => Effect.scoped(Effect.provide(program, layer.pipe(Layer.provideMerge(storeLayer(dbPath)))))

/** Opens the permission request `id` for `npm publish` on `store`, with nobody waiting for its answer. */
export const openOrphanRequest = (store: Store["Type"], id: string) =>
  store.openDecision({
    _tag: "Permission",
    id: DecisionId.make(id),
    toolName: "Bash",
    input: { command: "npm publish" },
    requestedAt: 5,
    expiresAt: 300_005,
  })
