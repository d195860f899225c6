// bench/measure.ts — shared helpers for benchmark scenarios: each scenario runs in its own process
// and prints one JSON line, so peak memory (maxRSS) belongs to that scenario alone.
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
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
