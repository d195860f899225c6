// web/src/api/client.ts — the browser's one connection to the server: an @effect/rpc client of UiRpcs
// over a WebSocket to /rpc (the cookie or loopback admits it). Views call `call(c => c.Move(...))`;
// the board feed (live.ts) runs its stream on the same client.
import { Socket } from "@effect/platform"
import { RpcClient, RpcSerialization } from "@effect/rpc"
import { Effect, Layer, ManagedRuntime } from "effect"
import { UiRpcs } from "../../../src/protocol/uiRpcs.js"

const rpcUrl = (): string => {
  const { protocol, host } = window.location
  return `${protocol === "https:" ? "wss:" : "ws:"}//${host}/rpc`
}

export class Api extends Effect.Service<Api>()("huskies/web/Api", {
  scoped: RpcClient.make(UiRpcs),
}) {}

const ProtocolLive = RpcClient.layerProtocolSocket({ retryTransientErrors: true }).pipe(
  Layer.provide(Socket.layerWebSocket(rpcUrl())),
  Layer.provide(Socket.layerWebSocketConstructorGlobal),
  Layer.provide(RpcSerialization.layerNdjson),
)

export const runtime = ManagedRuntime.make(Api.Default.pipe(Layer.provide(ProtocolLive)))

export type Client = Api

/** What a refused or failed call tells the person: the command layer's message, as MCP shows it. */
export const failureMessage = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const e = error as { _tag?: string; message?: unknown; reason?: unknown }
    if (e._tag === "Refused" && typeof e.message === "string") return e.message
    if (e._tag === "RpcClientError") return "the server cannot be reached; retrying"
    if (typeof e.message === "string") return e.message
  }
  return String(error)
}

export type Outcome<A> =
  { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: string }

/** Runs one call on the shared client; never rejects: a refusal comes back as its message. */
export const call = <A, E>(f: (client: Client) => Effect.Effect<A, E>): Promise<Outcome<A>> =>
  runtime.runPromise(
    Effect.flatMap(Api, (client) => f(client)).pipe(
      Effect.match({
        onSuccess: (value): Outcome<A> => ({ ok: true, value }),
        onFailure: (error): Outcome<A> => ({ ok: false, error: failureMessage(error) }),
      }),
    ),
  )
