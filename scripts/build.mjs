// scripts/build.mjs — compiles TypeScript to dist/, bundles the CLI into dist/huskies.js (what
// bin/huskies.js loads: one file starts far faster than ~1,000 modules) and records the git commit.
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync, existsSync, rmSync } from "node:fs"
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

// A bundle left from an earlier build must never outlive the sources it was made from.
const bundle = "dist/huskies.js"
rmSync(bundle, { force: true })
rmSync(`${bundle}.map`, { force: true })

let typeErrors
try {
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" })
} catch (e) {
  // tsc still emits JavaScript when types are wrong: bundle that too, then fail as tsc did.
  typeErrors = e
}

let esbuild
try {
  esbuild = require("esbuild")
} catch {
  // Without esbuild bin/huskies.js runs the unbundled dist/src/main.js: slower to start, same behaviour.
}
if (esbuild !== undefined) {
  await esbuild.build({
    entryPoints: ["src/main.ts"],
    outfile: bundle,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: true,
    // Native addons load their .node files relative to their own package.
    external: ["better-sqlite3", "node-pty"],
    // CommonJS packages inside an ES module bundle still call require() for Node's built-ins.
    banner: {
      js: 'import { createRequire as __huskiesRequire } from "node:module"; const require = __huskiesRequire(import.meta.url);',
    },
    logLevel: "warning",
  })
}
if (typeErrors !== undefined) throw typeErrors

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
