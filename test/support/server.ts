// test/support/server.ts — the real huskies server (store, /mcp, /health) in-process on 127.0.0.1
// with an ephemeral port, for a temp project; closed and removed after the test (or the file's tests).
import { Context, Deferred, Effect, Exit, Layer, LogLevel, Scope } from "effect"
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { LogsLive } from "../../src/layers/Logs.js"
import { reachableUrl } from "../../src/transports/cli/mcpConfig.js"
import { serverLayer } from "../../src/transports/cli/serve.js"
import type { AccessSettings } from "../../src/transports/http/AccessGuard.js"
import { scopedTempDir } from "./tempDir.js"

export interface TestServerInfo {
  /** Where to connect: always 127.0.0.1, also when the server is bound to 0.0.0.0. */
  readonly url: string
  readonly root: string
}

export interface TestServerOptions {
  /** Address to bind (default 127.0.0.1); a wildcard one is still reached through 127.0.0.1. */
  readonly host?: string
  readonly access?: AccessSettings
  /** The built web app to serve at / (default: the package's dist/web). */
  readonly webRoot?: string
}

/** The running server of a `testServer` layer. */
export class TestServer extends Context.Tag("test/TestServer")<TestServer, TestServerInfo>() {}

/**
 * A server for a fresh temp project as a layer: shut down and removed when the layer's scope closes.
 * A file whose tests can share one server gives it to `layer(testServer())` of @effect/vitest.
 */
export const testServer = (options: TestServerOptions = {}): Layer.Layer<TestServer> =>
  Layer.scoped(
    TestServer,
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      mkdirSync(join(dir, ".huskies"), { recursive: true })
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
          ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
        },
        (u) => Deferred.succeed(bound, reachableUrl(u)).pipe(Effect.asVoid),
      ).pipe(Layer.provide(LogsLive({ write: () => undefined })))
      yield* Layer.build(layer).pipe(Effect.orDie)
      return { url: yield* Deferred.await(bound), root: dir }
    }),
  )

/** Starts a server for a fresh temp project, runs `body`, then shuts it down and removes the project. */
export const withServer = async <A>(
  body: (server: TestServerInfo) => Promise<A>,
  options: TestServerOptions = {},
): Promise<A> => {
  const scope = Effect.runSync(Scope.make())
  try {
    const context = await Effect.runPromise(Layer.buildWithScope(testServer(options), scope))
    return await body(Context.get(context, TestServer))
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/**
 * Servers started from a file's beforeAll (outside Effect): `start` builds one and gives its URL,
 * `close` (afterAll) stops every server it started.
 */
export const serversForFile = () => {
  const scope = Effect.runSync(Scope.make())
  return {
    start: async (options: TestServerOptions): Promise<string> => {
      const context = await Effect.runPromise(Layer.buildWithScope(testServer(options), scope))
      return Context.get(context, TestServer).url
    },
    close: () => Effect.runPromise(Scope.close(scope, Exit.void)),
  }
}

/** Makes `script` the project's one agent, coder-1 of runtime "command" (the script sits beside the repository). */
export const writeOneAgent = (root: string, script: string): void => {
  const path = join(root, "..", "agent.sh")
  writeFileSync(path, script)
  chmodSync(path, 0o755)
  mkdirSync(join(root, ".huskies"), { recursive: true })
  writeFileSync(
    join(root, ".huskies", "agents.toml"),
    `[[agent]]\nname = "coder-1"\nstage = "coder"\nruntime = "command"\ncommand = ["${path}"]\n`,
  )
}

/**
 * Builds serve's layers for the project at `root` on an ephemeral port of 127.0.0.1, starting nothing by
 * itself, for the enclosing scope: its URL once bound and what its layers built. Silent unless the
 * environment sets `debugEnv`, which writes its logs, debug level included, to stderr.
 */
export const serveProject = (
  root: string,
  options: { readonly access?: AccessSettings; readonly debugEnv: string },
) =>
  Effect.gen(function* () {
    const debug = process.env[options.debugEnv] !== undefined && process.env[options.debugEnv] !== ""
    const bound = yield* Deferred.make<string>()
    const layer = serverLayer(
      root,
      {
        port: 0,
        host: "127.0.0.1",
        durability: "normal",
        autoAssign: false,
        mergeQueue: false,
        ...(options.access === undefined ? {} : { access: options.access }),
      },
      (u) => Deferred.succeed(bound, reachableUrl(u)).pipe(Effect.asVoid),
    ).pipe(
      Layer.provide(
        LogsLive(
          debug
            ? { write: (l) => void process.stderr.write(l), minimumLevel: LogLevel.Debug }
            : { write: () => undefined },
        ),
      ),
    )
    const context = yield* Layer.build(layer).pipe(Effect.orDie)
    return { url: yield* Deferred.await(bound), context }
  })
