// test/browser/agents.test.ts — agents seen and answered in real Chromium against the real `huskies serve`
// with `command` agents: the live terminal while an agent runs and its whole session after it ended, a
// permission request approved in the UI (the agent goes on), a human QA approved in the UI (the item
// merges), and every page rendering. One server, one browser; the agents are one shell script.
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
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

/**
 * The coder: what it does depends on the item's name. "terminal" items print, wait for the test's go
 * file, print again; "flood" items print 200,000 lines (17 MB) once the go file is there; "permission" items ask to run `npm publish` and print the answer; every item ends
 * with a commit on its feature branch, so it can merge.
 */
const coder = `#!/bin/sh
export GIT_AUTHOR_NAME=agent GIT_AUTHOR_EMAIL=agent@huskies.invalid GIT_COMMITTER_NAME=agent GIT_COMMITTER_EMAIL=agent@huskies.invalid
scripts=$(dirname "$0")
cd "$HUSKIES_WORKTREE" || exit 1
case "$HUSKIES_STORY_ID" in
  *terminal*)
    echo "first words of the agent"
    while [ ! -f "$scripts/go-$HUSKIES_STORY_ID" ]; do sleep 0.1; done
    echo "last words of the agent"
    ;;
  *flood*)
    echo "ready to flood"
    while [ ! -f "$scripts/go-$HUSKIES_STORY_ID" ]; do sleep 0.1; done
    awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "flood line %07d of the agent, as long as a real log line is\\n", i }'
    echo "flood ends"
    ;;
  *permission*)
    echo "asking to publish"
    "$scripts/mcp-call.mjs" prompt_permission '{"tool_name":"Bash","input":{"command":"npm publish"}}' || exit 1
    echo "permission answered; going on"
    ;;
esac
echo "work on $HUSKIES_STORY_ID" > "work-$HUSKIES_STORY_ID.txt"
git add -- "work-$HUSKIES_STORY_ID.txt" && git commit -q -m "work on $HUSKIES_STORY_ID"
`

const projectToml = `base_branch = "main"
default_qa = "none"

[permissions]
ask = ["Bash(npm publish*)"]
ask_timeout_secs = 120
`

const agentsToml = ["coder-1", "coder-2"]
  .map(
    (name) =>
      `[[agent]]\nname = "${name}"\nstage = "coder"\nruntime = "command"\ncommand = ["{{scripts}}/coder.sh"]\n` +
      `role = "Runs the test's script"\n`,
  )
  .join("\n")

let project: Project
let server: Huskies
let mcp: Mcp
const browser = useChromium()

beforeAll(async () => {
  project = await makeProject({ name: "webshop", projectToml, agentsToml, scripts: { "coder.sh": coder } })
  server = await serve(project)
  mcp = await connectMcp(server.url)
})

afterAll(async () => {
  await mcp?.close()
  await server?.stop("SIGTERM")
  project?.remove()
})

const fileStory = async (name: string, extra: Record<string, unknown> = {}) =>
  String((await mcp.call("create_story", { name, ...extra }))["story_id"])

const liveStatus = (page: Page) => page.getByRole("status").filter({ hasText: /^live$/ })

/** A page on `hash` of the app, once the board feed is live. */
const open = async (hash: string) => {
  const opened = await openPage(browser())
  await opened.page.goto(`${server.url}/${hash}`)
  await liveStatus(opened.page).waitFor({ timeout: 10_000 })
  return opened
}

const terminal = (page: Page) => page.getByRole("log", { name: "Agent output" })

/** The card of `id` in the Done column, the column opened first (it starts collapsed). */
const doneCard = async (page: Page, id: string, timeout: number) => {
  const done = page.getByRole("region", { name: /^Done\b/ })
  const toggle = done.getByRole("button", { name: /^Done/ })
  if ((await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click()
  await done.locator(`article[data-id="${id}"]`).waitFor({ timeout })
}

describe("agents in the browser", () => {
  it("shows an agent's output live while it runs, and its whole session after it ended", async () => {
    const id = await fileStory("Terminal output")
    const { page, context, errors } = await open(`#/item/${id}`)
    try {
      await terminal(page).getByText("first words of the agent").waitFor({ timeout: 20_000 })
      // Still running: the agent waits for the go file, which only this test writes.
      expect(await terminal(page).getByText("last words of the agent").count()).toBe(0)
      expect(existsSync(join(project.scripts, `go-${id}`))).toBe(false)
      await screenshot(page, "terminal")
      writeFileSync(join(project.scripts, `go-${id}`), "")
      await terminal(page).getByText("last words of the agent").waitFor({ timeout: 10_000 })
      await page
        .getByRole("status")
        .filter({ hasText: /session ended/ })
        .waitFor({ timeout: 10_000 })

      // Afterwards, in a fresh page: the past session, read from its log, whole.
      const later = await open(`#/item/${id}`)
      try {
        const session = later.page.getByRole("combobox", { name: "Session" })
        const past = session.locator("option", { hasText: /^Session 1 · coder-/ })
        await past.waitFor({ state: "attached", timeout: 10_000 })
        await session.selectOption({ label: (await past.textContent()) ?? "" })
        await terminal(later.page).getByText("first words of the agent").waitFor({ timeout: 10_000 })
        await terminal(later.page).getByText("last words of the agent").waitFor({ timeout: 10_000 })
        expect(later.errors()).toEqual([])
      } finally {
        await later.context.close()
      }
      expect(errors()).toEqual([])
    } finally {
      await context.close()
    }
  }, 60_000)

  it("keeps up with a flood of output without holding it all: the page's heap stays small", async () => {
    const id = await fileStory("Flood of output")
    const { page, context, errors } = await open(`#/item/${id}`)
    try {
      await terminal(page).getByText("ready to flood").waitFor({ timeout: 20_000 })
      writeFileSync(join(project.scripts, `go-${id}`), "")
      await terminal(page).getByText("flood ends").waitFor({ timeout: 60_000 })
      const cdp = await context.newCDPSession(page)
      await cdp.send("HeapProfiler.collectGarbage")
      await cdp.send("Performance.enable")
      const { metrics } = await cdp.send("Performance.getMetrics")
      const heap = metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? Number.NaN
      // The 17 MB of text alone would be 34 MB held as JavaScript strings; the terminal keeps its last
      // lines (its scrollback) and drops the rest.
      expect(heap).toBeLessThan(30 * 1024 * 1024)
      expect(errors()).toEqual([])
    } finally {
      await context.close()
    }
  }, 90_000)

  it("shows a permission request as it arrives; approved in the UI, the agent goes on", async () => {
    const id = await fileStory("Permission to publish", { acceptance_criteria: ["publishes"] })
    // Two stories waiting on it make the board's README picture show dependencies too.
    await fileStory("Announce the release", { depends_on: [id], acceptance_criteria: ["a post", "a mail"] })
    await fileStory("Update the changelog", { depends_on: [id] })
    const { page, context, errors } = await open("#/decisions")
    try {
      const request = page.getByRole("article", { name: /^Permission: Bash\b/ })
      await request.waitFor({ timeout: 20_000 })
      expect(await request.getByText("npm publish").count()).toBeGreaterThan(0)
      // The header's badge counts it, and the tab's title too.
      await page.getByLabel("1 pending").waitFor({ timeout: 5_000 })
      expect(await page.title()).toMatch(/^\(1\) /)
      await screenshot(page, "decisions")
      await page.goto(`${server.url}/#/`)
      await page.locator(`article[data-id="${id}"]`).waitFor({ timeout: 5_000 })
      await screenshot(page, "board-readme")
      // The agent's terminal, open in a second page while the person answers in the first.
      const watching = await open(`#/item/${id}`)
      try {
        await terminal(watching.page).getByText("asking to publish").waitFor({ timeout: 10_000 })
        await page.goto(`${server.url}/#/decisions`)
        await request.getByRole("button", { name: "Approve" }).click()
        const answered = Date.now()
        // The agent got the answer and went on within a second: its output says so.
        await terminal(watching.page).getByText("permission answered; going on").waitFor({ timeout: 10_000 })
        expect(Date.now() - answered).toBeLessThan(1_000)
        await request.waitFor({ state: "detached", timeout: 5_000 })
        expect(watching.errors()).toEqual([])
      } finally {
        await watching.context.close()
      }
      // And its work merges.
      await page.goto(`${server.url}/#/`)
      await doneCard(page, id, 30_000)
      expect(await stageOverMcp(mcp, id)).toBe("Done")
      expect(errors()).toEqual([])
    } finally {
      await context.close()
    }
  }, 90_000)

  it("shows a human QA as it arrives; approved in the UI, the item merges", async () => {
    const id = await fileStory("Checked by a person", { qa: "human" })
    const { page, context, errors } = await open("#/decisions")
    try {
      const qa = page.getByRole("article", { name: new RegExp(`^Human QA: #${id.split("_")[0]}\\b`) })
      await qa.waitFor({ timeout: 20_000 })
      expect(await stageOverMcp(mcp, id)).toBe("Qa")
      await qa.getByRole("button", { name: "Approve" }).click()
      await qa.waitFor({ state: "detached", timeout: 5_000 })
      await page.goto(`${server.url}/#/`)
      await doneCard(page, id, 30_000)
      expect(await stageOverMcp(mcp, id)).toBe("Done")
      expect(errors()).toEqual([])
    } finally {
      await context.close()
    }
  }, 90_000)

  it("renders every page with what the server knows, without an error", async () => {
    const { page, context, errors } = await open("#/")
    try {
      const pages: ReadonlyArray<readonly [string, string, () => Promise<void>]> = [
        [
          "agents",
          "Agents",
          () => page.getByRole("table", { name: "Agents" }).getByText("coder-2").waitFor(),
        ],
        [
          "cost",
          "Cost",
          // Every run so far has ended and was recorded, at no cost: command agents report none.
          () => page.getByRole("table", { name: "Cost by agent" }).getByText("coder-1").waitFor(),
        ],
        [
          "logs",
          "Logs",
          () =>
            page
              .getByRole("log", { name: "Server log" })
              .getByText(/merged as/)
              .last()
              .waitFor(),
        ],
        [
          "settings",
          "Settings",
          () =>
            page
              .getByLabel("agents.toml")
              .getByText(/coder\.sh/)
              .waitFor(),
        ],
        [
          "merges",
          "Merge queue",
          // Every item so far has merged.
          () => page.getByText("The merge queue is empty.").waitFor(),
        ],
      ]
      for (const [path, title, loaded] of pages) {
        await page.goto(`${server.url}/#/${path}`)
        await page
          .getByRole("heading", { level: 1, name: new RegExp(`^${title}`) })
          .waitFor({ timeout: 5_000 })
        await loaded()
        await screenshot(page, path)
      }
      expect(errors()).toEqual([])
    } finally {
      await context.close()
    }
  }, 60_000)
})
