// test/support/nodes.ts — the main node's NodeAdmission on a project directory, and other nodes' identities,
// for the tests of joining, tickets and revocation (the trust layer, the node commands, the guard).
import { Context, Effect, Layer } from "effect"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { makeNodeIdentity, nodeKeyPath } from "../../src/layers/NodeKeys.js"
import { NodeAdmissionLive, type NodeTrustOptions } from "../../src/layers/NodeTrust.js"
import { nodesDbPath } from "../../src/layers/nodeTrustDb.js"
import { NodeAdmission, NodeIdentity } from "../../src/protocol/nodeHandshake.js"
import { scopedTempDir } from "./tempDir.js"

/** The admission of the main node, node-main, of the project at `root` (its key and nodes.db there). */
export const mainAdmission = (root: string, options: NodeTrustOptions = {}) =>
  Effect.gen(function* () {
    const server = yield* makeNodeIdentity(nodeKeyPath(root), NodeId.make("node-main"))
    const context = yield* Layer.build(
      NodeAdmissionLive(nodesDbPath(root), options).pipe(Layer.provide(Layer.succeed(NodeIdentity, server))),
    )
    return { admission: Context.get(context, NodeAdmission), server }
  })

/** Another node's identity, `name`, its key in a temp dir of its own. */
export const otherNode = (name: string) =>
  Effect.flatMap(scopedTempDir, (dir) => makeNodeIdentity(nodeKeyPath(dir), NodeId.make(name)))
