// src/transports/rpc/nodeRpcServer.ts — the main node's side of the node RPCs (src/protocol/nodeRpcs.ts) at
// /rpc/node: the same @effect/rpc server code and serialization as the UI's /rpc, behind the same access
// guard. A connection attaches as one node (the node its ticket names, when admitted by a ticket) and
// then feeds RemoteNodes. serve.ts mounts `route` in HttpLive's `upgrades`.
import { RpcSerialization, RpcServer } from "@effect/rpc"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Context, Effect, Layer, Option, Runtime, Stream } from "effect"
import type { IncomingMessage } from "node:http"
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

const bearer = /^bearer +(\S+) *$/i

/** The ticket a node's upgrade carries: `Authorization: Bearer <ticket>` or `?ticket=`. */
export const ticketOf = (req: IncomingMessage): string | undefined => {
  const header = req.headers.authorization
  const fromHeader = typeof header === "string" ? bearer.exec(header)?.[1] : undefined
  if (fromHeader !== undefined) return fromHeader
  const query = (req.url ?? "").split("?")[1]
  return query === undefined ? undefined : (new URLSearchParams(query).get("ticket") ?? undefined)
}

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
  const admission = yield* Effect.serviceOption(NodeAdmission)
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())
  const hand: UpgradeRoute = (req, socket, head) => void detached.emit("upgrade", req, socket, head)
  return {
    route: (req, socket, head) => {
      // Only this route says which node a connection is: a client's own header of that name is dropped.
      delete req.headers[nodePrincipalHeader]
      const ticket = ticketOf(req)
      if (Option.isNone(admission) || ticket === undefined) return hand(req, socket, head)
      runFork(
        Effect.map(admission.value.byTicket(ticket), (peer) => {
          if (Option.isSome(peer)) req.headers[nodePrincipalHeader] = peer.value.node
          hand(req, socket, head)
        }),
      )
    },
  } satisfies Context.Tag.Service<NodeRpcRoute>
})

/** /rpc/node's route and its handlers, over RemoteNodes and (when the server has it) NodeAdmission. */
export const NodeRpcRouteLive = Layer.scoped(NodeRpcRoute, route).pipe(
  Layer.provide(handlers),
  Layer.provide(RpcSerialization.layerNdjson),
)
