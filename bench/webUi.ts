// bench/webUi.ts — the web UI in Debian's chromium against the real `huskies serve`: how long a Store
// change takes to reach the board's DOM (items filed and moved over MCP, seen by a MutationObserver in
// the page, against the MCP call's own round trip), the first paint of a 10,000-item board (against a
// one-item board), and the gzip size of the JavaScript index.html loads up front (against the goal).
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { type Browser, chromium, type Page } from "playwright-core"
import { seedBoard } from "./boardProject.js"
import { emit, percentile, repoRoot, scratchDir, wallClockMs } from "./measure.js"
import { firstCardPainted, installProbe, readProbe } from "./pageProbe.js"
import { startServerProcess, stopServerProcess } from "./serverProcess.js"

const chromiumPath = "/usr/lib/chromium/chromium"
const changes = Number(process.env["HUSKIES_BENCH_UI_CHANGES"] ?? 60)
const bigBoard = { backlog: 7_000, archived: 3_000 }
const jsGoalKiB = 250

const project = (dir: string): string => {
  mkdirSync(join(dir, ".huskies"), { recursive: true })
  // No agent starts: the board only changes when this bench says so.
  writeFileSync(join(dir, ".huskies", "project.toml"), "auto_assign = false\n")
  return dir
}

const serve = (root: string) =>
  startServerProcess(
    [join(repoRoot(), "bin", "huskies.js"), "serve", "--port", "0", root],
    /huskies listening on (http:\/\/\S+)/,
  )

/** A fresh context (no cache, no cookies) and page with the probe installed, opening `url`. */
const openBoardPage = async (browser: Browser, url: string): Promise<Page> => {
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage()
  await installProbe(page)
  await page.goto(url)
  return page
}

/** The same, once the board's feed is live. */
const openBoard = async (browser: Browser, url: string): Promise<Page> => {
  const page = await openBoardPage(browser, url)
  await page
    .getByRole("status")
    .filter({ hasText: /^live$/ })
    .waitFor({ timeout: 30_000 })
  return page
}

const round = (ms: number) => Math.round(ms * 10) / 10

const summary = (samples: ReadonlyArray<number>) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)) }
}

/** Files and then archives `changes` items over MCP, one at a time, timing each until the DOM shows it. */
const latency = async (browser: Browser, root: string) => {
  const server = await serve(project(root))
  const client = new Client({ name: "bench", version: "1" })
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)))
    const page = await openBoard(browser, server.url)
    // Archived is collapsed at first; the newest archived card is its first row.
    await page
      .getByRole("region", { name: /^Archived\b/ })
      .getByRole("button", { name: /^Archived/ })
      .click()
    /** Sends one change; its times from the send until MCP answered and until the card showed in `stage`. */
    const timed = async (stage: string, send: () => Promise<string>) => {
      const sent = wallClockMs()
      const id = await send()
      const replied = wallClockMs()
      await page.locator(`[data-stage="${stage}"] article[data-id="${id}"]`).waitFor({ timeout: 10_000 })
      const seen = (await readProbe(page)).seen[`${id}@${stage}`]
      if (seen === undefined) throw new Error(`the probe missed ${id} in ${stage}`)
      return { id, dom: seen - sent, reply: replied - sent }
    }
    const created: Array<{ dom: number; reply: number }> = []
    const moved: Array<{ dom: number; reply: number }> = []
    for (let i = 0; i < changes; i++) {
      // Filed (a new card at the end of Backlog), then archived at once: Backlog never grows past the
      // screen, so every card this bench waits for is one the virtualised column renders.
      const create = await timed("Backlog", async () => {
        const r = await client.callTool({ name: "create_story", arguments: { name: `Latency ${i}` } })
        return String((r.structuredContent as { story_id: string }).story_id)
      })
      created.push(create)
      moved.push(
        await timed("Archived", async () => {
          await client.callTool({ name: "move_story", arguments: { story_id: create.id, to: "archived" } })
          return create.id
        }),
      )
    }
    await page.context().close()
    return {
      create: summary(created.map((c) => c.dom)),
      createReply: summary(created.map((c) => c.reply)),
      move: summary(moved.map((m) => m.dom)),
      moveReply: summary(moved.map((m) => m.reply)),
    }
  } finally {
    await client.close()
    await stopServerProcess(server)
  }
}

/** The first paint of the board on a server started just now, then on a second visit. */
const firstPaints = async (browser: Browser, root: string) => {
  const server = await serve(root)
  try {
    const visit = async () => {
      const page = await openBoardPage(browser, server.url)
      const { firstCardPaintMs } = await firstCardPainted(page, 30_000)
      await page.context().close()
      if (firstCardPaintMs === undefined) throw new Error("no first paint recorded")
      return round(firstCardPaintMs)
    }
    return { first: await visit(), again: await visit() }
  } finally {
    await stopServerProcess(server)
  }
}

/** Sum of the gzip sizes (level 9, as the server compresses) of the scripts index.html loads eagerly. */
const initialJs = () => {
  const web = join(repoRoot(), "dist", "web")
  const html = readFileSync(join(web, "index.html"), "utf8")
  const paths = [
    ...html.matchAll(/<script[^>]*\bsrc="([^"]+\.js)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g),
  ].map((m) => m[1] ?? "")
  const files = [...new Set(paths)].map((p) => readFileSync(join(web, p.replace(/^\//, ""))))
  const kib = (n: number) => Math.round((n / 1024) * 10) / 10
  return {
    files: files.length,
    rawKiB: kib(files.reduce((s, f) => s + f.length, 0)),
    gzipKiB: kib(files.reduce((s, f) => s + gzipSync(f, { level: 9 }).length, 0)),
  }
}

if (!existsSync(chromiumPath))
  throw new Error(
    `the web UI bench needs Debian's chromium at ${chromiumPath}: ` +
      "apt-get install -y --no-install-recommends chromium fonts-liberation (as .ci/run does)",
  )
const { dir, cleanup } = scratchDir()
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true })
try {
  const small = project(join(dir, "small"))
  const oneItem = new Client({ name: "bench", version: "1" })
  const seedServer = await serve(small)
  await oneItem.connect(new StreamableHTTPClientTransport(new URL(`${seedServer.url}/mcp`)))
  await oneItem.callTool({ name: "create_story", arguments: { name: "The only item" } })
  await oneItem.close()
  await stopServerProcess(seedServer)

  const big = project(join(dir, "big"))
  await seedBoard(join(big, ".huskies", "huskies.db"), bigBoard)

  const live = await latency(browser, join(dir, "latency"))
  const smallPaint = await firstPaints(browser, small)
  const bigPaint = await firstPaints(browser, big)
  const js = initialJs()
  emit({
    scenario: "web-ui",
    metrics: {
      changes,
      items: bigBoard.backlog + bigBoard.archived,
      "create.domMs.p50": live.create.p50,
      "create.domMs.p95": live.create.p95,
      "create.replyMs.p50": live.createReply.p50,
      "create.replyMs.p95": live.createReply.p95,
      "move.domMs.p50": live.move.p50,
      "move.domMs.p95": live.move.p95,
      "move.replyMs.p50": live.moveReply.p50,
      "move.replyMs.p95": live.moveReply.p95,
      "paint.bigFirstMs": bigPaint.first,
      "paint.bigAgainMs": bigPaint.again,
      "paint.smallFirstMs": smallPaint.first,
      "paint.smallAgainMs": smallPaint.again,
      "js.files": js.files,
      "js.rawKiB": js.rawKiB,
      "js.gzipKiB": js.gzipKiB,
      "js.goalKiB": jsGoalKiB,
    },
  })
} finally {
  await browser.close()
  cleanup()
}
