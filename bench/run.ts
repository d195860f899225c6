// bench/run.ts — `npm run bench`: runs each scenario in its own process, prints one table of
// huskies against its baseline measured in the same run, and writes JSON to bench/results/.
// `npm run bench -- editingTrace mergeQueue` runs only those scenarios and prints only their rows.
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { join } from "node:path"
import { buildInfo } from "../src/layers/BuildInfo.js"
import { repoRoot, type ScenarioResult } from "./measure.js"

interface Scenario {
  readonly script: string
  readonly args: ReadonlyArray<string>
  /** Node flags beyond --expose-gc. */
  readonly flags?: ReadonlyArray<string>
}

const scenarios: ReadonlyArray<Scenario> = [
  { script: "editingTrace.js", args: ["yjs"] },
  { script: "editingTrace.js", args: ["limit"] },
  { script: "editingTrace.js", args: ["limit", "64"] },
  { script: "editingTrace.js", args: ["store"] },
  { script: "editingTrace.js", args: ["store", "64"] },
  { script: "pipeline.js", args: [] },
  { script: "mcpLatency.js", args: [] },
  // WebSocket (behind a flag on Node 20) reaches the server's inspector to ask it for a full GC.
  {
    script: "mcpLoad.js",
    args: [],
    flags: ["--experimental-websocket", "--disable-warning=ExperimentalWarning"],
  },
  { script: "agentLatency.js", args: [] },
  { script: "agentFleet.js", args: [] },
  { script: "backlog.js", args: [] },
  { script: "mergeQueue.js", args: [] },
  { script: "webUi.js", args: [] },
  { script: "chatDoor.js", args: [] },
  { script: "syncReplica.js", args: [] },
  { script: "workerClaim.js", args: [] },
]

const runScenario = ({ script, args, flags = [] }: Scenario): ScenarioResult => {
  const path = join(repoRoot(), "dist", "bench", script)
  process.stderr.write(`running ${script} ${args.join(" ")}...\n`)
  const out = execFileSync(process.execPath, ["--expose-gc", ...flags, path, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 16 * 1024 * 1024,
  })
  const line = out.split("\n").find((l) => l.startsWith("RESULT "))
  if (line === undefined) throw new Error(`${script} printed no RESULT line:\n${out}`)
  return JSON.parse(line.slice("RESULT ".length)) as ScenarioResult
}

const only = process.argv.slice(2)
const results = scenarios
  .filter((s) => only.length === 0 || only.some((name) => s.script === `${name}.js`))
  .map(runScenario)
const byName = new Map(results.map((r) => [r.scenario, r.metrics]))
const num = (scenario: string, metric: string): number => Number(byName.get(scenario)?.[metric] ?? NaN)

interface Row {
  readonly what: string
  readonly huskies: string
  readonly baseline: string
  readonly ratio: string
}

const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`)
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`

const edits = num("trace-store", "edits")
/** A row of `metric` per edit of the trace, in microseconds: scenario `ours` against `theirs`. */
const perEdit = (what: string, metric: string, ours: string, theirs: string): Row => ({
  what,
  huskies: `${((num(ours, metric) * 1000) / edits).toFixed(1)} us`,
  baseline: `${((num(theirs, metric) * 1000) / edits).toFixed(1)} us`,
  ratio: ratio(num(ours, metric), num(theirs, metric)),
})
const rows: Array<Row> = [
  {
    what: `editing trace: ${edits} edits, one durable Store write each (vs in-memory Yjs)`,
    huskies: fmtMs(num("trace-store", "applyMs")),
    baseline: fmtMs(num("trace-yjs", "applyMs")),
    ratio: ratio(num("trace-store", "applyMs"), num("trace-yjs", "applyMs")),
  },
  perEdit("editing trace: per edit", "applyMs", "trace-store", "trace-yjs"),
  perEdit(
    "editing trace: per durable edit (vs the limit: in-memory Yjs + a raw better-sqlite3 insert of its update; goal 1.5x)",
    "applyMs",
    "trace-store",
    "trace-limit",
  ),
  perEdit(
    "editing trace: the same, CPU time of the process (steady on a busy machine)",
    "cpuMs",
    "trace-store",
    "trace-limit",
  ),
  perEdit(
    "editing trace: per durable edit, 64 writes in flight (vs in-memory Yjs; goal 2x)",
    "applyMs",
    "trace-store-64",
    "trace-yjs",
  ),
  perEdit("editing trace: the same, CPU time of the process", "cpuMs", "trace-store-64", "trace-yjs"),
  perEdit(
    "editing trace: 64 writes in flight, CPU time (vs the limit of group commit: in-memory Yjs + raw inserts, 64 to a commit)",
    "cpuMs",
    "trace-store-64",
    "trace-limit-64",
  ),
  {
    what: "editing trace: peak RSS",
    huskies: `${num("trace-store", "peakRssMiB")} MiB`,
    baseline: `${num("trace-yjs", "peakRssMiB")} MiB`,
    ratio: ratio(num("trace-store", "peakRssMiB"), num("trace-yjs", "peakRssMiB")),
  },
  {
    what: "editing trace: restart and reload (vs applying the trace in memory)",
    huskies: fmtMs(num("trace-store", "reloadMs")),
    baseline: fmtMs(num("trace-yjs", "applyMs")),
    ratio: ratio(num("trace-store", "reloadMs"), num("trace-yjs", "applyMs")),
  },
  {
    what: `pipeline: ${num("pipeline", "items")} items, ${num("pipeline", "changes")} state changes written`,
    huskies: fmtMs(num("pipeline", "populateMs")),
    baseline: "-",
    ratio: `${num("pipeline", "perChangeUs")} us/change`,
  },
  {
    what: "pipeline: cold start to a served /health (vs empty project)",
    huskies: fmtMs(num("pipeline", "fullToHealthMs")),
    baseline: fmtMs(num("pipeline", "emptyToHealthMs")),
    ratio: ratio(num("pipeline", "fullToHealthMs"), num("pipeline", "emptyToHealthMs")),
  },
  {
    what: "pipeline: server RSS after start (vs empty project)",
    huskies: `${num("pipeline", "fullRssMiB")} MiB`,
    baseline: `${num("pipeline", "emptyRssMiB")} MiB`,
    ratio: ratio(num("pipeline", "fullRssMiB"), num("pipeline", "emptyRssMiB")),
  },
]

const mcp = (side: string, tool: string, metric: string) => num("mcp-latency", `${side}.${tool}.${metric}`)
const mcpRow = (label: string, tool: string, metric: string, unit: string): Row => ({
  what: `MCP tools/call ${label} (vs bare SDK server)`,
  huskies: `${mcp("huskies", tool, metric)}${unit}`,
  baseline: `${mcp("bare", tool, metric)}${unit}`,
  ratio: ratio(mcp("huskies", tool, metric), mcp("bare", tool, metric)),
})
const mcpRows: ReadonlyArray<Row> = (["cheap", "status"] as const).flatMap((tool) => {
  const name = tool === "cheap" ? "get_version" : "status"
  const clients = num("mcp-latency", "clients")
  return [
    mcpRow(`${name}: p50, sequential`, tool, "p50Us", " us"),
    mcpRow(`${name}: p99, sequential`, tool, "p99Us", " us"),
    mcpRow(`${name}: calls/s, ${clients} clients (higher is better)`, tool, "callsPerSec", ""),
    mcpRow(`${name}: server CPU per call`, tool, "serverCpuUsPerCall", " us"),
  ]
})
rows.push(...mcpRows)

const load = (metric: string) => num("mcp-load", metric)
const [few, many] = [load("few"), load("many")]
const loadRow = (label: string, metric: string, show: (v: number) => string): Row => ({
  what: `MCP get_version under load: ${label}, ${many} clients (vs ${few} clients)`,
  huskies: show(load(`many.${metric}`)),
  baseline: show(load(`few.${metric}`)),
  ratio: ratio(load(`many.${metric}`), load(`few.${metric}`)),
})
const cycles = load("cycles")
const cycleRow = (label: string, metric: string, baseline: string): Row => ({
  what: `MCP: server ${label} after ${cycles} clients connected, called a tool and left`,
  huskies: `${load(`cycles.after${metric}`)} MiB`,
  baseline: `${load(`cycles.${baseline}${metric}`)} MiB`,
  ratio: ratio(load(`cycles.after${metric}`), load(`cycles.${baseline}${metric}`)),
})
const tenth = Math.round(cycles / 10)
rows.push(
  loadRow("calls/s (higher is better)", "callsPerSec", String),
  loadRow("p99", "p99Us", (v) => fmtMs(v / 1000)),
  loadRow("server CPU per call", "serverCpuUsPerCall", (v) => `${v} us`),
  cycleRow("RSS (vs after start)", "RssMiB", "start"),
  cycleRow(`RSS (vs after the first ${tenth})`, "RssMiB", "tenth"),
  cycleRow("RSS once V8 ran a full GC (vs after start, the same)", "CollectedRssMiB", "start"),
  cycleRow("heap in use once V8 ran a full GC (vs after start, the same)", "HeapMiB", "start"),
  cycleRow(`heap in use once V8 ran a full GC (vs after the first ${tenth}, the same)`, "HeapMiB", "tenth"),
)

const agentLatency = (side: string, metric: string, p: string) =>
  num("agent-latency", `${side}.${metric}.${p}`)
const agentLatencyRow = (label: string, baseline: string, metric: string, p: string): Row => {
  const huskies = agentLatency("huskies", metric, p)
  const raw = agentLatency("raw", metric, p)
  return {
    what: `agents: ${label}, ${p} of ${num("agent-latency", "items")} items (vs ${baseline})`,
    huskies: fmtMs(huskies),
    baseline: fmtMs(raw),
    ratio: `${ratio(huskies, raw)} (+${(huskies - raw).toFixed(0)} ms)`,
  }
}
const fleet = (side: string, metric: string) => num("agent-fleet", `${side}.${metric}`)
const fleetRow = (label: string, metric: string, show: (v: number) => string): Row => ({
  what: `agents: ${num("agent-fleet", "agents")} at once, ${label} (vs plain node-pty supervisor)`,
  huskies: show(fleet("huskies", metric)),
  baseline: show(fleet("raw", metric)),
  ratio: ratio(fleet("huskies", metric), fleet("raw", metric)),
})
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
rows.push(
  ...(["p50", "p90"] as const).map((p) =>
    agentLatencyRow("item ready → agent started", "raw git worktree add + pty spawn", "readyToAgentMs", p),
  ),
  ...(["p50", "p90"] as const).map((p) =>
    agentLatencyRow("agent exited → gates started", "raw git rev-list + sh -c", "exitToGateMs", p),
  ),
  fleetRow("supervisor's own CPU time", "cpuMs", seconds),
  fleetRow(`supervisor's CPU share of ${num("agent-fleet", "cores")} cores`, "cpuSharePct", (v) => `${v} %`),
  fleetRow("supervisor's peak RSS", "peakRssMiB", (v) => `${v} MiB`),
  fleetRow("filed → last gate started", "lastGateMs", seconds),
)
const perFiling = (side: string) => num("backlog", `${side}.cpuUsPerFiling`)
rows.push({
  what: `auto-assign: server CPU per item filed with ${num("backlog", "backlog")} items in Backlog (vs 2 items)`,
  huskies: `${(perFiling("huskies") / 1000).toFixed(1)} ms`,
  baseline: `${(perFiling("empty") / 1000).toFixed(1)} ms`,
  ratio: ratio(perFiling("huskies"), perFiling("empty")),
})

const merge = (metric: string) => num("merge-queue", metric)
const mergeRow = (what: string, huskies: number, scripted: number, show: (v: number) => string): Row => ({
  what: `merge queue: ${what}`,
  huskies: show(huskies),
  baseline: show(scripted),
  ratio: ratio(huskies, scripted),
})
rows.push(
  mergeRow(
    `${merge("stories")} stories in Merge → all Done, no test gate (vs the same git commands scripted)`,
    merge("huskies.throughputMs"),
    merge("scripted.throughputMs"),
    fmtMs,
  ),
  mergeRow("per merge", merge("huskies.perMergeMs"), merge("scripted.perMergeMs"), fmtMs),
  mergeRow(
    "git processes per merge",
    merge("huskies.gitProcessesPerMerge"),
    merge("scripted.gitProcessesPerMerge"),
    String,
  ),
  mergeRow(
    "time between git processes per merge (spawning them, and huskies' own work)",
    merge("huskies.betweenGitMsPerMerge"),
    merge("scripted.betweenGitMsPerMerge"),
    fmtMs,
  ),
  mergeRow(
    `QA approved → Done, p50 of ${merge("approvals")} (vs one scripted merge, p50)`,
    merge("huskies.approveToDoneMs.p50"),
    merge("scripted.mergeMs.p50"),
    fmtMs,
  ),
)

const ui = (metric: string) => num("web-ui", metric)
const uiLatencyRow = (what: string, change: string, p: string): Row => ({
  what: `web UI: Store change → board DOM, ${what}, ${p} of ${ui("changes")} (vs the MCP call's own answer; goal p95 < 250 ms)`,
  huskies: fmtMs(ui(`${change}.domMs.${p}`)),
  baseline: fmtMs(ui(`${change}.replyMs.${p}`)),
  ratio: ratio(ui(`${change}.domMs.${p}`), ui(`${change}.replyMs.${p}`)),
})
const uiPaintRow = (when: string, metric: string): Row => ({
  what: `web UI: first paint of a ${ui("items")}-item board, ${when} (vs a one-item board; goal < 2 s)`,
  huskies: fmtMs(ui(`paint.big${metric}`)),
  baseline: fmtMs(ui(`paint.small${metric}`)),
  ratio: ratio(ui(`paint.big${metric}`), ui(`paint.small${metric}`)),
})
rows.push(
  ...(["p50", "p95"] as const).flatMap((p) => [
    uiLatencyRow("an item filed over MCP", "create", p),
    uiLatencyRow("an item archived over MCP", "move", p),
  ]),
  uiPaintRow("first visit to a server just started", "FirstMs"),
  uiPaintRow("a later visit", "AgainMs"),
  {
    what: `web UI: JavaScript index.html loads up front, gzip, ${ui("js.files")} file(s), ${ui("js.rawKiB")} KiB raw (vs the goal)`,
    huskies: `${ui("js.gzipKiB")} KiB`,
    baseline: `${ui("js.goalKiB")} KiB`,
    ratio: ratio(ui("js.gzipKiB"), ui("js.goalKiB")),
  },
)

const chat = (metric: string) => num("chat", metric)
rows.push(
  {
    what: "chat: a move until the platform receives its notice, p50 / p95 (vs the p95 goal)",
    huskies: `${chat("notifyP50Ms")} / ${chat("notifyP95Ms")} ms`,
    baseline: "300 ms",
    ratio: ratio(chat("notifyP95Ms"), 300),
  },
  {
    what: `chat: a burst of ${chat("burstEvents")} moves, messages sent (2 s window)`,
    huskies: `${chat("burstMessages")}`,
    baseline: `${chat("burstEvents")}`,
    ratio: ratio(chat("burstMessages"), chat("burstEvents")),
  },
  {
    what: "chat: memory with all four platforms connected to their fakes, RSS / heap (vs no door, same run)",
    huskies: `${chat("memFourRssMiB")} / ${chat("memFourHeapMiB")} MiB`,
    baseline: `${chat("memNoneRssMiB")} / ${chat("memNoneHeapMiB")} MiB`,
    ratio: ratio(chat("memFourRssMiB"), chat("memNoneRssMiB")),
  },
)

const sync = (metric: string) => num("sync", metric)
rows.push(
  {
    what: `nodes: a fresh worker's initial sync of ${sync("items")} items over /crdt-sync, durable (vs the same bytes through in-memory Yjs; goal <= 1 s)`,
    huskies: fmtMs(sync("initialSyncMs")),
    baseline: fmtMs(sync("rawYjsMs")),
    ratio: ratio(sync("initialSyncMs"), sync("rawYjsMs")),
  },
  ...(["P50", "P99"] as const).map((p) => ({
    what: `nodes: update propagation main -> worker on loopback, ${p.toLowerCase()} of ${sync("writes")} (vs the main node's own durable write; goal p99 <= 50 ms)`,
    huskies: `${sync(`propagation${p}Ms`)} ms`,
    baseline: `${sync(`localWrite${p}Ms`)} ms`,
    ratio: ratio(sync(`propagation${p}Ms`), sync(`localWrite${p}Ms`)),
  })),
)

const claim = (metric: string) => num("worker-claim", metric)
rows.push({
  what: `nodes: claim -> agent started on a worker, p50 of ${claim("items")} (vs on the main node; goal <= 1.2x)`,
  huskies: `${claim("workerP50Ms")} ms`,
  baseline: `${claim("mainP50Ms")} ms`,
  ratio: ratio(claim("workerP50Ms"), claim("mainP50Ms")),
})

const correct = results.every((r) => r.metrics["correct"] !== false)
// A row whose scenario did not run (a subset was asked for) has nothing to show.
const shown = only.length === 0 ? rows : rows.filter((r) => !Object.values(r).some((c) => c.includes("NaN")))
const widths = [0, 1, 2, 3].map((i) =>
  Math.max(
    ...[["what", "huskies", "baseline", "ratio"], ...shown.map((r) => Object.values(r))].map(
      (c) => String(c[i]).length,
    ),
  ),
)
const line = (cells: ReadonlyArray<string>) =>
  `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`
console.log(line(["what", "huskies", "baseline", "ratio"]))
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`)
for (const r of shown) console.log(line([r.what, r.huskies, r.baseline, r.ratio]))
// Only the editing trace reports whether its final document is right.
if (results.some((r) => r.metrics["correct"] !== undefined))
  console.log(`\nfinal document equals the trace's end content: ${correct ? "yes" : "NO"}`)

const gitCommit = (() => {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8", cwd: repoRoot() }).trim()
  } catch {
    return buildInfo().commit
  }
})()
const dir = join(repoRoot(), "bench", "results")
mkdirSync(dir, { recursive: true })
const file = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`)
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? "unknown",
  memGiB: Math.round(totalmem() / 2 ** 30),
}
writeFileSync(
  file,
  JSON.stringify({ commit: gitCommit, node: process.version, machine, results, rows: shown }, null, 2) + "\n",
)
console.log(`results written to ${file}`)
if (!correct) process.exitCode = 1
