// src/layers/BuildInfo.ts — what build of huskies is running: version from package.json and the
// git commit recorded at build time (dist/build-info.json), for /health and get_version.
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export interface BuildInfo {
  readonly version: string
  readonly commit: string
}

/** The package root: the nearest parent directory of this module holding package.json. */
export const packageRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error("huskies is installed without its package.json")
    dir = parent
  }
  return dir
}

const readJson = (path: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>
  } catch {
    return undefined
  }
}

let cached: BuildInfo | undefined

export const buildInfo = (): BuildInfo => {
  if (cached !== undefined) return cached
  const root = packageRoot()
  const version = String(readJson(join(root, "package.json"))?.["version"] ?? "0.0.0")
  let commit = readJson(join(root, "dist", "build-info.json"))?.["commit"]
  if (typeof commit !== "string") {
    // Running from sources (tests, tsx): ask git directly; a tarball without git stays "unknown".
    try {
      commit = execFileSync("git", ["rev-parse", "HEAD"], {
        cwd: root,
        encoding: "utf8",
        stdio: "pipe",
      }).trim()
    } catch {
      commit = "unknown"
    }
  }
  cached = { version, commit: commit as string }
  return cached
}
