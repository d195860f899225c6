// test/transports/http/login.test.ts — a browser's way in on a server with a token in force (bound to
// 127.0.0.1 with a token: the same guard as a LAN bind): the login page and nothing else without a
// credential, POST /login -> session cookie, the cookie on pages, assets and WebSocket upgrades,
// logout, the limit on failed logins, and no login at all on loopback without a token.
import { Redacted } from "effect"
import { createHash } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { failureWindowMillis, maxFailures } from "../../../src/transports/http/sessions.js"
import { serversForFile, withServer } from "../../support/server.js"
import { tempDir } from "../../support/tempDir.js"
import {
  type Answer,
  appMarker,
  cspOf,
  send,
  type WebFixture,
  writeWebFixture,
} from "../../support/webFixture.js"

const token = "login-test-token-0123456789abcdef"
const dir = tempDir()
let fixture: WebFixture
let url: string
const servers = serversForFile()
const start = servers.start

beforeAll(async () => {
  fixture = writeWebFixture(dir.dir)
  url = await start({ webRoot: fixture.root, access: { token: Redacted.make(token) } })
}, 30_000)

afterAll(async () => {
  await servers.close()
  dir.cleanup()
})

const html = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" }
const upgrade = { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13" }
const jsonLogin = (value: string, headers: Record<string, string> = {}) =>
  send(url, {
    method: "POST",
    path: "/login",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ token: value }),
  })

const setCookie = (answer: Answer): string => {
  const header = answer.headers["set-cookie"]
  expect(header).toBeDefined()
  return (Array.isArray(header) ? header : [String(header)]).join("\n")
}

/** Logs in with JSON and returns the Cookie header a browser would send back. */
const login = async (): Promise<string> => {
  const answer = await jsonLogin(token)
  expect(answer.status).toBe(204)
  const cookie = setCookie(answer).split(";")[0]
  expect(cookie).toMatch(/^huskies_session=[A-Za-z0-9_-]{40,}$/)
  return cookie ?? ""
}

describe("without a credential", () => {
  it("a page gets the login page with 401: a form, no script, no app, nothing of the project", async () => {
    for (const path of ["/", "/items/12_story_x", "/login"]) {
      const page = await send(url, { path, headers: html })
      expect(page.status, path).toBe(401)
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8")
      expect(page.headers["cache-control"]).toBe("no-store")
      expect(page.body).toContain('<form method="post" action="/login">')
      expect(page.body).toContain('name="token"')
      expect(page.body).not.toMatch(/<script/i)
      expect(page.body).not.toContain(appMarker)
      expect(page.body).not.toContain("/assets/")
      expect(page.body).not.toContain(dir.dir)
    }
    const deep = await send(url, { path: "/items/12?tab=log", headers: html })
    expect(deep.body).toContain('name="next" value="/items/12?tab=log"')
  })

  it("the login page's policy loads nothing and runs nothing, and admits exactly its own style", async () => {
    const page = await send(url, { path: "/", headers: html })
    const csp = cspOf(page)
    expect(csp.get("default-src")).toBe("'none'")
    expect(csp.get("script-src")).toBeUndefined()
    expect(csp.get("frame-ancestors")).toBe("'none'")
    expect(csp.get("form-action")).toBe("'self'")
    const style = /<style>([\s\S]*?)<\/style>/.exec(page.body)?.[1] ?? ""
    const hash = createHash("sha256").update(style, "utf8").digest("base64")
    expect(csp.get("style-src")).toBe(`'sha256-${hash}'`)
    expect(page.headers["x-frame-options"]).toBe("DENY")
    expect(page.headers["x-content-type-options"]).toBe("nosniff")
  })

  it("everything else stays 401 JSON: assets, /health, /mcp, a script's GET", async () => {
    for (const [path, headers] of [
      [fixture.scriptPath, {}],
      [fixture.scriptPath, html],
      ["/health", html],
      ["/items/12", { accept: "application/json" }],
    ] as const) {
      const answer = await send(url, { path, headers })
      expect(answer.status, path).toBe(401)
      expect(JSON.parse(answer.body), path).toEqual({ error: "unauthorized" })
      expect(answer.body).not.toContain(fixture.script.slice(0, 30))
    }
    const mcp = await send(url, {
      method: "POST",
      path: "/mcp",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: "{}",
    })
    expect(mcp.status).toBe(401)
  })

  it("a WebSocket upgrade is refused, also with a session id the server never minted", async () => {
    expect((await send(url, { path: "/rpc", headers: upgrade })).status).toBe(401)
    const forged = await send(url, {
      path: "/rpc",
      headers: { ...upgrade, cookie: `huskies_session=${"A".repeat(43)}` },
    })
    expect(forged.status).toBe(401)
    // The token itself is not a session.
    const raw = await send(url, { path: "/rpc", headers: { ...upgrade, cookie: `huskies_session=${token}` } })
    expect(raw.status).toBe(401)
  })
})

describe("POST /login", () => {
  it("with a wrong token: 401 and a clear message, as JSON or as the form's page", async () => {
    const json = await jsonLogin("not-the-token")
    expect(json.status).toBe(401)
    expect((JSON.parse(json.body) as { error: string }).error).toContain("not this server's token")
    expect(json.headers["set-cookie"]).toBeUndefined()
    const form = await send(url, {
      method: "POST",
      path: "/login",
      headers: { ...html, "content-type": "application/x-www-form-urlencoded" },
      body: "token=wrong&next=%2Fitems%2F3",
    })
    expect(form.status).toBe(401)
    expect(form.body).toContain('role="alert"')
    expect(form.body).toContain("not this server&#39;s token")
    expect(form.body).toContain('name="next" value="/items/3"')
    expect(form.headers["set-cookie"]).toBeUndefined()
  })

  it("with the token: a session cookie that is HttpOnly, SameSite=Strict, not Secure over http, not the token", async () => {
    const answer = await jsonLogin(token)
    expect(answer.status).toBe(204)
    const cookie = setCookie(answer)
    expect(cookie).toContain("HttpOnly")
    expect(cookie).toContain("SameSite=Strict")
    expect(cookie).toContain("Path=/")
    expect(cookie).toMatch(/Max-Age=\d+/)
    expect(cookie).not.toContain("Secure")
    expect(cookie).not.toContain(token)
    // Each login is its own session.
    expect(await login()).not.toBe(await login())
  })

  it("from the form: 303 back to the page asked for, never to another site", async () => {
    const post = (next: string) =>
      send(url, {
        method: "POST",
        path: "/login",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin: `http://127.0.0.1:${new URL(url).port}`,
        },
        body: new URLSearchParams({ token, next }).toString(),
      })
    const back = await post("/items/3?tab=log")
    expect(back.status).toBe(303)
    expect(back.headers.location).toBe("/items/3?tab=log")
    expect(setCookie(back)).toContain("huskies_session=")
    for (const next of ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)"])
      expect((await post(next)).headers.location, next).toBe("/")
  })

  it("from a page on another site is refused by the Origin check", async () => {
    const answer = await jsonLogin(token, { origin: "http://evil.example" })
    expect(answer.status).toBe(403)
    expect(answer.headers["set-cookie"]).toBeUndefined()
  })

  it("refuses a body it cannot read, naming what to send", async () => {
    const answer = await send(url, {
      method: "POST",
      path: "/login",
      headers: { "content-type": "application/json" },
      body: '{"tok": 1}',
    })
    expect(answer.status).toBe(400)
    expect(answer.body).toContain("token")
    const text = await send(url, {
      method: "POST",
      path: "/login",
      headers: { "content-type": "text/plain" },
      body: token,
    })
    expect(text.status).toBe(415)
  })
})

describe("with the session cookie", () => {
  it("the app, its assets and the API are served", async () => {
    const cookie = await login()
    const page = await send(url, { path: "/", headers: { ...html, cookie } })
    expect(page.status).toBe(200)
    expect(page.body).toBe(fixture.indexHtml)
    expect((await send(url, { path: "/items/4", headers: { ...html, cookie } })).body).toContain(appMarker)
    const script = await send(url, { path: fixture.scriptPath, headers: { cookie } })
    expect(script.status).toBe(200)
    expect(script.body).toBe(fixture.script)
    expect((await send(url, { path: "/health", headers: { cookie } })).status).toBe(200)
    // Among other cookies, and after a stale one of ours.
    const crowded = `theme=dark; huskies_session=stale; ${cookie}; other=1`
    expect((await send(url, { path: "/health", headers: { cookie: crowded } })).status).toBe(200)
  })

  it("a WebSocket upgrade is admitted (404 here: this server has no route at /ws)", async () => {
    const cookie = await login()
    const answer = await send(url, { path: "/ws", headers: { ...upgrade, cookie } })
    expect(answer.status).toBe(404)
    expect(answer.body).toContain("no WebSocket route")
  })

  it("POST /logout ends the session: the cookie is cleared and no longer admits", async () => {
    const cookie = await login()
    expect((await send(url, { path: "/health", headers: { cookie } })).status).toBe(200)
    const out = await send(url, { method: "POST", path: "/logout", headers: { cookie } })
    expect(out.status).toBe(204)
    expect(setCookie(out)).toMatch(/^huskies_session=; .*Max-Age=0/)
    expect((await send(url, { path: "/health", headers: { cookie } })).status).toBe(401)
    expect((await send(url, { path: "/", headers: { ...html, cookie } })).body).toContain('action="/login"')
    expect((await send(url, { path: "/ws", headers: { ...upgrade, cookie } })).status).toBe(401)
  })
})

describe("failed logins", () => {
  it(`are limited to ${maxFailures} a minute per address: then even the token waits, with Retry-After`, async () => {
    await withServer(
      async ({ url }) => {
        const attempt = (value: string) =>
          send(url, {
            method: "POST",
            path: "/login",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ token: value }),
          })
        for (let i = 0; i < maxFailures; i++) expect((await attempt(`wrong-${i}`)).status).toBe(401)
        const limited = await attempt(token)
        expect(limited.status).toBe(429)
        expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0)
        expect(Number(limited.headers["retry-after"])).toBeLessThanOrEqual(failureWindowMillis / 1000)
        expect(limited.headers["set-cookie"]).toBeUndefined()
        expect(limited.body).toContain("try again in")
        // The bearer token is not a login and is not limited: MCP clients go on working.
        const bearer = await send(url, { path: "/health", headers: { authorization: `Bearer ${token}` } })
        expect(bearer.status).toBe(200)
      },
      { webRoot: fixture.root, access: { token: Redacted.make(token) } },
    )
  }, 30_000)
})

describe("a loopback server without a token", () => {
  it("has no login: the app is served at once and /login is no route", async () => {
    await withServer(
      async ({ url }) => {
        const page = await send(url, { path: "/", headers: html })
        expect(page.status).toBe(200)
        expect(page.body).toBe(fixture.indexHtml)
        const post = await send(url, {
          method: "POST",
          path: "/login",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token: "anything" }),
        })
        expect(post.status).toBe(404)
        expect(post.headers["set-cookie"]).toBeUndefined()
        expect((await send(url, { path: "/ws", headers: upgrade })).status).toBe(404)
      },
      { webRoot: fixture.root },
    )
  }, 30_000)
})
