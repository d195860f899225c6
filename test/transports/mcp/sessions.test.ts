// test/transports/mcp/sessions.test.ts — /mcp session lifetimes with the MCP SDK's own client over
// real HTTP: clients that close (with DELETE or by going away) free their session, caps make room
// by evicting idle sessions instead of refusing, and a quiet client that is still there keeps its.
import { PipelineViewLive } from "../../../src/actors/PipelineView.js"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Context, Deferred, Effect, Exit, Layer, Schema, Scope } from "effect"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ProjectLive } from "../../../src/layers/Project.js"
import { HttpLive } from "../../../src/transports/http/HttpApp.js"
import {
  McpEndpoint,
  McpEndpointLive,
  type McpEndpointShape,
  type McpOptions,
} from "../../../src/transports/mcp/McpEndpoint.js"
import { getVersion } from "../../../src/transports/tools/inspectTools.js"
import { defineTool, makeRegistry } from "../../../src/transports/tools/Tool.js"
import { storeLayer } from "../../support/store.js"
import { tempDir } from "../../support/tempDir.js"
import { eventuallyPromise, holds } from "../../support/waits.js"

/** Requests of the `hold` tool wait here until the test lets them go. */
const held: Array<() => void> = []
const releaseAll = () => held.splice(0).forEach((release) => release())

const hold = defineTool({
  name: "hold",
  description: "Waits until the test releases it: a request that stays in flight.",
  input: {},
  output: Schema.Struct({}),
  run: () => Effect.async<object>((resume) => void held.push(() => resume(Effect.succeed({})))),
})

const registry = makeRegistry([getVersion, hold])

interface Running {
  readonly url: string
  readonly endpoint: McpEndpointShape
}

/** The real endpoint and HTTP listener on 127.0.0.1 with `options`, for the length of `body`. */
const withEndpoint = async (options: McpOptions, body: (running: Running) => Promise<void>) => {
  const { dir, cleanup } = tempDir()
  const scope = Effect.runSync(Scope.make())
  try {
    const running = await Effect.runPromise(
      Effect.gen(function* () {
        const bound = yield* Deferred.make<string>()
        // /health, behind the same listener, reads the Store's view and the Project.
        const services = Layer.merge(
          PipelineViewLive.pipe(Layer.provide(storeLayer(join(dir, "h.db")))),
          ProjectLive(dir, Date.now()),
        )
        const mcp = McpEndpointLive(registry, options).pipe(Layer.provideMerge(services))
        const http = HttpLive({ port: 0, host: "127.0.0.1" }, (u) =>
          Deferred.succeed(bound, u).pipe(Effect.asVoid),
        )
        const context = yield* Layer.buildWithScope(http.pipe(Layer.provideMerge(mcp)), scope)
        return { url: yield* Deferred.await(bound), endpoint: Context.get(context, McpEndpoint) }
      }),
    )
    await body(running)
  } finally {
    releaseAll()
    await Effect.runPromise(Scope.close(scope, Exit.void))
    cleanup()
  }
}

const connect = async (url: string) => {
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`))
  const client = new Client({ name: "sessions-test", version: "1" })
  await client.connect(transport)
  return { client, transport }
}

const version = (client: Client) => client.callTool({ name: "get_version", arguments: {} })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const post = (url: string, body: unknown, session?: string) =>
  fetch(`${url}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(session === undefined ? {} : { "mcp-session-id": session }),
    },
    body: JSON.stringify(body),
  })

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
}

describe("/mcp sessions", () => {
  it("serves 330 clients in turn that call a tool and close (264 by going away, 66 with DELETE), and frees them all", async () => {
    // The default caps (256 open, 64 per client) with a short grace, so the test need not wait long.
    // Before sessions were freed, the 257th client that went away left every later one a 503.
    await withEndpoint({ streamGraceMillis: 200 }, async ({ url, endpoint }) => {
      let next = 0
      const failures: Array<string> = []
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < 330) {
            const n = next++
            try {
              const { client, transport } = await connect(url)
              const result = await version(client)
              if (result.isError === true) failures.push(`${n}: ${JSON.stringify(result.content)}`)
              if (n % 5 === 0) await transport.terminateSession()
              await client.close()
            } catch (error) {
              failures.push(`${n}: ${String(error)}`)
            }
          }
        }),
      )
      expect(failures).toEqual([])
      await eventuallyPromise("every session to be freed", () => holds(endpoint.sessionCount() === 0), {
        millis: 10_000,
      })
    })
  })

  it("frees a session at once on DELETE and answers its id with 404 afterwards", async () => {
    await withEndpoint({ streamGraceMillis: 60_000, idleMillis: 60_000 }, async ({ url, endpoint }) => {
      const { client, transport } = await connect(url)
      await version(client)
      const id = transport.sessionId
      expect(endpoint.sessionCount()).toBe(1)
      await transport.terminateSession()
      expect(endpoint.sessionCount()).toBe(0)
      await client.close()
      const after = await post(url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, id)
      expect(after.status).toBe(404)
      expect(await after.text()).toContain("send initialize")
    })
  })

  it("frees the session of a client that went away once its event stream has been closed for the grace", async () => {
    await withEndpoint({ streamGraceMillis: 300, idleMillis: 60_000 }, async ({ url, endpoint }) => {
      const { client } = await connect(url)
      await version(client)
      // The client opens its event stream after initialize; the session is kept while it is open.
      await sleep(100)
      expect(endpoint.sessionCount()).toBe(1)
      await client.close()
      await eventuallyPromise("every session to be freed", () => holds(endpoint.sessionCount() === 0), {
        millis: 10_000,
      })
    })
  })

  it("keeps a quiet client that is still connected, well past every timeout", async () => {
    await withEndpoint({ streamGraceMillis: 100, idleMillis: 200 }, async ({ url, endpoint }) => {
      const { client } = await connect(url)
      try {
        await version(client)
        await sleep(1_000)
        expect(endpoint.sessionCount()).toBe(1)
        const again = await version(client)
        expect(again.isError).toBeFalsy()
      } finally {
        await client.close()
      }
    })
  })

  it("closes a session that never opened an event stream after the idle timeout; its id then gets 404", async () => {
    await withEndpoint({ streamGraceMillis: 60_000, idleMillis: 300 }, async ({ url, endpoint }) => {
      const opened = await post(url, initialize)
      expect(opened.status).toBe(200)
      const id = opened.headers.get("mcp-session-id") ?? ""
      await opened.body?.cancel()
      expect(endpoint.sessionCount()).toBe(1)
      // Requests keep it open: each one restarts the idle time.
      for (let i = 0; i < 4; i++) {
        await sleep(150)
        const ping = await post(url, { jsonrpc: "2.0", id: 10 + i, method: "ping" }, id)
        expect(ping.status).toBe(200)
        await ping.body?.cancel()
      }
      await eventuallyPromise("every session to be freed", () => holds(endpoint.sessionCount() === 0), {
        millis: 10_000,
      })
      const late = await post(url, { jsonrpc: "2.0", id: 20, method: "ping" }, id)
      expect(late.status).toBe(404)
      await late.body?.cancel()
    })
  })

  it("at a client's cap, evicts its least recently used idle session, never a busy one; 503 only when all are busy", async () => {
    const limits = { maxSessionsPerClient: 3, streamGraceMillis: 60_000, idleMillis: 60_000 }
    await withEndpoint(limits, async ({ url, endpoint }) => {
      const [a, b, c] = [await connect(url), await connect(url), await connect(url)]
      const clients = [a, b, c]
      try {
        // b is busy (a request in flight), c was used last: a is the least recently used idle one.
        const busy = b.client.callTool({ name: "hold", arguments: {} })
        await eventuallyPromise("1 held request", () => holds(held.length === 1))
        await version(c.client)
        const d = await connect(url)
        clients.push(d)
        expect(endpoint.sessionCount()).toBe(3)
        await expect(version(a.client)).rejects.toThrow(/404|Session not found/)
        expect((await version(c.client)).isError).toBeFalsy()
        expect((await version(d.client)).isError).toBeFalsy()
        // Every session busy: the next client is refused, and told why.
        const inFlight = [c, d].map((x) => x.client.callTool({ name: "hold", arguments: {} }))
        await eventuallyPromise("3 held requests", () => holds(held.length === 3))
        const refused = await post(url, initialize)
        expect(refused.status).toBe(503)
        expect(await refused.text()).toContain("request still running")
        releaseAll()
        await Promise.all([busy, ...inFlight])
        expect(endpoint.sessionCount()).toBe(3)
      } finally {
        await Promise.all(clients.map((x) => x.client.close()))
      }
    })
  })
})
