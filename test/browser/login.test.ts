// test/browser/login.test.ts — a server bound to a token (HUSKIES_TOKEN on 127.0.0.1: the same guard a
// non-loopback bind gets) in real Chromium against the real `huskies serve`: the login page is all a
// browser gets, no app code and no item data reach it before the login, and the token opens the board.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openPage, screenshot, useChromium } from "./support/chromium.js"
import { connectMcp, type Huskies, makeProject, type Project, serve } from "./support/huskies.js"

const token = "browser-test-token-0123456789abcdef"
const secretName = "Quarterly numbers nobody may see"

let project: Project
let server: Huskies
let itemId: string
const browser = useChromium()

beforeAll(async () => {
  project = await makeProject({ projectToml: 'base_branch = "main"\nauto_assign = false\n' })
  server = await serve(project, { env: { HUSKIES_TOKEN: token } })
  const mcp = await connectMcp(server.url, token)
  try {
    itemId = String((await mcp.call("create_story", { name: secretName }))["story_id"])
  } finally {
    await mcp.close()
  }
})

afterAll(async () => {
  await server?.stop("SIGTERM")
  project?.remove()
})

describe("a server bound to a token", () => {
  it("shows only the login page until the token is given, then the board", async () => {
    const { page, context } = await openPage(browser())
    try {
      const requested: Array<string> = []
      const sockets: Array<string> = []
      page.on("request", (r) => requested.push(`${r.method()} ${new URL(r.url()).pathname}`))
      page.on("websocket", (ws) => sockets.push(ws.url()))

      const first = await page.goto(server.url)
      expect(first?.status()).toBe(401)
      await page.getByRole("heading", { name: "Log in to huskies" }).waitFor({ timeout: 5_000 })
      await screenshot(page, "login")
      // Nothing but the page itself (and the icon the browser asks for by itself): no script, no
      // stylesheet of the app, no socket, and nothing of the project in what was sent.
      expect(requested.filter((r) => r !== "GET /favicon.ico")).toEqual(["GET /"])
      expect(sockets).toEqual([])
      const html = await page.content()
      expect(html).not.toContain(secretName)
      expect(html).not.toContain(itemId)
      expect(html).not.toMatch(/<script/i)

      await page.getByLabel("Token").fill(token)
      await Promise.all([
        page.waitForURL(`${server.url}/`),
        page.getByRole("button", { name: "Log in" }).click(),
      ])
      await page
        .getByRole("article", { name: new RegExp(`^${itemId.split("_")[0]} ${secretName}$`) })
        .waitFor({
          timeout: 10_000,
        })
      expect(requested.some((r) => /^GET \/assets\/.+\.js$/.test(r))).toBe(true)
      expect(sockets.map((u) => new URL(u).pathname)).toContain("/rpc")
      const cookies = await context.cookies()
      expect(cookies.find((c) => c.name === "huskies_session")).toMatchObject({
        httpOnly: true,
        sameSite: "Strict",
      })
    } finally {
      await context.close()
    }
  }, 60_000)
})
