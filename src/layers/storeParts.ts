// src/layers/storeParts.ts — the Store's parts that live in their own files (decisions, claims), joined
// into the one object Store.ts spreads into itself. Used by Store.ts only.
import { NodeId } from "../domain/ExecutionState.js"
import { type ClaimStore, claimStore } from "./storeClaims.js"
import { type DecisionStore, type DecisionStoreParts, decisionStore } from "./storeDecisions.js"
import type { StoreEvent } from "./storeTypes.js"

export interface StoreParts extends DecisionStore, ClaimStore {}

export interface StorePartsInput extends Omit<DecisionStoreParts, "publish"> {
  readonly publish: (event: StoreEvent) => ReturnType<DecisionStoreParts["publish"]>
  /** This node's id as Persistence made it (`node-<uuid>`). */
  readonly node: string
}

export const storeParts = ({ node, ...parts }: StorePartsInput): StoreParts => ({
  ...decisionStore(parts),
  // Persistence makes `node-<uuid>` ids; one edited by hand into something invalid is a defect here.
  ...claimStore({ ...parts, nodeId: NodeId.make(node) }),
})
