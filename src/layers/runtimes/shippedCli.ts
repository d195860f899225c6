// src/layers/runtimes/shippedCli.ts — the agent CLIs installed with huskies itself (package.json), found
// from where huskies' own code is, so a runtime works however huskies is started: npx puts
// node_modules/.bin on PATH, `node bin/huskies.js` does not. AgentActor falls back to them after PATH.
import { accessSync, constants, readFileSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import type { AgentRuntime } from "../../domain/Config.js"

/** The npm package of each CLI runtime and the program it installs (a devDependency may be absent). */
export const shippedPackages: Readonly<
  Record<Exclude<AgentRuntime, "command">, { readonly pkg: string; readonly program: string }>
> = {
  "claude-code": { pkg: "@anthropic-ai/claude-code", program: "claude" },
  codex: { pkg: "@openai/codex", program: "codex" },
  gemini: { pkg: "@google/gemini-cli", program: "gemini" },
}

/** Whether `path` is a regular file this process may execute. */
export const isExecutableFile = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

const binOf = (manifest: string, program: string): string | undefined => {
  try {
    const bin = (JSON.parse(readFileSync(manifest, "utf8")) as { bin?: unknown }).bin
    if (typeof bin === "string") return bin
    if (typeof bin === "object" && bin !== null) {
      const entry = (bin as Record<string, unknown>)[program]
      return typeof entry === "string" ? entry : undefined
    }
    return undefined
  } catch {
    return undefined
  }
}

/**
 * The executable of `runtime`'s CLI in the node_modules that huskies' own modules resolve packages from
 * (`from`: this module by default), or undefined when that package is not installed there. The
 * `.bin` link npm makes comes first, then the package's own `bin` file.
 */
export const shippedCli = (runtime: AgentRuntime, from: string = import.meta.url): string | undefined => {
  if (runtime === "command") return undefined
  const { pkg, program } = shippedPackages[runtime]
  // The node_modules directories Node would look in, nearest first: the package's exports map (which
  // may not export package.json) does not matter this way.
  for (const modules of createRequire(from).resolve.paths(pkg) ?? []) {
    // Only where the package is: a .bin elsewhere on the way up may hold another package's program.
    const bin = binOf(join(modules, pkg, "package.json"), program)
    if (bin === undefined) continue
    const link = join(modules, ".bin", program)
    if (isExecutableFile(link)) return link
    if (isExecutableFile(join(modules, pkg, bin))) return join(modules, pkg, bin)
  }
  return undefined
}
