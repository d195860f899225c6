// test/transports/rpc/support.ts — a real huskies server on a real git repository with one `command`
// agent, and a real @effect/rpc client of its /rpc over a Node WebSocket, for the /rpc suites.
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { RpcClient, RpcSerialization } from "@effect/rpc"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { afterAll, beforeAll } from "vitest"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { UiRpcs } from "../../../src/protocol/uiRpcs.js"
import type { AccessSettings } from "../../../src/transports/http/AccessGuard.js"
import { makeGitRepo } from "../../support/gitRepo.js"
import { serveProject, writeOneAgent } from "../../support/server.js"

export interface RpcServerInfo {
  readonly url: string
  readonly root: string
  /** The agent prints its lines, waits until this file exists, prints one more, commits and exits. */
  readonly goFile: string
}

export class RpcTestServer extends Context.Tag("test/RpcTestServer")<RpcTestServer, RpcServerInfo>() {}

const agentScript = (goFile: string) =>
  [
    "#!/bin/sh",
    'echo "hello from the agent"',
    'echo "second line"',
    `while [ ! -f ${goFile} ]; do sleep 0.05; done`,
    'echo "after go"',
    // Work to show: an agent that commits nothing is retried, and its item would get a second session.
    'git commit -q --allow-empty -m "the work"',
    "",
  ].join("\n")

/** The server, its project (a git repo with one commit and agent coder-1) removed when the scope closes. */
export interface RpcTestServerOptions {
  readonly access?: AccessSettings
  /** `.huskies/project.toml`, when the test needs one. */
  readonly projectToml?: string
  /** Fills the project before the server starts (a large board). */
  readonly seed?: (root: string) => Effect.Effect<void>
}

export const rpcTestServer = (options: RpcTestServerOptions = {}): Layer.Layer<RpcTestServer> =>
  Layer.scoped(
    RpcTestServer,
    Effect.gen(function* () {
      const repo = yield* makeGitRepo({ initialCommit: true })
      const root = repo.dir
      const goFile = join(root, "..", "go")
      writeOneAgent(root, agentScript(goFile))
      if (options.projectToml !== undefined)
        writeFileSync(join(root, ".huskies", "project.toml"), options.projectToml)
      if (options.seed !== undefined) yield* options.seed(root)
      const { url } = yield* serveProject(root, { ...options, debugEnv: "RPC_DEBUG" })
      return { url, root, goFile }
    }),
  )

/** An RPC client of the server at `url` (http://…); its socket is closed with the scope. */
export const uiClient = (url: string) =>
  Effect.gen(function* () {
    // Built into the caller's scope: provided to `make` alone, the socket would close as make returns.
    const protocol = yield* Layer.build(
      RpcClient.layerProtocolSocket({ retryTransientErrors: true }).pipe(
        Layer.provide(NodeSocket.layerWebSocket(`${url.replace(/^http/, "ws")}/rpc`)),
        Layer.provide(RpcSerialization.layerNdjson),
      ),
    )
    return yield* RpcClient.make(UiRpcs).pipe(Effect.provide(protocol))
  })

/**
 * Builds `layer` once for the file's tests (before the first, torn down after the last) and returns a
 * getter for its service; the tests run with the live clock, as the server does.
 */
export const sharedServer = (layer: Layer.Layer<RpcTestServer>): (() => RpcServerInfo) => {
  const scope = Effect.runSync(Scope.make())
  let info: RpcServerInfo | undefined
  beforeAll(async () => {
    info = Context.get(await Effect.runPromise(Layer.buildWithScope(layer, scope)), RpcTestServer)
  }, 60_000)
  afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)), 30_000)
  return () => {
    if (info === undefined) throw new Error("the server is not up: sharedServer's beforeAll did not run")
    return info
  }
}

/** The MCP SDK's own client of the server (for answers a schema-decoding helper cannot take), closed with the scope. */
export const rawMcpClient = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new Client({ name: "rpc-test", version: "1" })
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)))
      return client
    }),
    (client) => Effect.promise(() => client.close()),
  )

/** The text of an MCP tool answer's first content block. */
export const firstText = (answer: object): string =>
  ((answer as { readonly content?: ReadonlyArray<{ readonly text?: string }> }).content ?? [])[0]?.text ?? ""
