// test/browser/support/chromium.ts — Debian's chromium driven by playwright-core for the browser tests:
// one browser per test file (a launch costs seconds), pages with a fixed viewport, and screenshots of
// the main views written to test-artifacts/screenshots/.
import { mkdirSync } from "node:fs"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll } from "vitest"

/** Where Debian's chromium package puts the browser itself (/usr/bin/chromium is a shell wrapper). */
export const chromiumPath = "/usr/lib/chromium/chromium"

/** The install line of .ci/run, for the message a machine without chromium gets. */
export const installHint =
  "sudo env TMPDIR=/var/tmp apt-get update && sudo env TMPDIR=/var/tmp DEBIAN_FRONTEND=noninteractive " +
  "apt-get install -y --no-install-recommends chromium fonts-liberation (as .ci/run does)"

export const launchChromium = async (): Promise<Browser> => {
  // Never skipped: a machine without the browser fails these tests and says how to get it.
  if (!existsSync(chromiumPath))
    throw new Error(`the browser tests need Debian's chromium at ${chromiumPath}: run ${installHint}`)
  return chromium.launch({ executablePath: chromiumPath, headless: true })
}

/** The file's browser: launched before its first test, closed after its last. */
export const useChromium = (): (() => Browser) => {
  let browser: Browser | undefined
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
  })
  return () => {
    if (browser === undefined) throw new Error("the browser is not launched yet (use it inside a test)")
    return browser
  }
}

export interface OpenedPage {
  readonly context: BrowserContext
  readonly page: Page
  /** Errors the page threw or logged, for the failure message of a test that goes wrong. */
  readonly errors: () => ReadonlyArray<string>
}

/** A fresh context (no cookies) and page, 1400x900, recording the page's errors. */
export const openPage = async (browser: Browser): Promise<OpenedPage> => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
  const page = await context.newPage()
  const errors: Array<string> = []
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`))
  page.on("console", (m) => {
    // A failed load is reported below with its URL, which this message lacks.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
      errors.push(`console: ${m.text()}`)
  })
  page.on("response", (r) => {
    // The browser asks for /favicon.ico by itself; the app links no icon, so its 404 says nothing.
    if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico")
      errors.push(`${r.status()} ${r.request().method()} ${r.url()}`)
  })
  return { context, page, errors: () => errors }
}

export const screenshotsDir = join(process.cwd(), "test-artifacts", "screenshots")

/** Saves the page as test-artifacts/screenshots/<name>.png and returns the file's path. */
export const screenshot = async (page: Page, name: string): Promise<string> => {
  mkdirSync(screenshotsDir, { recursive: true })
  const path = join(screenshotsDir, `${name}.png`)
  await page.screenshot({ path })
  return path
}
