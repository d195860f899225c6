// bench/measure.ts — shared helpers for benchmark scenarios: each scenario runs in its own process
// and prints one JSON line, so peak memory (maxRSS) belongs to that scenario alone.
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"

export interface ScenarioResult {
  readonly scenario: string
  readonly metrics: Record<string, number | string | boolean>
}

/** Peak resident memory of this process so far, in MiB. */
export const peakRssMiB = (): number => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10

export const millisSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6

export const emit = (result: ScenarioResult): void => {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
}

export const scratchDir = (): { dir: string; cleanup: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), "huskies-bench-"))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The huskies checkout this benchmark belongs to (where package.json is). */
export const repoRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir)
  return dir
}

export const tracePath = (): string =>
  process.env["HUSKIES_TRACE"] ??
  resolve(repoRoot(), "..", "shared", "data", "editing-traces", "automerge-paper.json.gz")

export const gitInit = (dir: string): void => {
  execFileSync("git", ["-c", "init.defaultBranch=main", "init", "-q", dir])
}

/** Wall-clock time in ms with sub-ms precision, comparable with bash's $EPOCHREALTIME in other processes. */
export const wallClockMs = (): number => performance.timeOrigin + performance.now()

/** The `p`th percentile (nearest rank) of ascending `sorted`. */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

/** CPU time (user + system) of process `pid` itself so far, in microseconds: its children are not in it. */
export const processCpuMicros = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  // Fields after the parenthesised command: state is [0], utime [11], stime [12], in ticks of 10 ms.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

/** Resident memory of process `pid` now and at its peak, in MiB. */
export const processMemoryMiB = (pid: number): { readonly rssMiB: number; readonly peakRssMiB: number } => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { rssMiB: Math.round(kib("VmRSS") / 102.4) / 10, peakRssMiB: Math.round(kib("VmHWM") / 102.4) / 10 }
}
