// bench/backlog.ts — what a large backlog costs each change: `huskies serve` on a project with 2,000 items
// in Backlog (each waiting on a dependency, so none starts), then 30 items filed over MCP one at a time;
// every filing makes auto-assign look at the whole pipeline. Measured: the server's CPU per filing, against
// the same filings on a project with an empty backlog.
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { Store, StoreOnDisk } from "../src/layers/Store.js"
import { emit, processCpuMicros, repoRoot, scratchDir } from "./measure.js"
import { startServerProcess, stopServerProcess } from "./serverProcess.js"

const backlog = Number(process.env["HUSKIES_BENCH_BACKLOG_ITEMS"] ?? 2000)
const filings = Number(process.env["HUSKIES_BENCH_BACKLOG_FILINGS"] ?? 30)
/** Extra node flags for the huskies server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
const serverFlags = (process.env["HUSKIES_BENCH_BACKLOG_SERVER_FLAGS"] ?? "")
  .split(" ")
  .filter((f) => f !== "")
/** Between filings, so that each is looked at on its own (auto-assign folds pokes that queue up). */
const spacingMillis = 50

const first = "1_story_backlog_item_1"

const populate = (root: string, items: number) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.provide(
        Effect.gen(function* () {
          const store = yield* Store
          for (let i = 1; i <= items; i++) {
            // The first waits on the second and every other on the first: nothing in Backlog can start.
            const dependsOn = i === 1 ? "2_story_backlog_item_2" : first
            yield* store.create({
              kind: "story",
              name: `backlog item ${i}`,
              content: `---\nname: backlog item ${i}\ndepends_on: [${dependsOn}]\n---\n\n## User Story\n\nAs a user I want thing ${i}, so that it works.\n\n## Acceptance Criteria\n\n- [ ] first criterion of ${i}\n- [ ] second criterion\n\n${"Some description of the work. ".repeat(12)}\n`,
            })
          }
        }),
        StoreOnDisk(join(root, ".huskies", "huskies.db")),
      ),
    ),
  )

/** The server's CPU per filing, in microseconds. */
const measure = async (root: string): Promise<number> => {
  const running = await startServerProcess(
    [join(repoRoot(), "bin", "huskies.js"), "serve", "--port", "0", root],
    /huskies listening on (http:\/\/\S+)/,
    serverFlags,
  )
  try {
    const client = new Client({ name: "bench", version: "1.0.0" })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${running.url}/mcp`)))
    // Settled first: the start's own look and the history's first load are not the filings' cost.
    await client.callTool({ name: "create_story", arguments: { name: "warm-up", depends_on: [first] } })
    await new Promise((r) => setTimeout(r, 1000))
    const pid = running.child.pid ?? 0
    const before = processCpuMicros(pid)
    for (let i = 0; i < filings; i++) {
      const filed = await client.callTool({
        name: "create_story",
        arguments: { name: `filed ${i}`, depends_on: [first] },
      })
      if (filed.isError === true) throw new Error(`create_story failed: ${JSON.stringify(filed.content)}`)
      await new Promise((r) => setTimeout(r, spacingMillis))
    }
    await new Promise((r) => setTimeout(r, 200))
    const used = processCpuMicros(pid) - before
    await client.close()
    return used / filings
  } finally {
    await stopServerProcess(running)
  }
}

const { dir, cleanup } = scratchDir()
try {
  const project = (name: string, items: number) => {
    const root = join(dir, name)
    mkdirSync(join(root, ".huskies"), { recursive: true })
    return populate(root, items).then(() => root)
  }
  // Two items even when "empty", so the filings' dependency exists on both sides.
  const big = await project("backlog", backlog)
  const small = await project("empty", 2)
  const rounds = [await measure(small), await measure(big), await measure(big), await measure(small)]
  emit({
    scenario: "backlog",
    metrics: {
      backlog,
      filings,
      "huskies.cpuUsPerFiling": Math.min(rounds[1] ?? NaN, rounds[2] ?? NaN),
      "empty.cpuUsPerFiling": Math.min(rounds[0] ?? NaN, rounds[3] ?? NaN),
    },
  })
} finally {
  cleanup()
}
