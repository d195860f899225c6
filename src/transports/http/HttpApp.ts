// src/transports/http/HttpApp.ts — the server's one HTTP port: routes, the listener, and the
// address it bound (printed so people and tests can find an ephemeral port).
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { McpEndpoint } from "../mcp/McpEndpoint.js"
import { health } from "./health.js"

/** Hands the request to the MCP endpoint as a web Request and streams its Response back. */
const mcp = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const endpoint = yield* McpEndpoint
  const web = yield* HttpServerRequest.toWeb(request)
  const response = yield* Effect.promise(() => endpoint.handle(web))
  return HttpServerResponse.fromWeb(response)
}).pipe(
  Effect.catchTag("RequestError", (e) =>
    Effect.succeed(
      HttpServerResponse.unsafeJson(
        {
          jsonrpc: "2.0",
          error: { code: -32700, message: `could not read the request: ${e.message}` },
          id: null,
        },
        { status: 400 },
      ),
    ),
  ),
)

export const router = HttpRouter.empty.pipe(
  HttpRouter.get("/health", health),
  HttpRouter.all("/mcp", mcp),
  HttpRouter.all(
    "*",
    Effect.succeed(
      HttpServerResponse.unsafeJson(
        { error: "not found: this server answers /health and /mcp" },
        { status: 404 },
      ),
    ),
  ),
)

export interface ListenOptions {
  readonly port: number
  readonly host: string
}

/** Serves the router and reports the bound address through `onListening`. */
export const HttpLive = <R>(
  options: ListenOptions,
  onListening: (url: string) => Effect.Effect<void, never, R>,
) =>
  HttpServer.serve(router).pipe(
    Layer.merge(
      Layer.effectDiscard(
        HttpServer.addressWith((address) =>
          onListening(
            address._tag === "TcpAddress"
              ? `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`
              : `unix:${address.path}`,
          ),
        ),
      ),
    ),
    Layer.provide(NodeHttpServer.layer(createServer, { port: options.port, host: options.host })),
  )
