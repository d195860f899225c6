// scripts/buildWeb.mjs — builds the browser app (web/) with Vite into dist/web/, which `huskies serve`
// serves at /. Skipped when dist/web is newer than every source it is built from, and when Vite is
// not installed (an install without dev tools ships dist/web prebuilt).
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const sources = ["web", "src/protocol", "src/domain"]
const stamp = "dist/web/.built"

const newest = (dir) => {
  let max = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    max = Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return max
}

export const buildWeb = async ({ force = false } = {}) => {
  const fresh = existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(...sources.map((d) => newest(d)))
  if (fresh && !force) return "fresh"
  let vite
  try {
    vite = await import("vite")
  } catch {
    if (existsSync("dist/web/index.html")) return "prebuilt"
    console.error("vite is missing: run `npm install` in the huskies checkout to build the web UI")
    process.exit(1)
  }
  // Always React's production build: the test runner sets NODE_ENV=test, which Vite would follow into
  // the development build (a third larger, and slower) when the suite's setup rebuilds.
  process.env.NODE_ENV = "production"
  await vite.build({ configFile: "web/vite.config.ts", logLevel: "warn", mode: "production" })
  writeFileSync(stamp, new Date().toISOString() + "\n")
  return "built"
}

if (import.meta.url === `file://${process.argv[1]}`)
  await buildWeb({ force: process.argv.includes("--force") })
