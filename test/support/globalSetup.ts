// test/support/globalSetup.ts — before the suite: make sure dist/ is built from the current sources,
// because process-level tests run the real `bin/huskies.js` as a user would.
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"

const newest = (dir: string): number => {
  let max = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    max = Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return max
}

export default function setup(): void {
  const built = "dist/build-info.json"
  const stale =
    !existsSync(built) || statSync(built).mtimeMs < Math.max(newest("src"), newest("bench"), newest("web"))
  if (!stale) return
  try {
    execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" })
  } catch {
    // tsc still emits JavaScript when types are wrong; `npm run typecheck` (part of `npm test`)
    // is what fails on type errors, so the process tests can run against what was emitted.
    if (!existsSync("dist/src/main.js"))
      throw new Error("the build emitted nothing: see the tsc output above")
    console.warn("build reported type errors; running tests against the emitted JavaScript")
  }
}
