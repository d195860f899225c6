// test/nodes/slowLink.ts — a TCP proxy on loopback that holds every chunk for a fixed time before passing it
// on, both ways and in order: a worker dialing through it is a node on a slow link (real sockets, real
// latency), so two nodes' claims made within that time cannot have seen each other. Closed with its scope.
import { Effect, type Scope } from "effect"
import { createConnection, createServer, type Socket } from "node:net"
import { listenScoped } from "../support/listen.js"

export interface SlowLink {
  /** ws://127.0.0.1:<port>: the rendezvous to give the worker. */
  readonly url: string
}

export const makeSlowLink = (target: string, millis: number): Effect.Effect<SlowLink, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { hostname, port } = new URL(target)
    const open = new Set<Socket>()
    // Timers of one duration fire in the order they were set: the chunks keep their order.
    const later = (to: Socket, chunk: Buffer) => setTimeout(() => to.destroyed || to.write(chunk), millis)
    const endLater = (to: Socket) => setTimeout(() => to.end(), millis)
    // Half-open allowed: an end is passed on after the chunks before it, not at once.
    const server = createServer({ allowHalfOpen: true }, (client) => {
      const upstream = createConnection({ host: hostname, port: Number(port), allowHalfOpen: true })
      open.add(client).add(upstream)
      const drop = () => {
        for (const s of [client, upstream]) {
          s.destroy()
          open.delete(s)
        }
      }
      client.on("data", (chunk) => later(upstream, chunk)).on("end", () => endLater(upstream))
      upstream.on("data", (chunk) => later(client, chunk)).on("end", () => endLater(client))
      client.on("error", drop).on("close", () => setTimeout(drop, millis))
      upstream.on("error", drop).on("close", () => setTimeout(drop, millis))
    })
    const listening = yield* listenScoped(server, open)
    return { url: `ws://127.0.0.1:${listening}` }
  })
