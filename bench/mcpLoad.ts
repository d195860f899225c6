// bench/mcpLoad.ts — scenario (c2): /mcp under many clients. Throughput, p99 and server CPU per call
// with 50 concurrent SDK clients against 8 (alternating rounds, best of each), and the server's
// memory after 10,000 clients connect, call a tool and leave (half with DELETE) against after start.
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { setMaxListeners } from "node:events"
import { Agent, type ClientRequest, request } from "node:http"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { emit, percentile, processCpuMicros, processMemoryMiB, repoRoot, scratchDir } from "./measure.js"
import { type ServerProcess, startServerProcess, stopServerProcess } from "./serverProcess.js"

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const fewClients = env("HUSKIES_BENCH_MCP_LOAD_FEW", 8)
const manyClients = env("HUSKIES_BENCH_MCP_LOAD_MANY", 50)
const calls = env("HUSKIES_BENCH_MCP_LOAD_CALLS", 3000)
const rounds = env("HUSKIES_BENCH_MCP_LOAD_ROUNDS", 2)
const cycles = env("HUSKIES_BENCH_MCP_CYCLES", 10_000)
const cyclers = env("HUSKIES_BENCH_MCP_CYCLERS", 16)
/** How long the server has after the last cycle to let go of sessions whose stream just closed. */
const settleMillis = env("HUSKIES_BENCH_MCP_SETTLE_MS", 12_000)

// See bench/mcpLatency.ts: the SDK client's fetch leaves an abort listener per request until GC.
setMaxListeners(0)

interface Running extends ServerProcess {
  /** The server's inspector (when started with it), through which the bench asks for a full GC. */
  readonly inspector: string | undefined
}

/**
 * Whether this process can reach a server's inspector: `npm run bench` runs this scenario with
 * --experimental-websocket (Node 20 has WebSocket behind that flag).
 */
const canInspect = typeof globalThis.WebSocket === "function"

const startHuskies = async (project: string, inspect = false): Promise<Running> => {
  const bin = join(repoRoot(), "bin", "huskies.js")
  const flags = inspect && canInspect ? ["--inspect=127.0.0.1:0"] : []
  const running = await startServerProcess(
    [bin, "serve", "--port", "0", project],
    /huskies listening on (http:\/\/\S+)/,
    flags,
  )
  return { ...running, inspector: /Debugger listening on (ws:\/\/\S+)/.exec(running.startup)?.[1] }
}

const stop = stopServerProcess

/**
 * The server's memory once V8 has collected everything it can: what it really holds, where the
 * RSS alone also counts garbage V8 has not got round to (it grows the heap to a few times what is
 * live before a full collection, and keeps the pages).
 */
const collectedMemory = async (running: Running): Promise<{ heapUsedMiB: number; rssMiB: number }> => {
  if (running.inspector === undefined) return { heapUsedMiB: NaN, rssMiB: NaN }
  const socket = new WebSocket(running.inspector)
  await new Promise((resolve, reject) => {
    socket.onopen = resolve
    socket.onerror = reject
  })
  const pending = new Map<number, (result: unknown) => void>()
  socket.onmessage = (event: MessageEvent) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown }
    if (message.id !== undefined) pending.get(message.id)?.(message.result)
  }
  let nextId = 0
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = ++nextId
      pending.set(id, resolve)
      socket.send(JSON.stringify({ id, method, params }))
    })
  try {
    await call("HeapProfiler.collectGarbage")
    const evaluated = (await call("Runtime.evaluate", {
      expression: "process.memoryUsage().heapUsed",
      returnByValue: true,
    })) as { result: { value: number } }
    const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10
    return {
      heapUsedMiB: mib(evaluated.result.value),
      rssMiB: processMemoryMiB(running.child.pid ?? 0).rssMiB,
    }
  } finally {
    socket.close()
  }
}

const connect = async (url: string): Promise<Client> => {
  const client = new Client({ name: "bench-load", version: "1.0.0" })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)))
  return client
}

const cheapCall = { name: "get_version", arguments: {} }

interface LoadNumbers {
  readonly callsPerSec: number
  readonly p99Us: number
  readonly maxUs: number
  readonly serverCpuUsPerCall: number
}

/** `calls` get_version calls spread over `count` clients, each calling as soon as its last answered. */
const measureLoad = async (running: Running, count: number): Promise<LoadNumbers> => {
  const clients = await Promise.all(Array.from({ length: count }, () => connect(running.url)))
  try {
    // Warm every client and the server's JIT before anything is measured.
    for (let i = 0; i < 3; i++) await Promise.all(clients.map((c) => c.callTool(cheapCall)))
    const pid = running.child.pid ?? 0
    const cpuBefore = processCpuMicros(pid)
    const samples: Array<number> = []
    let next = 0
    const t0 = process.hrtime.bigint()
    await Promise.all(
      clients.map(async (client) => {
        while (next++ < calls) {
          const start = process.hrtime.bigint()
          const result = await client.callTool(cheapCall)
          if (result.isError === true)
            throw new Error(`get_version failed: ${JSON.stringify(result.content)}`)
          samples.push(Number(process.hrtime.bigint() - start) / 1000)
        }
      }),
    )
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    samples.sort((a, b) => a - b)
    return {
      callsPerSec: Math.round(calls / seconds),
      p99Us: Math.round(percentile(samples, 99)),
      maxUs: Math.round(samples[samples.length - 1] ?? NaN),
      serverCpuUsPerCall: Math.round((processCpuMicros(pid) - cpuBefore) / calls),
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()))
  }
}

interface Answer {
  readonly status: number
  readonly session: string | undefined
  readonly body: string
}

/**
 * One client's life as the MCP SDK's StreamableHTTPClientTransport lives it, over plain node:http
 * (so the bench's own client costs little): initialize, initialized, open the event stream, call a
 * tool, then leave, with DELETE or by just dropping the stream.
 */
const cycle = async (url: URL, agent: Agent, withDelete: boolean): Promise<void> => {
  const send = (method: string, session: string | undefined, body?: unknown) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request(url, { method, agent, headers: headersFor(session, body !== undefined) }, (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (d: string) => (text += d))
        res.on("end", () => {
          const id = res.headers["mcp-session-id"]
          resolve({ status: res.statusCode ?? 0, session: typeof id === "string" ? id : session, body: text })
        })
        res.on("error", reject)
      })
      req.on("error", reject)
      req.end(body === undefined ? undefined : JSON.stringify(body))
    })
  const init = await send("POST", undefined, {
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "cycle", version: "1" } },
  })
  if (init.status !== 200 || init.session === undefined)
    throw new Error(`initialize: ${init.status} ${init.body}`)
  const session = init.session
  await send("POST", session, { jsonrpc: "2.0", method: "notifications/initialized" })
  // The event stream gets its own connection (as the SDK's fetch does), dropped when the client leaves.
  const stream = await new Promise<ClientRequest>((resolve, reject) => {
    const req = request(url, {
      method: "GET",
      headers: { ...headersFor(session, false), accept: "text/event-stream" },
    })
    req.on("response", (res) =>
      res.statusCode === 200 ? resolve(req) : reject(new Error(`GET ${res.statusCode}`)),
    )
    req.on("error", (e) => (req.destroyed ? undefined : reject(e)))
    req.end()
  })
  const called = await send("POST", session, {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: cheapCall,
  })
  if (called.status !== 200 || !called.body.includes('"result"')) throw new Error(`call: ${called.body}`)
  if (withDelete) {
    const deleted = await send("DELETE", session)
    if (deleted.status !== 200) throw new Error(`DELETE: ${deleted.status} ${deleted.body}`)
  }
  stream.destroy()
}

const headersFor = (session: string | undefined, json: boolean): Record<string, string> => ({
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-06-18",
  ...(json ? { "content-type": "application/json" } : {}),
  ...(session === undefined ? {} : { "mcp-session-id": session }),
})

interface MemoryNumbers {
  readonly startRssMiB: number
  /** After the first tenth of the cycles: where memory should level off. */
  readonly tenthRssMiB: number
  readonly afterRssMiB: number
  /** The same three after a full GC: heap in use, and RSS. */
  readonly startHeapMiB: number
  readonly tenthHeapMiB: number
  readonly afterHeapMiB: number
  readonly startCollectedRssMiB: number
  readonly tenthCollectedRssMiB: number
  readonly afterCollectedRssMiB: number
  readonly cyclesPerSec: number
  readonly serverCpuUsPerCycle: number
  readonly failures: number
}

const measureCycles = async (running: Running): Promise<MemoryNumbers> => {
  const pid = running.child.pid ?? 0
  const url = new URL(`${running.url}/mcp`)
  const agent = new Agent({ keepAlive: true, maxSockets: cyclers })
  const startRssMiB = processMemoryMiB(pid).rssMiB
  const start = await collectedMemory(running)
  let next = 0
  let failures = 0
  let firstFailure = ""
  let busySeconds = 0
  let serverCpuUs = 0
  /** Cycles from `next` up to `until`, `cyclers` clients at a time; the time and server CPU they took. */
  const run = async (until: number) => {
    const cpuBefore = processCpuMicros(pid)
    const t0 = process.hrtime.bigint()
    await Promise.all(
      Array.from({ length: cyclers }, async () => {
        while (next < until) {
          const n = next++
          await cycle(url, agent, n % 2 === 0).catch((e: unknown) => {
            if (failures++ === 0) firstFailure = String(e)
          })
        }
      }),
    )
    busySeconds += Number(process.hrtime.bigint() - t0) / 1e9
    serverCpuUs += processCpuMicros(pid) - cpuBefore
    // Sessions whose stream just closed are let go after the grace: measure once they are.
    await new Promise((resolve) => setTimeout(resolve, settleMillis))
    const rssMiB = processMemoryMiB(pid).rssMiB
    return { rssMiB, collected: await collectedMemory(running) }
  }
  const tenth = await run(Math.round(cycles / 10))
  const after = await run(cycles)
  agent.destroy()
  if (failures > 0) process.stderr.write(`  ${failures} cycles failed, the first: ${firstFailure}\n`)
  return {
    startRssMiB,
    tenthRssMiB: tenth.rssMiB,
    afterRssMiB: after.rssMiB,
    startHeapMiB: start.heapUsedMiB,
    tenthHeapMiB: tenth.collected.heapUsedMiB,
    afterHeapMiB: after.collected.heapUsedMiB,
    startCollectedRssMiB: start.rssMiB,
    tenthCollectedRssMiB: tenth.collected.rssMiB,
    afterCollectedRssMiB: after.collected.rssMiB,
    cyclesPerSec: Math.round(cycles / busySeconds),
    serverCpuUsPerCycle: Math.round(serverCpuUs / cycles),
    failures,
  }
}

const best = (runs: ReadonlyArray<LoadNumbers>): LoadNumbers => ({
  callsPerSec: Math.max(...runs.map((r) => r.callsPerSec)),
  p99Us: Math.min(...runs.map((r) => r.p99Us)),
  maxUs: Math.min(...runs.map((r) => r.maxUs)),
  serverCpuUsPerCall: Math.min(...runs.map((r) => r.serverCpuUsPerCall)),
})

const { dir, cleanup } = scratchDir()
try {
  const project = join(dir, "project")
  mkdirSync(join(project, ".huskies"), { recursive: true })
  const metrics: Record<string, number | boolean> = { few: fewClients, many: manyClients, calls, cycles }

  const loaded = await startHuskies(project)
  try {
    const runs = { few: [] as Array<LoadNumbers>, many: [] as Array<LoadNumbers> }
    for (let round = 0; round < rounds; round++) {
      for (const which of round % 2 === 0 ? (["few", "many"] as const) : (["many", "few"] as const)) {
        const count = which === "few" ? fewClients : manyClients
        process.stderr.write(`  round ${round + 1}/${rounds}: ${count} clients\n`)
        runs[which].push(await measureLoad(loaded, count))
      }
    }
    for (const which of ["few", "many"] as const) {
      for (const [key, value] of Object.entries(best(runs[which]))) metrics[`${which}.${key}`] = value
    }
  } finally {
    await stop(loaded)
  }

  // A fresh server, so the memory it holds after start is its own baseline.
  const cycled = await startHuskies(project, true)
  try {
    process.stderr.write(`  ${cycles} connect/close cycles\n`)
    for (const [key, value] of Object.entries(await measureCycles(cycled))) metrics[`cycles.${key}`] = value
  } finally {
    await stop(cycled)
  }
  metrics["correct"] = metrics["cycles.failures"] === 0
  emit({ scenario: "mcp-load", metrics })
} finally {
  cleanup()
}
