// test/support/proxy.ts — a TCP proxy on loopback between a worker and the main node, for the partition and
// node RPC tests: `cut` drops every connection through it and refuses new ones until `heal`. Closed with its scope.
import { Effect, type Scope } from "effect"
import { createConnection, createServer, type Socket } from "node:net"
import { listenScoped } from "./listen.js"

export interface Proxy {
  readonly port: number
  /** ws://127.0.0.1:<port>: the rendezvous to give the worker. */
  readonly url: string
  readonly cut: Effect.Effect<void>
  readonly heal: Effect.Effect<void>
}

export const makeProxy = (target: string): Effect.Effect<Proxy, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { hostname, port } = new URL(target)
    const open = new Set<Socket>()
    let cut = false
    const server = createServer((client) => {
      if (cut) return client.destroy()
      const upstream = createConnection({ host: hostname, port: Number(port) })
      open.add(client).add(upstream)
      const drop = () => {
        client.destroy()
        upstream.destroy()
        open.delete(client)
        open.delete(upstream)
      }
      client.on("error", drop).on("close", drop)
      upstream.on("error", drop).on("close", drop)
      client.pipe(upstream).pipe(client)
    })
    const listening = yield* listenScoped(server, open)
    return {
      port: listening,
      url: `ws://127.0.0.1:${listening}`,
      cut: Effect.sync(() => {
        cut = true
        for (const s of open) s.destroy()
        open.clear()
      }),
      heal: Effect.sync(() => {
        cut = false
      }),
    }
  })
