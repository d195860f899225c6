// bench/mcpLatency.ts — scenario (c): MCP `tools/call` latency (p50/p99 over sequential calls) and
// throughput (8 concurrent clients) for a cheap tool and `status`, huskies against the bare SDK.
// Each server runs in its own process (the client is this one), measured in alternating rounds.
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { setMaxListeners } from "node:events"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { emit, percentile, processCpuMicros, repoRoot, scratchDir } from "./measure.js"
import { type ServerProcess, startServerProcess, stopServerProcess } from "./serverProcess.js"

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const sequentialCalls = env("HUSKIES_BENCH_MCP_CALLS", 2000)
const concurrentCalls = env("HUSKIES_BENCH_MCP_CONCURRENT_CALLS", 2000)
const clientsCount = env("HUSKIES_BENCH_MCP_CLIENTS", 8)
const warmupCalls = env("HUSKIES_BENCH_MCP_WARMUP", 1000)
const rounds = env("HUSKIES_BENCH_MCP_ROUNDS", 2)
/** Which servers to run: "both" (default), "huskies" or "bare" (for profiling one side). */
const only = process.env["HUSKIES_BENCH_MCP_ONLY"] ?? "both"
/** Extra node flags for the server processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
const serverFlags = (process.env["HUSKIES_BENCH_MCP_SERVER_FLAGS"] ?? "").split(" ").filter((f) => f !== "")

// The SDK client's fetch adds an abort listener per request to its transport's one signal, and
// undici drops it only when the request is garbage collected: thousands of calls pass Node's
// warning threshold without leaking anything.
setMaxListeners(0)

type Running = ServerProcess

/** Spawns `args` with node (and the server flags) and waits for the line announcing its URL. */
const start = (args: ReadonlyArray<string>, pattern: RegExp): Promise<Running> =>
  startServerProcess(args, pattern, serverFlags)

const stop = stopServerProcess

const connect = async (url: string): Promise<Client> => {
  const client = new Client({ name: "bench", version: "1.0.0" })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)))
  return client
}

interface Call {
  readonly name: string
  readonly arguments: Record<string, unknown>
}

const call = async (client: Client, c: Call): Promise<void> => {
  const result = await client.callTool(c)
  if (result.isError === true) throw new Error(`${c.name} failed: ${JSON.stringify(result.content)}`)
}

interface ToolNumbers {
  readonly p50Us: number
  readonly p99Us: number
  readonly meanUs: number
  readonly callsPerSec: number
  readonly serverCpuUsPerCall: number
}

/** Until the JIT has settled: every client, every tool, before anything is measured. */
const warmUp = async (clients: ReadonlyArray<Client>, calls: ReadonlyArray<Call>) => {
  for (const client of clients) {
    for (let i = 0; i < warmupCalls / clients.length; i++) for (const c of calls) await call(client, c)
  }
}

const measureTool = async (
  running: Running,
  clients: ReadonlyArray<Client>,
  c: Call,
): Promise<ToolNumbers> => {
  const [first] = clients
  if (first === undefined) throw new Error("no clients")
  const pid = running.child.pid ?? 0
  const cpuBefore = processCpuMicros(pid)
  const samples: Array<number> = []
  for (let i = 0; i < sequentialCalls; i++) {
    const t0 = process.hrtime.bigint()
    await call(first, c)
    samples.push(Number(process.hrtime.bigint() - t0) / 1000)
  }
  const serverCpuUsPerCall = (processCpuMicros(pid) - cpuBefore) / sequentialCalls
  samples.sort((a, b) => a - b)
  let next = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(
    clients.map(async (client) => {
      while (next++ < concurrentCalls) await call(client, c)
    }),
  )
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  return {
    p50Us: Math.round(percentile(samples, 50)),
    p99Us: Math.round(percentile(samples, 99)),
    meanUs: Math.round(samples.reduce((a, b) => a + b, 0) / samples.length),
    callsPerSec: Math.round(concurrentCalls / seconds),
    serverCpuUsPerCall: Math.round(serverCpuUsPerCall),
  }
}

interface ServerNumbers {
  readonly cheap: ToolNumbers
  readonly status: ToolNumbers
  /** The status answer as served after the calls: both servers must serve the same one. */
  readonly statusAnswer: string
}

const measureServer = async (running: Running, statusCall: Call): Promise<ServerNumbers> => {
  const clients = await Promise.all(Array.from({ length: clientsCount }, () => connect(running.url)))
  try {
    const cheapCall: Call = { name: "get_version", arguments: {} }
    await warmUp(clients, [cheapCall, statusCall])
    const cheap = await measureTool(running, clients, cheapCall)
    const status = await measureTool(running, clients, statusCall)
    const answer = await clients[0]?.callTool(statusCall)
    return { cheap, status, statusAnswer: JSON.stringify(answer?.structuredContent) }
  } finally {
    await Promise.all(clients.map((c) => c.close()))
  }
}

/** Of several rounds, each metric's best: what the code can do, with scheduler noise filtered out. */
const best = (runs: ReadonlyArray<ToolNumbers>): ToolNumbers => ({
  p50Us: Math.min(...runs.map((r) => r.p50Us)),
  p99Us: Math.min(...runs.map((r) => r.p99Us)),
  meanUs: Math.min(...runs.map((r) => r.meanUs)),
  callsPerSec: Math.max(...runs.map((r) => r.callsPerSec)),
  serverCpuUsPerCall: Math.min(...runs.map((r) => r.serverCpuUsPerCall)),
})

const { dir, cleanup } = scratchDir()
try {
  const project = join(dir, "project")
  mkdirSync(join(project, ".huskies"), { recursive: true })
  // Nothing starts by itself: the item stays as filed, so the bare server's recording of its status is
  // what huskies answers too (an agent start, failing in a folder that is no git repository, would grow
  // the item's history and so huskies' answer, by half).
  writeFileSync(join(project, ".huskies", "project.toml"), "auto_assign = false\n")
  // Another checkout's bin/huskies.js can stand in, to compare builds (before/after a change).
  const huskiesBin = process.env["HUSKIES_BENCH_MCP_HUSKIES_BIN"] ?? join(repoRoot(), "bin", "huskies.js")
  const huskiesArgs = [huskiesBin, "serve", "--port", "0", project]
  const listening = /huskies listening on (http:\/\/\S+)/
  const itemsFile = join(dir, "items.json")
  const bareArgs = [join(repoRoot(), "dist", "bench", "mcpBareServer.js"), project, itemsFile]

  // File one item through huskies, and give the bare server that item's status to serve.
  const setup = await start(huskiesArgs, listening)
  let storyId: string
  try {
    const client = await connect(setup.url)
    const created = await client.callTool({
      name: "create_story",
      arguments: {
        name: "Bench latency item",
        user_story: "As a benchmark, I want a realistic item, so that status reads real data",
        description: "Some context.\n\nMore context with a [link](https://example.com).",
        acceptance_criteria: ["first criterion", "second criterion", "third criterion"],
        front_matter: { priority: 2, labels: ["bench", "mcp"] },
      },
    })
    storyId = (created.structuredContent as { story_id: string }).story_id
    const status = await client.callTool({ name: "status", arguments: { story_id: storyId } })
    writeFileSync(itemsFile, JSON.stringify({ [storyId]: status.structuredContent }))
    await client.close()
  } finally {
    await stop(setup)
  }
  const statusCall: Call = { name: "status", arguments: { story_id: storyId } }

  const huskiesRuns: Array<ServerNumbers> = []
  const bareRuns: Array<ServerNumbers> = []
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first so neither always gets the warmer machine.
    const order = round % 2 === 0 ? (["bare", "huskies"] as const) : (["huskies", "bare"] as const)
    for (const which of order) {
      if (only !== "both" && only !== which) continue
      process.stderr.write(`  round ${round + 1}/${rounds}: ${which}\n`)
      const running =
        which === "huskies"
          ? await start(huskiesArgs, listening)
          : await start(bareArgs, /bare MCP listening on (http:\/\/\S+)/)
      try {
        ;(which === "huskies" ? huskiesRuns : bareRuns).push(await measureServer(running, statusCall))
      } finally {
        await stop(running)
      }
    }
  }

  const answers = new Set([...huskiesRuns, ...bareRuns].map((r) => r.statusAnswer))
  if (answers.size > 1)
    throw new Error(`the two servers answered status differently:\n${[...answers].join("\n")}`)
  const metrics: Record<string, number | string> = {
    sequentialCalls,
    concurrentCalls,
    clients: clientsCount,
    rounds,
  }
  for (const [server, runs] of [
    ["huskies", huskiesRuns],
    ["bare", bareRuns],
  ] as const) {
    if (runs.length === 0) continue
    for (const tool of ["cheap", "status"] as const) {
      const numbers = best(runs.map((r) => r[tool]))
      for (const [key, value] of Object.entries(numbers)) metrics[`${server}.${tool}.${key}`] = value
    }
  }
  emit({ scenario: "mcp-latency", metrics })
} finally {
  cleanup()
}
