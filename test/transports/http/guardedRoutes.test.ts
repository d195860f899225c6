// test/transports/http/guardedRoutes.test.ts — the access guard in front of the real server's routes:
// a DNS-rebinding page and a foreign Origin get 403 on /mcp, /health and unknown paths alike (and
// on WebSocket upgrades), allowed_hosts admits a name, and a token bind answers 401 without it.
import { layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { request as httpRequest } from "node:http"
import { describe, expect, it } from "vitest"
import { TestServer, testServer, withServer } from "../../support/server.js"
import { listItems } from "../../support/mcpClient.js"

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly body: string
}

/** One HTTP request to the server's 127.0.0.1 port with whatever Host and headers a test names. */
const send = (
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const { port } = new URL(url)
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "GET",
        path: options.path,
        headers: options.headers,
        timeout: 5_000,
      },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => (body += chunk))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on("timeout", () => req.destroy(new Error("no answer within 5 s")))
    req.on("error", reject)
    req.end(options.body)
  })

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "page", version: "1" } },
})

const mcpHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream" }

const hostOf = (url: string) => new URL(url).host
const portOf = (url: string) => new URL(url).port

/** Runs a promise-based check against the file's default server. */
const onServer = (body: (url: string) => Promise<void>) =>
  Effect.flatMap(TestServer, ({ url }) => Effect.promise(() => body(url)))

// One default server for these: none of them files anything, so "nothing is filed" holds in any order.
layer(testServer(), { excludeTestServices: true })("the access guard on a loopback bind", (it) => {
  it.effect(
    "refuses the DNS-rebinding page: initialize and create_story get 403 and nothing is filed",
    () =>
      onServer(async (url) => {
        const evil = { ...mcpHeaders, host: `evil.example:${portOf(url)}`, origin: "http://evil.example" }
        const init = await send(url, { method: "POST", path: "/mcp", headers: evil, body: initialize })
        expect(init.status).toBe(403)
        const error = JSON.parse(init.body) as { jsonrpc: string; error: { code: number; message: string } }
        expect(error.jsonrpc).toBe("2.0")
        expect(error.error.message).toContain("allowed_hosts")
        expect(error.error.message).toContain(".huskies/project.toml")
        expect(init.headers["mcp-session-id"]).toBeUndefined()

        // The same page with a session a real client opened gets no further.
        const legit = await send(url, {
          method: "POST",
          path: "/mcp",
          headers: { ...mcpHeaders, host: hostOf(url) },
          body: initialize,
        })
        expect(legit.status).toBe(200)
        const session = String(legit.headers["mcp-session-id"])
        const create = await send(url, {
          method: "POST",
          path: "/mcp",
          headers: { ...evil, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 2,
            method: "tools/call",
            params: { name: "create_story", arguments: { name: "pwned", acceptance_criteria: ["x"] } },
          }),
        })
        expect(create.status).toBe(403)
        expect(await listItems(url)).toEqual([])
      }),
    30_000,
  )

  it.effect(
    "refuses a foreign Origin even with a good Host, and admits this server's own Origin",
    () =>
      onServer(async (url) => {
        const headers = { ...mcpHeaders, host: hostOf(url) }
        const foreign = await send(url, {
          method: "POST",
          path: "/mcp",
          headers: { ...headers, origin: "http://evil.example" },
          body: initialize,
        })
        expect(foreign.status).toBe(403)
        expect(foreign.body).toContain("Origin")
        const own = await send(url, {
          method: "POST",
          path: "/mcp",
          headers: { ...headers, origin: `http://localhost:${portOf(url)}` },
          body: initialize,
        })
        expect(own.status).toBe(200)
      }),
    30_000,
  )

  it.effect(
    "guards /health and unknown paths too",
    () =>
      onServer(async (url) => {
        const evilHost = { host: `evil.example:${portOf(url)}` }
        for (const path of ["/health", "/nowhere"]) {
          const refused = await send(url, { path, headers: evilHost })
          expect(refused.status, path).toBe(403)
          expect((JSON.parse(refused.body) as { error: string }).error).toContain("allowed_hosts")
        }
        expect((await send(url, { path: "/health" })).status).toBe(200)
        expect((await send(url, { path: "/nowhere" })).status).toBe(404)
        expect(
          (await send(url, { path: "/health", headers: { origin: "https://evil.example" } })).status,
        ).toBe(403)
      }),
    30_000,
  )

  it.effect(
    "guards WebSocket upgrades and refuses paths no route serves",
    () =>
      onServer(async (url) => {
        const upgrade = { connection: "Upgrade", upgrade: "websocket" }
        const refused = await send(url, {
          path: "/ws",
          headers: { ...upgrade, host: `evil.example:${portOf(url)}` },
        })
        expect(refused.status).toBe(403)
        const unknown = await send(url, { path: "/ws", headers: upgrade })
        expect(unknown.status).toBe(404)
      }),
    30_000,
  )
})

describe("the access guard on a loopback bind, with access settings", () => {
  it("admits a name listed in allowed_hosts", async () => {
    await withServer(
      async ({ url }) => {
        const named = await send(url, {
          method: "POST",
          path: "/mcp",
          headers: { ...mcpHeaders, host: `huskies.test:${portOf(url)}`, origin: "http://huskies.test:8080" },
          body: initialize,
        })
        expect(named.status).toBe(200)
        expect((await send(url, { path: "/health", headers: { host: "other.test" } })).status).toBe(403)
      },
      { access: { allowedHosts: ["huskies.test"] } },
    )
  }, 30_000)

  it("needs a configured token even on loopback", async () => {
    const token = "loopback-token-0123456789"
    await withServer(
      async ({ url }) => {
        expect((await send(url, { path: "/health" })).status).toBe(401)
        const ok = await send(url, { path: "/health", headers: { authorization: `Bearer ${token}` } })
        expect(ok.status).toBe(200)
      },
      { access: { token: Redacted.make(token) } },
    )
  }, 30_000)
})

describe("a non-loopback bind (0.0.0.0, reached through 127.0.0.1)", () => {
  const token = "lan-token-abcdefghijklmnop"

  it("answers initialize only with the bearer token: 401 without it or with a wrong one", async () => {
    await withServer(
      async ({ url }) => {
        expect(new URL(url).hostname).toBe("127.0.0.1")
        for (const authorization of [undefined, "Bearer wrong-token-0123456789", `Basic ${token}`]) {
          const refused = await send(url, {
            method: "POST",
            path: "/mcp",
            headers: { ...mcpHeaders, ...(authorization === undefined ? {} : { authorization }) },
            body: initialize,
          })
          expect(refused.status, authorization).toBe(401)
          expect(refused.headers["www-authenticate"]).toBe("Bearer")
          const body = JSON.parse(refused.body) as { error: { message: string } }
          expect(body.error.message).toBe("unauthorized")
        }
        expect((await send(url, { path: "/health" })).status).toBe(401)
        expect(await listItems(url, { authorization: `Bearer ${token}` })).toEqual([])
        await expect(listItems(url)).rejects.toThrow()
      },
      { host: "0.0.0.0", access: { token: Redacted.make(token) } },
    )
  }, 30_000)
})
