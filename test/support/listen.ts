// test/support/listen.ts — a node:net or node:http server listening on an ephemeral port of 127.0.0.1 for
// the enclosing scope: its port now, and when the scope closes the connections it holds are destroyed and
// the server is closed.
import { Effect, type Scope } from "effect"
import type { Server } from "node:net"

export const listenScoped = (
  server: Server,
  open: Iterable<{ destroy(): unknown }>,
): Effect.Effect<number, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<number>((resume) => {
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
      })
    }),
    () =>
      Effect.async<void>((resume) => {
        for (const s of open) s.destroy()
        server.close(() => resume(Effect.void))
      }),
  )
