// src/layers/remoteAsk.ts — commands the main node sends down a worker node's command stream (StopAgent,
// FetchLog), each waiting for the reply that names its request id, or failing with NodeUnreachable when the
// node is not connected, leaves, or stays silent. Used by RemoteNodes.
import { Deferred, Effect, Queue, Schema } from "effect"
import { randomUUID } from "node:crypto"
import type { NodeId } from "../domain/ExecutionState.js"
import type { NodeCommand } from "../protocol/nodeRpcs.js"

/** How long a command waits for the node's reply. */
const replyTimeoutMillis = 30_000

/** The node is not attached, or went away (or stayed silent) before it answered. */
export class NodeUnreachable extends Schema.TaggedError<NodeUnreachable>()("NodeUnreachable", {
  node: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `node ${this.node} ${this.detail}: check that its worker runs (huskies agent) and reaches this server`
  }
}

/** Commands of one kind sent to nodes, each waiting for the reply that names its request id. */
export const makeAsker = <A extends { readonly requestId: string }>(
  commandsOf: (node: NodeId) => Queue.Queue<NodeCommand> | undefined,
) => {
  const pending = new Map<
    string,
    { readonly node: NodeId; readonly reply: Deferred.Deferred<A, NodeUnreachable> }
  >()
  const ask = (
    node: NodeId,
    command: (requestId: string) => NodeCommand,
  ): Effect.Effect<A, NodeUnreachable> =>
    Effect.gen(function* () {
      const commands = commandsOf(node)
      if (commands === undefined) return yield* new NodeUnreachable({ node, detail: "is not connected" })
      const requestId = randomUUID()
      const reply = yield* Deferred.make<A, NodeUnreachable>()
      pending.set(requestId, { node, reply })
      yield* Queue.offer(commands, command(requestId))
      return yield* Deferred.await(reply).pipe(
        Effect.timeoutFail({
          duration: replyTimeoutMillis,
          onTimeout: () =>
            new NodeUnreachable({ node, detail: `did not answer within ${replyTimeoutMillis / 1000} s` }),
        }),
        Effect.ensuring(Effect.sync(() => pending.delete(requestId))),
      )
    })
  const settle = (reply: A): Effect.Effect<void> =>
    Effect.suspend(() => {
      const waiting = pending.get(reply.requestId)
      // Answered after its caller gave up (timed out, interrupted): nobody is left to tell.
      if (waiting === undefined) return Effect.void
      pending.delete(reply.requestId)
      return Effect.asVoid(Deferred.succeed(waiting.reply, reply))
    })
  const failNode = (node: NodeId, detail: string): Effect.Effect<void> =>
    Effect.forEach(
      [...pending.entries()].filter(([, p]) => p.node === node),
      ([id, p]) => {
        pending.delete(id)
        return Deferred.fail(p.reply, new NodeUnreachable({ node, detail }))
      },
      { discard: true },
    )
  return { ask, settle, failNode }
}
