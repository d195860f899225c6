// src/transports/rpc/nodeRpcServer.ts — the main node's side of the node RPCs (src/protocol/nodeRpcs.ts) at
// /rpc/node: the same @effect/rpc server code and serialization as the UI's /rpc, behind the same access
// guard. A connection attaches as one node (the node its ticket names, when the guard admitted it by a
// ticket) and then feeds RemoteNodes. serve.ts mounts `route` in HttpLive's `upgrades`.
import { RpcSerialization, RpcServer } from "@effect/rpc"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Context, Effect, Layer, Option, Stream } from "effect"
import type { NodeId } from "../../domain/ExecutionState.js"
import { PipelineView } from "../../actors/PipelineView.js"
import { RemoteNodes } from "../../layers/RemoteNodes.js"
import { NodeAdmission } from "../../protocol/nodeHandshake.js"
import {
  NodeRefused,
  NodeRpcs,
  nodePrincipalHeader,
  ProtocolUnsupported,
  supportedNodeProtocols,
} from "../../protocol/nodeRpcs.js"
import type { UpgradeRoute } from "../http/AccessGuard.js"
import { detachedServer } from "./UiRpcServer.js"

export { nodeRpcPath } from "../../protocol/nodeRpcs.js"

const handlers = NodeRpcs.toLayer(
  Effect.gen(function* () {
    const remote = yield* RemoteNodes
    const main = (yield* PipelineView).nodeId
    const attachmentOf = (clientId: number) =>
      Effect.flatMap(
        remote.attachment(clientId),
        Option.match({
          onNone: () =>
            Effect.fail(new NodeRefused({ detail: "this connection has not attached: call Attach first" })),
          onSome: Effect.succeed,
        }),
      )
    return {
      Attach: (payload, { clientId, headers }) =>
        Effect.gen(function* () {
          if (!supportedNodeProtocols.includes(payload.protocol))
            return yield* new ProtocolUnsupported({
              client: payload.protocol,
              supported: supportedNodeProtocols,
            })
          const principal = headers[nodePrincipalHeader]
          if (principal !== undefined && principal !== payload.node)
            return yield* new NodeRefused({
              detail: `this connection was admitted for node ${principal}; it cannot attach as ${payload.node}`,
            })
          const attached = yield* remote.attach(clientId, payload, main, payload.protocol)
          yield* Effect.logInfo(`node ${payload.node} attached`).pipe(
            Effect.annotateLogs({ label: payload.label ?? payload.node, version: payload.version ?? "?" }),
          )
          return attached
        }),
      Commands: (_, { clientId }) =>
        Stream.unwrapScoped(
          Effect.gen(function* () {
            const attachment = yield* attachmentOf(clientId)
            // The stream lives as long as the connection: its end (the socket closed) detaches the node.
            yield* Effect.addFinalizer(() =>
              Effect.zipRight(remote.detach(clientId), Effect.logInfo(`node ${attachment.node} detached`)),
            )
            return Stream.fromQueue(attachment.commands)
          }),
        ),
      Output: (batch, { clientId }) =>
        Effect.gen(function* () {
          const { node } = yield* attachmentOf(clientId)
          return { acked: yield* remote.output(node, batch) }
        }),
      Status: (status, { clientId }) =>
        Effect.flatMap(attachmentOf(clientId), ({ node }) => remote.status(node, status)),
      StopReply: (reply, { clientId }) => Effect.zipRight(attachmentOf(clientId), remote.stopReply(reply)),
      LogReply: (reply, { clientId }) => Effect.zipRight(attachmentOf(clientId), remote.logReply(reply)),
    }
  }),
)

export class NodeRpcRoute extends Context.Tag("huskies/rpc/NodeRpcRoute")<
  NodeRpcRoute,
  { readonly route: UpgradeRoute }
>() {}

const route = Effect.gen(function* () {
  const detached = detachedServer()
  const server = yield* NodeHttpServer.make(() => detached, { port: 0 })
  yield* server.serve(yield* RpcServer.toHttpAppWebsocket(NodeRpcs))
  // A revoked node is cut off at once: its attachment ends (its command stream with it) and its next
  // connection is refused by the access guard, which no longer knows its ticket. A node whose sync
  // connection closed loses its attachment too: its ticket counted only while that connection was open.
  const admission = yield* Effect.serviceOption(NodeAdmission)
  if (Option.isSome(admission)) {
    const remote = yield* RemoteNodes
    const cutOff = (why: string) => (node: NodeId) =>
      Effect.zipRight(remote.revoke(node), Effect.logWarning(`node ${node} ${why}: its RPC connection ends`))
    yield* admission.value.revocations.pipe(Stream.runForEach(cutOff("revoked")), Effect.forkScoped)
    yield* admission.value.disconnections.pipe(
      Stream.runForEach(cutOff("closed its sync connection")),
      Effect.forkScoped,
    )
  }
  return {
    // The access guard has admitted the upgrade and marked it with the node its ticket names, if any
    // (nodePrincipalHeader, which it drops from every request it does not mark).
    route: (req, socket, head) => void detached.emit("upgrade", req, socket, head),
  } satisfies Context.Tag.Service<NodeRpcRoute>
})

/** /rpc/node's route and its handlers, over RemoteNodes and (when the server has it) NodeAdmission. */
export const NodeRpcRouteLive = Layer.scoped(NodeRpcRoute, route).pipe(
  Layer.provide(handlers),
  Layer.provide(RpcSerialization.layerNdjson),
)
