// src/transports/http/HttpApp.ts — the server's one HTTP port: routes, the listener, and the
// address it bound (printed so people and tests can find an ephemeral port).
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { health } from "./health.js"

export const router = HttpRouter.empty.pipe(
  HttpRouter.get("/health", health),
  HttpRouter.all(
    "*",
    Effect.succeed(
      HttpServerResponse.unsafeJson({ error: "not found: this server answers /health" }, { status: 404 }),
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
