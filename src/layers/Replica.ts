// src/layers/Replica.ts — the Store's sync surface as a service of its own (state vector, diff, a peer's
// update applied durably, the same for the items' history, the feed of committed updates), so the sync
// transport (src/transports/sync) reaches the replica and nothing else of the Store. Built from the Store
// by serve and the worker.
import { Context, Effect, Layer } from "effect"
import type { NodeId } from "../domain/ExecutionState.js"
import { Store } from "./Store.js"
import type { SyncSurface } from "./storeSync.js"

export type { CommittedUpdate, UpdateOrigin } from "./storeSync.js"
export { SyncUpdateRejected } from "./storeSync.js"

export interface ReplicaShape extends Omit<SyncSurface, "updates"> {
  /** This node's id: who a peer's Challenge or Hello names. */
  readonly nodeId: NodeId
}

export class Replica extends Context.Tag("huskies/Replica")<Replica, ReplicaShape>() {}

export const ReplicaLive: Layer.Layer<Replica, never, Store> = Layer.effect(
  Replica,
  Effect.map(Store, (store) => ({
    nodeId: store.nodeId,
    stateVector: store.stateVector,
    diff: store.diff,
    applyRemote: store.applyRemote,
    historyStateVector: store.historyStateVector,
    historyDiff: store.historyDiff,
    catchUp: store.catchUp,
    applyRemoteHistory: store.applyRemoteHistory,
    subscribeUpdates: store.subscribeUpdates,
  })),
)
