// test/transports/http/webAssets.test.ts — the web app served by the real server at /: hashed assets
// cached for a year and compressed, index.html for page paths with its security headers, no path out of
// the build, and a page saying to build when there is none.
import { join } from "node:path"
import { brotliDecompressSync, gunzipSync } from "node:zlib"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { serversForFile, withServer } from "../../support/server.js"
import { tempDir } from "../../support/tempDir.js"
import { appMarker, cspOf, send, type WebFixture, writeWebFixture } from "../../support/webFixture.js"

const dir = tempDir()
let fixture: WebFixture
let url: string
/** One server for the file: these tests only read. */
const servers = serversForFile()
const start = servers.start

beforeAll(async () => {
  fixture = writeWebFixture(dir.dir)
  url = await start({ webRoot: fixture.root })
}, 30_000)

afterAll(async () => {
  await servers.close()
  dir.cleanup()
})

const html = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" }

describe("the web app at /", () => {
  it("serves index.html at / with no-cache and the security headers", async () => {
    const page = await send(url, { path: "/", headers: html })
    expect(page.status).toBe(200)
    expect(page.body).toBe(fixture.indexHtml)
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8")
    expect(page.headers["cache-control"]).toBe("no-cache")
    expect(page.headers["x-content-type-options"]).toBe("nosniff")
    expect(page.headers["x-frame-options"]).toBe("DENY")
    expect(page.headers["referrer-policy"]).toBe("same-origin")
    const csp = cspOf(page)
    expect(csp.get("default-src")).toBe("'self'")
    expect(csp.get("script-src")).toBe("'self'")
    expect(csp.get("connect-src")).toBe("'self'")
    expect(csp.get("frame-ancestors")).toBe("'none'")
    expect(csp.get("object-src")).toBe("'none'")
    // A curl without Accept gets the page at / too.
    expect((await send(url, { path: "/" })).body).toBe(fixture.indexHtml)
  })

  it("answers every page path with index.html (the app routes), but not API paths or a script's GET", async () => {
    for (const path of ["/items/12_story_x", "/board?stage=qa", "/login", "/deep/nested/path"]) {
      const page = await send(url, { path, headers: html })
      expect(page.status, path).toBe(200)
      expect(page.body, path).toContain(appMarker)
    }
    const json = await send(url, { path: "/items/12", headers: { accept: "application/json" } })
    expect(json.status).toBe(404)
    expect(JSON.parse(json.body)).toHaveProperty("error")
    const health = await send(url, { path: "/health", headers: html })
    expect(health.status).toBe(200)
    expect(JSON.parse(health.body)).toHaveProperty("status", "ok")
    expect((await send(url, { path: "/rpc", headers: html })).body).not.toContain(appMarker)
    expect((await send(url, { method: "POST", path: "/", headers: html })).status).toBe(404)
  })

  it("revalidates index.html with its ETag", async () => {
    const first = await send(url, { path: "/", headers: html })
    const etag = String(first.headers.etag)
    const again = await send(url, { path: "/", headers: { ...html, "if-none-match": etag } })
    expect(again.status).toBe(304)
    expect(again.raw.length).toBe(0)
  })

  it("serves a top-level file of the build (favicon) by its own type", async () => {
    const icon = await send(url, { path: "/favicon.svg" })
    expect(icon.status).toBe(200)
    expect(icon.headers["content-type"]).toBe("image/svg+xml")
    expect(icon.headers["cache-control"]).toBe("no-cache")
  })
})

describe("assets", () => {
  it("serve with their type, a year's immutable cache, and no compression the client did not ask for", async () => {
    const script = await send(url, { path: fixture.scriptPath })
    expect(script.status).toBe(200)
    expect(script.body).toBe(fixture.script)
    expect(script.headers["content-type"]).toBe("text/javascript; charset=utf-8")
    expect(script.headers["cache-control"]).toBe("public, max-age=31536000, immutable")
    expect(script.headers["content-encoding"]).toBeUndefined()
    expect(script.headers["x-content-type-options"]).toBe("nosniff")
    expect(script.headers["content-length"]).toBe(String(Buffer.byteLength(fixture.script)))
    const style = await send(url, { path: fixture.stylePath })
    expect(style.headers["content-type"]).toBe("text/css; charset=utf-8")
    expect(style.body).toBe(fixture.style)
  })

  it("are compressed with br or gzip as the client accepts, the same bytes every time", async () => {
    const br = await send(url, {
      path: fixture.scriptPath,
      headers: { "accept-encoding": "gzip, deflate, br" },
    })
    expect(br.headers["content-encoding"]).toBe("br")
    expect(br.headers.vary).toBe("accept-encoding")
    expect(brotliDecompressSync(br.raw).toString("utf8")).toBe(fixture.script)
    expect(br.raw.length).toBeLessThan(Buffer.byteLength(fixture.script))
    const brAgain = await send(url, { path: fixture.scriptPath, headers: { "accept-encoding": "br" } })
    expect(brAgain.raw.equals(br.raw)).toBe(true)

    const gz = await send(url, { path: fixture.scriptPath, headers: { "accept-encoding": "gzip, br;q=0" } })
    expect(gz.headers["content-encoding"]).toBe("gzip")
    expect(gunzipSync(gz.raw).toString("utf8")).toBe(fixture.script)
    expect(gz.headers.etag).not.toBe(br.headers.etag)
  })

  it("use the build's precompressed file when there is one", async () => {
    const br = await send(url, { path: fixture.precompressedPath, headers: { "accept-encoding": "br" } })
    expect(br.headers["content-encoding"]).toBe("br")
    expect(br.raw.equals(fixture.precompressedBr)).toBe(true)
  })

  it("answer HEAD with the headers alone and a conditional GET with 304", async () => {
    const head = await send(url, { method: "HEAD", path: fixture.scriptPath })
    expect(head.status).toBe(200)
    expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(fixture.script)))
    expect(head.raw.length).toBe(0)
    const etag = String(head.headers.etag)
    const cached = await send(url, { path: fixture.scriptPath, headers: { "if-none-match": etag } })
    expect(cached.status).toBe(304)
    expect(cached.headers["cache-control"]).toBe("public, max-age=31536000, immutable")
  })

  it("that do not exist are 404, never the app's page", async () => {
    const missing = await send(url, { path: "/assets/index-nothere.js", headers: html })
    expect(missing.status).toBe(404)
    expect(missing.body).not.toContain(appMarker)
  })
})

describe("paths out of the build", () => {
  it("are refused however they are spelled, and a symlink out of it is not followed", async () => {
    for (const path of [
      "/assets/../../secret.txt",
      "/assets/%2e%2e/%2e%2e/secret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/assets/..%5c..%5csecret.txt",
      "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
      "/assets/%252e%252e/secret.txt",
      "/assets/leak-00000000.js",
      "/assets/%00.js",
      "/assets/%zz",
      "/assets/",
    ]) {
      const answer = await send(url, { path, headers: { accept: "*/*" } })
      expect(answer.status, path).toBe(404)
      expect(answer.body, path).not.toContain(fixture.secret)
    }
    for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/web/../secret.txt"]) {
      const page = await send(url, { path, headers: html })
      expect(page.body, path).not.toContain(fixture.secret)
      expect(page.body, path).toContain(appMarker)
      const script = await send(url, { path })
      expect(script.body, path).not.toContain(fixture.secret)
    }
  })
})

describe("a server whose web app is not built", () => {
  it("answers a page with what to run, and assets with 404", async () => {
    const missing = join(dir.dir, "no-such-build")
    await withServer(
      async ({ url }) => {
        const page = await send(url, { path: "/", headers: html })
        expect(page.status).toBe(503)
        expect(page.headers["content-type"]).toBe("text/html; charset=utf-8")
        expect(page.body).toContain("npm run build")
        expect(cspOf(page).get("default-src")).toBe("'none'")
        expect((await send(url, { path: "/assets/index-x.js" })).status).toBe(404)
        expect((await send(url, { path: "/health" })).status).toBe(200)
      },
      { webRoot: missing },
    )
  }, 30_000)
})
