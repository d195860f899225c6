// src/transports/rpc/UiRpcServer.ts — the web UI's live API (src/protocol/uiRpcs.ts) served at /rpc: the
// handlers over the command layer and the views, run by @effect/rpc's server over WebSocket upgrades the
// access guard has admitted. serve.ts mounts `route` in HttpLive's `upgrades`.
import { RpcSerialization, RpcServer } from "@effect/rpc"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Context, Effect, Layer, Stream } from "effect"
import { createServer, type Server } from "node:http"
import { UiRpcs } from "../../protocol/uiRpcs.js"
import type { UpgradeRoute } from "../http/AccessGuard.js"
import type { ToolEnv } from "../tools/registry.js"
import { LiveFeed, LiveFeedLive, type LiveFeedOptions } from "./LiveFeed.js"
import { readHandlers } from "./readHandlers.js"
import { writeHandlers } from "./writeHandlers.js"

/** Where the UI's WebSocket connects. */
export const uiRpcPath = "/rpc"

/**
 * What /rpc handlers may use: what tool handlers may (the command layer, the read-only views and
 * infrastructure that cannot write the pipeline's state) and the board's feed. The Store and the actors
 * are not here, so a handler that reaches for them does not type-check.
 */
export type RpcEnv = ToolEnv | LiveFeed

/** What a handler's own answer needs, beyond what the handlers were built with (must be nothing). */
type CallContext<H> = {
  [K in keyof H]: H[K] extends (...args: never) => infer Out
    ? Out extends Effect.Effect<unknown, unknown, infer R>
      ? R
      : Out extends Stream.Stream<unknown, unknown, infer R>
        ? R
        : never
    : never
}[keyof H]

const build = Effect.gen(function* () {
  return { ...(yield* readHandlers), ...(yield* writeHandlers) }
})

// The group's own handler types let any context through; these two lines are the check: building the
// handlers needs only RpcEnv, and answering a call needs nothing more.
const checkedBuild: Effect.Effect<Effect.Effect.Success<typeof build>, never, RpcEnv> = build
const answersNeedNothing: [CallContext<Effect.Effect.Success<typeof build>>] extends [never] ? true : false =
  true

const handlers = answersNeedNothing && UiRpcs.toLayer(checkedBuild)

export class UiRpcRoute extends Context.Tag("huskies/rpc/UiRpcRoute")<
  UiRpcRoute,
  { readonly route: UpgradeRoute }
>() {}

/**
 * A Node server that never listens: the platform's HttpServer (and its WebSocket upgrade, by the `ws`
 * it ships with) serves it, and the guarded upgrade route hands it the connections the guard admitted.
 */
export const detachedServer = (): Server => {
  const server = createServer()
  return Object.assign(server, {
    listen: (...args: ReadonlyArray<unknown>) => {
      const callback = args.at(-1)
      if (typeof callback === "function") queueMicrotask(() => (callback as () => void)())
      return server
    },
    address: () => ({ address: "127.0.0.1", family: "IPv4", port: 0 }),
  })
}

const route = Effect.gen(function* () {
  const detached = detachedServer()
  const server = yield* NodeHttpServer.make(() => detached, { port: 0 })
  yield* server.serve(yield* RpcServer.toHttpAppWebsocket(UiRpcs))
  return {
    route: (req, socket, head) => void detached.emit("upgrade", req, socket, head),
  } satisfies Context.Tag.Service<UiRpcRoute>
})

/** /rpc's route, its handlers and the board feed (one epoch per server run). */
export const UiRpcRouteLive = (options: LiveFeedOptions = {}) =>
  Layer.scoped(UiRpcRoute, route).pipe(
    Layer.provide(handlers),
    Layer.provide(RpcSerialization.layerNdjson),
    Layer.provide(LiveFeedLive(options)),
  )
