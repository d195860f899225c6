// test/transports/rpc/rpcAccess.test.ts — /rpc behind the access guard (no token, no WebSocket: 401), and
// a server that shuts down while a UI client is connected and subscribed ends promptly, cutting the client.
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Fiber, Layer, Redacted, Scope, Stream } from "effect"
import { request } from "node:http"
import { RpcTestServer, rpcTestServer, sharedServer, uiClient } from "./support.js"

const token = "rpc-test-token-0123456789abcdef"

/** Asks for a WebSocket at `url`/rpc with `headers`: the status of the answer (101 when upgraded). */
const upgradeStatus = (url: string, headers: Record<string, string> = {}) =>
  Effect.async<number>((resume) => {
    const req = request(`${url}/rpc`, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...headers,
      },
    })
    req.on("upgrade", (res, socket) => {
      socket.destroy()
      resume(Effect.succeed(res.statusCode ?? 0))
    })
    req.on("response", (res) => {
      res.resume()
      resume(Effect.succeed(res.statusCode ?? 0))
    })
    req.on("error", (e) => resume(Effect.die(e)))
    req.end()
  }).pipe(Effect.timeout("5 seconds"), Effect.orDie)

describe("/rpc access", () => {
  const server = sharedServer(rpcTestServer({ access: { token: Redacted.make(token) } }))

  it.live("a WebSocket to /rpc without the token is refused with 401; with it, it is upgraded", () =>
    Effect.gen(function* () {
      const { url } = server()
      expect(yield* upgradeStatus(url)).toBe(401)
      expect(yield* upgradeStatus(url, { authorization: "Bearer not-the-token-at-all-00000" })).toBe(401)
      expect(yield* upgradeStatus(url, { authorization: `Bearer ${token}` })).toBe(101)
    }),
  )
})

describe("/rpc at shutdown", () => {
  it.live(
    "a server closing under a subscribed client ends promptly and the client's stream fails",
    () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const { url } = Context.get(yield* Layer.buildWithScope(rpcTestServer(), scope), RpcTestServer)
        const clientScope = yield* Scope.make()
        const client = yield* uiClient(url).pipe(Scope.extend(clientScope))
        const board = yield* client.Board({ version: 1 }).pipe(Stream.runDrain, Effect.fork)
        // Subscribed: a call behind the subscription on the same socket has been answered.
        yield* client.Settings()
        const closed = yield* Scope.close(scope, Exit.void).pipe(Effect.timed, Effect.timeout("10 seconds"))
        expect(Duration.toMillis(closed[0])).toBeLessThan(8_000)
        const ended = yield* Fiber.await(board).pipe(Effect.timeout("10 seconds"))
        expect(Exit.isFailure(ended)).toBe(true)
        yield* Scope.close(clientScope, Exit.void)
      }),
    30_000,
  )
})
