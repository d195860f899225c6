// src/layers/ServerUrl.ts — where this server can be reached, known once it listens (port 0 picks one).
// serve completes it; the Scheduler waits on it before it points an agent's .mcp.json at `/mcp`.
import { Context, Deferred, Effect, Layer } from "effect"

export interface ServerUrlShape {
  /** Resolves with e.g. `http://127.0.0.1:3001` once the server listens. */
  readonly url: Effect.Effect<string>
  readonly mcpUrl: Effect.Effect<string>
  readonly set: (url: string) => Effect.Effect<void>
}

export class ServerUrl extends Context.Tag("huskies/ServerUrl")<ServerUrl, ServerUrlShape>() {}

export const ServerUrlLive = Layer.effect(
  ServerUrl,
  Effect.map(Deferred.make<string>(), (listening) => ({
    url: Deferred.await(listening),
    mcpUrl: Effect.map(Deferred.await(listening), (url) => `${url.replace(/\/$/, "")}/mcp`),
    set: (url: string) => Effect.asVoid(Deferred.succeed(listening, url)),
  })),
)

/** A fixed URL, for tools and tests that run without a listening server. */
export const ServerUrlFixed = (url: string) =>
  Layer.succeed(ServerUrl, {
    url: Effect.succeed(url),
    mcpUrl: Effect.succeed(`${url.replace(/\/$/, "")}/mcp`),
    set: () => Effect.void,
  })
