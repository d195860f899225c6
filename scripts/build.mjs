// scripts/build.mjs — compiles TypeScript to dist/ and records the build's git commit for /health.
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync, existsSync } from "node:fs"
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
let tsc
try {
  tsc = require.resolve("typescript/bin/tsc")
} catch {
  // Installed as a dependency without dev tools: dist/ ships prebuilt, nothing to do.
  if (existsSync("dist/src/main.js")) process.exit(0)
  console.error("typescript is missing: run `npm install` in the huskies checkout")
  process.exit(1)
}
execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" })

let commit = "unknown"
try {
  commit = execFileSync("git", ["rev-parse", "HEAD"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  }).trim()
  const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  }).trim()
  if (dirty !== "") commit += "-dirty"
} catch {
  // Not a git checkout (e.g. an npm tarball): the commit stays "unknown".
}
mkdirSync("dist", { recursive: true })
writeFileSync("dist/build-info.json", JSON.stringify({ commit, builtAt: new Date().toISOString() }) + "\n")
