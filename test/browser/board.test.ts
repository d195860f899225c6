// test/browser/board.test.ts — the board in real Chromium against the real `huskies serve`: a story filed
// over MCP shows up live, a move made in the UI is what MCP sees, and a server restarted under the open
// page is reconnected to without a reload and without duplicate cards. One server, one browser.
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openPage, screenshot, useChromium } from "./support/chromium.js"
import {
  connectMcp,
  type Huskies,
  makeProject,
  type Mcp,
  type Project,
  serve,
  stageOverMcp,
} from "./support/huskies.js"

const projectToml = 'base_branch = "main"\nauto_assign = false\n'

let project: Project
let server: Huskies
let mcp: Mcp
const browser = useChromium()

beforeAll(async () => {
  project = await makeProject({ projectToml })
  server = await serve(project)
  mcp = await connectMcp(server.url)
})

afterAll(async () => {
  await mcp?.close()
  await server?.stop("SIGTERM")
  project?.remove()
})

const fileStory = async (name: string, extra: Record<string, unknown> = {}) => {
  const created = await mcp.call("create_story", { name, ...extra })
  return String(created["story_id"])
}

const numberOf = (id: string) => Number(id.split("_")[0])

/** The card of `id` wherever it is on the board. */
const card = (page: Page, id: string) => page.locator(`article[data-id="${id}"]`)

/** The ids of every card on the page, once per card element. */
const cardIds = (page: Page) =>
  page.evaluate('[...document.querySelectorAll("article[data-id]")].map((c) => c.dataset.id)') as Promise<
    Array<string>
  >

/** The board column whose heading starts with `label` (Backlog, Coding, QA, Merge, Done, Archived). */
const column = (page: Page, label: string) => page.getByRole("region", { name: new RegExp(`^${label}\\b`) })

/** Opens the board and waits until it is live (the header's connection status says so). */
const openBoard = async (url: string) => {
  const opened = await openPage(browser())
  await opened.page.goto(url)
  await opened.page
    .getByRole("status")
    .filter({ hasText: /^live$/ })
    .waitFor({ timeout: 10_000 })
  return opened
}

describe("the board", () => {
  it("shows a story filed over MCP within a second, without a reload", async () => {
    const { page, context, errors } = await openBoard(server.url)
    try {
      await page.evaluate("window.__notReloaded = true")
      const sent = Date.now()
      const id = await fileStory("Appears live", { acceptance_criteria: ["it shows", "it moves"] })
      const left = 1_000 - (Date.now() - sent)
      await column(page, "Backlog")
        .getByRole("article", { name: `${numberOf(id)} Appears live` })
        .waitFor({
          timeout: Math.max(left, 1),
        })
      expect(await page.evaluate("window.__notReloaded")).toBe(true)
      await screenshot(page, "board")
      expect(errors()).toEqual([])
    } finally {
      await context.close()
    }
  })

  it("moves an item from its page, and MCP status sees the move", async () => {
    const id = await fileStory("Moved in the UI")
    const { page, context, errors } = await openBoard(server.url)
    try {
      await card(page, id).getByRole("link").click()
      await page.getByRole("heading", { name: /Moved in the UI/ }).waitFor({ timeout: 5_000 })
      await screenshot(page, "item")
      const move = page.getByRole("combobox", { name: /move to/i })
      await move.selectOption({ label: "Archived" })
      await page.getByRole("button", { name: /^move$/i }).click()
      // The page shows the new stage once the server's change came back over the live feed.
      await page
        .locator(".item-head .stage")
        .filter({ hasText: /Archived/ })
        .waitFor({ timeout: 5_000 })
      expect(await stageOverMcp(mcp, id)).toBe("Archived")
      expect(errors()).toEqual([])
    } finally {
      await context.close()
    }
  })

  it("files an item with the New item form, and MCP status sees it", async () => {
    const { page, context, errors } = await openBoard(server.url)
    try {
      await page.getByRole("button", { name: "New item" }).click()
      const form = page.getByRole("dialog", { name: "New item" })
      await form.getByRole("textbox", { name: "Name", exact: true }).fill("Filed in the browser")
      await form.getByRole("textbox", { name: "Criterion 1", exact: true }).fill("has a criterion")
      await form.getByRole("button", { name: "Create" }).click()
      // The form opens the new item's page: its id is in the address.
      await page.waitForURL(/#\/item\/\d+_story_/, { timeout: 5_000 })
      const id = decodeURIComponent(new URL(page.url()).hash.replace("#/item/", ""))
      const status = await mcp.call("status", { story_id: id })
      expect(status["name"]).toBe("Filed in the browser")
      expect(status["stage"]).toMatchObject({ _tag: "Backlog" })
      expect(JSON.stringify(status["todos"])).toContain("has a criterion")
      expect(errors()).toEqual([])
    } finally {
      await context.close()
    }
  })

  it("moves an item with the command bar, and shows a refusal as MCP words it", async () => {
    const id = await fileStory("Moved by a command")
    const refusal = await mcp.refusal("move_story", { story_id: id, to: "done" })
    const { page, context, errors } = await openBoard(server.url)
    try {
      const command = page.getByRole("textbox", { name: "Command" })
      const reply = page.getByRole("region", { name: "Command reply" })
      await command.fill(`move ${numberOf(id)} done`)
      await command.press("Enter")
      await reply.getByRole("alert").filter({ hasText: refusal }).waitFor({ timeout: 5_000 })
      expect(await stageOverMcp(mcp, id)).toBe("Backlog")
      await command.fill(`move ${numberOf(id)} archived`)
      await command.press("Enter")
      await reply.getByRole("status").waitFor({ timeout: 5_000 })
      expect(await stageOverMcp(mcp, id)).toBe("Archived")
      expect(errors()).toEqual([])
    } finally {
      await context.close()
    }
  })

  it("asks the server nothing while nothing changes: no polling, only the socket's keepalive", async () => {
    const id = await fileStory("Left alone")
    const { page, context, errors } = await openPage(browser())
    try {
      const traffic: Array<string> = []
      let watching = false
      page.on("request", (r) => {
        if (watching) traffic.push(`request ${r.url()}`)
      })
      page.on("websocket", (ws) =>
        ws.on("framesent", (f) => {
          const text = String(f.payload)
          // The keepalive, and the acknowledgement of a message the server pushed, are not asking.
          if (watching && !/^\{"_tag":"(Ping|Ack)"/.test(text)) traffic.push(`sent ${text.slice(0, 120)}`)
        }),
      )
      await page.goto(server.url)
      const views: ReadonlyArray<readonly [string, () => Promise<void>]> = [
        ["#/", () => card(page, id).waitFor({ timeout: 10_000 })],
        [
          `#/item/${id}`,
          () => page.getByRole("heading", { name: /Left alone/ }).waitFor({ timeout: 10_000 }),
        ],
        ["#/decisions", () => page.getByRole("heading", { name: "Decisions" }).waitFor({ timeout: 10_000 })],
      ]
      for (const [hash, shown] of views) {
        await page.goto(`${server.url}/${hash}`)
        await page
          .getByRole("status")
          .filter({ hasText: /^live$/ })
          .waitFor({ timeout: 10_000 })
        await shown()
        // The view's reads on opening are done within a moment; then an absence needs a window, and
        // three seconds of it catch any polling faster than that.
        await page.waitForTimeout(500)
        watching = true
        await page.waitForTimeout(3_000)
        watching = false
        expect(traffic, `on ${hash}`).toEqual([])
      }
      // The watch sees what the page does ask: a command sent from the command bar.
      watching = true
      await page.getByRole("textbox", { name: "Command" }).fill("help")
      await page.getByRole("textbox", { name: "Command" }).press("Enter")
      await page.getByRole("region", { name: "Command reply" }).waitFor({ timeout: 5_000 })
      expect(traffic.some((t) => t.includes('"tag":"Command"'))).toBe(true)
      expect(errors()).toEqual([])
    } finally {
      await context.close()
    }
  })

  it("reconnects after the server is restarted on the same port: current state, no duplicates, no reload", async () => {
    const kept = await fileStory("Survives the restart")
    const moved = await fileStory("Moved while the page was away")
    const { page, context } = await openBoard(server.url)
    try {
      await card(page, moved).waitFor({ timeout: 5_000 })
      await page.evaluate("window.__notReloaded = true")
      await mcp.close()
      await server.stop("SIGKILL")
      await page
        .getByRole("status")
        .filter({ hasText: /reconnecting/ })
        .waitFor({ timeout: 10_000 })
      server = await serve(project, { port: server.port })
      mcp = await connectMcp(server.url)
      // Changes the page did not see live: one move and one new story.
      await mcp.call("move_story", { story_id: moved, to: "archived" })
      const added = await fileStory("Filed after the restart")
      await page
        .getByRole("status")
        .filter({ hasText: /^live$/ })
        .waitFor({ timeout: 15_000 })
      await card(page, added).waitFor({ timeout: 5_000 })
      await column(page, "Backlog")
        .locator(`article[data-id="${moved}"]`)
        .waitFor({ state: "detached", timeout: 5_000 })
      const archived = column(page, "Archived")
      await archived.getByRole("button", { name: /^Archived/ }).click()
      await archived.locator(`article[data-id="${moved}"]`).waitFor({ timeout: 5_000 })
      expect(await page.evaluate("window.__notReloaded")).toBe(true)
      for (const id of [kept, added]) expect(await card(page, id).count()).toBe(1)
      const ids = await cardIds(page)
      expect(new Set(ids).size).toBe(ids.length)
      expect(await stageOverMcp(mcp, moved)).toBe("Archived")
    } finally {
      await context.close()
    }
  })
})
