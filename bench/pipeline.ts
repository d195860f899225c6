// bench/pipeline.ts — scenario (b): a pipeline of 10,000 items moved through 100,000 state changes,
// then the cold start of `huskies serve` on it until /health answers, against an empty project (the
// median of several starts of each).
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { NodeId } from "../src/domain/ExecutionState.js"
import type { PipelineEvent } from "../src/domain/PipelineEvent.js"
import { Store, StoreOnDisk } from "../src/layers/Store.js"
import { emit, millisSince, processMemoryMiB, repoRoot, scratchDir } from "./measure.js"

const items = Number(process.env["HUSKIES_BENCH_ITEMS"] ?? 10_000)
const coldStarts = Number(process.env["HUSKIES_BENCH_COLD_STARTS"] ?? 5)
const node = NodeId.make("bench-node")

/** Nine moves per item after its creation: ten state changes, ending Done. */
const lifecycle = (at: number): ReadonlyArray<PipelineEvent> => [
  { _tag: "Start", at },
  { _tag: "AgentStarted", node, agent: "coder-1", role: "coder", at },
  { _tag: "Heartbeat", node, at: at + 1 },
  { _tag: "Heartbeat", node, at: at + 2 },
  { _tag: "Heartbeat", node, at: at + 3 },
  { _tag: "AgentExited", node, outcome: "succeeded", at: at + 4 },
  { _tag: "GatesPassed", featureBranch: "feature/x", commitsAhead: 1, qa: "agent", at: at + 5 },
  { _tag: "QaApproved", featureBranch: "feature/x", commitsAhead: 1, at: at + 6 },
  { _tag: "Merged", mergeCommit: "abcdef0123456789", mergedAt: at + 7, at: at + 7 },
]

const populate = (dbPath: string) =>
  Effect.scoped(
    Effect.provide(
      Effect.gen(function* () {
        const store = yield* Store
        let changes = 0
        for (let i = 0; i < items; i++) {
          const item = yield* store.create({
            kind: "story",
            name: `item ${i}`,
            content: `---\nname: item ${i}\n---\n\n## Acceptance Criteria\n\n- [ ] works\n`,
          })
          changes++
          for (const event of lifecycle(i * 10)) {
            yield* store.apply(item.id, event)
            changes++
          }
        }
        return changes
      }),
      StoreOnDisk(dbPath),
    ),
  )

interface ColdStart {
  readonly toHealthMs: number
  readonly rssMiB: number
  readonly peakRssMiB: number
}

/** The start with the median time to /health. */
const median = (starts: ReadonlyArray<ColdStart>): ColdStart => {
  const sorted = [...starts].sort((a, b) => a.toHealthMs - b.toHealthMs)
  const middle = sorted[Math.floor(sorted.length / 2)]
  if (middle === undefined) throw new Error("no cold start was measured")
  return middle
}

/** Spawns the real CLI and polls /health until it answers 200. */
const coldStart = async (project: string): Promise<ColdStart> => {
  const start = process.hrtime.bigint()
  const child = spawn(
    process.execPath,
    [join(repoRoot(), "bin", "huskies.js"), "serve", "--port", "0", project],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  )
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = ""
      const timer = setTimeout(() => reject(new Error(`no listening line within 60s:\n${out}`)), 60_000)
      const onData = (d: Buffer) => {
        out += d.toString()
        const m = /huskies listening on (http:\/\/\S+)/.exec(out)
        if (m?.[1] !== undefined) {
          clearTimeout(timer)
          resolve(m[1])
        }
      }
      child.stdout.on("data", onData)
      child.stderr.on("data", onData)
      child.on("exit", (code) => reject(new Error(`server exited (${code}):\n${out}`)))
    })
    for (let attempt = 0; attempt < 600; attempt++) {
      const ok = await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) return { toHealthMs: millisSince(start), ...processMemoryMiB(child.pid ?? 0) }
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error("/health never answered")
  } finally {
    child.kill("SIGKILL")
  }
}

const { dir, cleanup } = scratchDir()
try {
  const full = join(dir, "full")
  const empty = join(dir, "empty")
  mkdirSync(join(full, ".huskies"), { recursive: true })
  mkdirSync(join(empty, ".huskies"), { recursive: true })
  const populateStart = process.hrtime.bigint()
  const changes = await Effect.runPromise(populate(join(full, ".huskies", "huskies.db")))
  const populateMs = millisSince(populateStart)
  // Warm the OS file cache for the binaries once, so both measured starts are equally cold.
  await coldStart(empty)
  // Several starts of each, alternating, and the median of each: one start on a shared machine is noise.
  const emptyStarts: Array<ColdStart> = []
  const fullStarts: Array<ColdStart> = []
  for (let i = 0; i < coldStarts; i++) {
    emptyStarts.push(await coldStart(empty))
    fullStarts.push(await coldStart(full))
  }
  const emptyStart = median(emptyStarts)
  const fullStart = median(fullStarts)
  emit({
    scenario: "pipeline",
    metrics: {
      items,
      changes,
      populateMs,
      perChangeUs: Math.round((populateMs * 1000) / changes),
      emptyToHealthMs: emptyStart.toHealthMs,
      fullToHealthMs: fullStart.toHealthMs,
      emptyRssMiB: emptyStart.rssMiB,
      fullRssMiB: fullStart.rssMiB,
      fullPeakRssMiB: fullStart.peakRssMiB,
    },
  })
} finally {
  cleanup()
}
