// test/support/server.ts — the real huskies server (store, /mcp, /health) in-process on 127.0.0.1
// with an ephemeral port, for a temp project; closed and removed after the test.
import { Deferred, Effect, Layer, Scope } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { LogsLive } from "../../src/layers/Logs.js"
import { serverLayer } from "../../src/transports/cli/serve.js"
import { tempDir } from "./store.js"

export interface TestServer {
  readonly url: string
  readonly root: string
}

/** Starts a server for a fresh temp project, runs `body`, then shuts it down and removes the project. */
export const withServer = async <A>(body: (server: TestServer) => Promise<A>): Promise<A> => {
  const { dir, cleanup } = tempDir()
  mkdirSync(join(dir, ".huskies"), { recursive: true })
  const scope = Effect.runSync(Scope.make())
  try {
    const url = await Effect.runPromise(
      Effect.gen(function* () {
        const bound = yield* Deferred.make<string>()
        const layer = serverLayer(
          dir,
          { port: 0, host: "127.0.0.1", durability: "normal", autoAssign: false, mergeQueue: false },
          (u) => Deferred.succeed(bound, u).pipe(Effect.asVoid),
        ).pipe(Layer.provide(LogsLive({ write: () => undefined })))
        yield* Layer.buildWithScope(layer, scope)
        return yield* Deferred.await(bound)
      }),
    )
    return await body({ url, root: dir })
  } finally {
    await Effect.runPromise(Scope.close(scope, Effect.void.pipe(Effect.exit) as never))
    cleanup()
  }
}
