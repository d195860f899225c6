// test/support/server.ts — the real huskies server (store, /mcp, /health) in-process on 127.0.0.1
// with an ephemeral port, for a temp project; closed and removed after the test.
import { Deferred, Effect, Layer, Scope } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { LogsLive } from "../../src/layers/Logs.js"
import { reachableUrl } from "../../src/transports/cli/mcpConfig.js"
import { serverLayer } from "../../src/transports/cli/serve.js"
import type { AccessSettings } from "../../src/transports/http/AccessGuard.js"
import { tempDir } from "./tempDir.js"

export interface TestServer {
  /** Where to connect: always 127.0.0.1, also when the server is bound to 0.0.0.0. */
  readonly url: string
  readonly root: string
}

export interface TestServerOptions {
  /** Address to bind (default 127.0.0.1); a wildcard one is still reached through 127.0.0.1. */
  readonly host?: string
  readonly access?: AccessSettings
}

/** Starts a server for a fresh temp project, runs `body`, then shuts it down and removes the project. */
export const withServer = async <A>(
  body: (server: TestServer) => Promise<A>,
  options: TestServerOptions = {},
): Promise<A> => {
  const { dir, cleanup } = tempDir()
  mkdirSync(join(dir, ".huskies"), { recursive: true })
  const scope = Effect.runSync(Scope.make())
  try {
    const url = await Effect.runPromise(
      Effect.gen(function* () {
        const bound = yield* Deferred.make<string>()
        const layer = serverLayer(
          dir,
          {
            port: 0,
            host: options.host ?? "127.0.0.1",
            durability: "normal",
            autoAssign: false,
            mergeQueue: false,
            ...(options.access === undefined ? {} : { access: options.access }),
          },
          (u) => Deferred.succeed(bound, reachableUrl(u)).pipe(Effect.asVoid),
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
