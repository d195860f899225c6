// test/transports/http/loginBrowser.test.ts — the login as a person meets it, in Debian's chromium
// against the real server with a token: the login page renders under its own policy, a wrong token is
// named, the right one lands on the page first asked for with the app running, the cookie is out of
// the page's reach, and logging out brings the login page back.
import { existsSync } from "node:fs"
import { Redacted } from "effect"
import { type Browser, chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { withServer } from "../../support/server.js"
import { withTempDir } from "../../support/tempDir.js"
import { appMarker, writeWebFixture } from "../../support/webFixture.js"

const chromiumPath = "/usr/lib/chromium/chromium"
const token = "browser-login-token-0123456789"
let browser: Browser | undefined

beforeAll(async () => {
  // Never skipped: a machine without the browser fails here and says how to get it.
  if (!existsSync(chromiumPath))
    throw new Error(`this test needs Debian's chromium at ${chromiumPath}: apt-get install -y chromium`)
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true })
}, 30_000)

afterAll(async () => {
  await browser?.close()
})

describe("logging in from a browser", () => {
  it("shows the login page, refuses a wrong token, and lands on the app with the right one", async () => {
    await withTempDir(async (dir) => {
      const fixture = writeWebFixture(dir)
      await withServer(
        async ({ url }) => {
          if (browser === undefined) throw new Error("no browser")
          const context = await browser.newContext()
          const page = await context.newPage()
          // Anything the browser refused under a page's policy is reported on its console.
          const refusals: Array<string> = []
          page.on("console", (m) => {
            if (m.text().includes("Content Security Policy")) refusals.push(m.text())
          })

          const first = await page.goto(`${url}/items/3?tab=log`)
          expect(first?.status()).toBe(401)
          expect(await page.title()).toBe("huskies: log in")
          expect(await page.locator(`#${appMarker}`).count()).toBe(0)
          // Its inline style applied (the policy's hash matched it): the field is sized as the page says.
          const sizing = await page.evaluate('getComputedStyle(document.getElementById("token")).boxSizing')
          expect(sizing).toBe("border-box")

          await page.fill("#token", "not-the-token")
          await page.click('button[type="submit"]')
          await expect(page.getByRole("alert").textContent()).resolves.toContain("not this server's token")

          await page.fill("#token", token)
          await Promise.all([page.waitForURL(`${url}/items/3?tab=log`), page.click('button[type="submit"]')])
          await page.waitForFunction(`document.getElementById("${appMarker}")?.textContent === "app loaded"`)
          // HttpOnly: no script of the page can read the session.
          expect(await page.evaluate("document.cookie")).not.toContain("huskies_session")
          const cookies = await context.cookies()
          expect(cookies.find((c) => c.name === "huskies_session")).toMatchObject({
            httpOnly: true,
            sameSite: "Strict",
            path: "/",
          })
          const script = await page.evaluate((path) => fetch(path).then((r) => r.status), fixture.scriptPath)
          expect(script).toBe(200)

          // Logging out from the app (a same-origin fetch carries its Origin, which the guard checks).
          const out = await page.evaluate(() => fetch("/logout", { method: "POST" }).then((r) => r.status))
          expect(out).toBe(204)
          const again = await page.reload()
          expect(again?.status()).toBe(401)
          expect(await page.title()).toBe("huskies: log in")
          expect(refusals).toEqual([])
          await context.close()
        },
        { webRoot: fixture.root, access: { token: Redacted.make(token) } },
      )
    })
  }, 60_000)
})
