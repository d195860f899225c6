// scripts/build.mjs — compiles TypeScript to dist/, bundles the CLI into dist/huskies.cjs (what
// bin/huskies.js loads: one file starts far faster than ~1,000 modules) and records the git commit.
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { resolve } from "node:path"
import { compileBundle, writeCache } from "../bin/bundleScript.js"

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

// A bundle (or code cache) left from an earlier build must never outlive the sources it was made from.
const bundle = "dist/huskies.cjs"
for (const name of existsSync("dist") ? readdirSync("dist") : []) {
  if (name.startsWith("huskies.")) rmSync(`dist/${name}`, { force: true })
}

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
    // CommonJS, so bin/huskies.js can compile it through vm.Script with V8's code cache.
    format: "cjs",
    target: "node20",
    sourcemap: true,
    // Native addons load their .node files relative to their own package.
    external: ["better-sqlite3", "node-pty"],
    define: { "import.meta.url": "__huskiesModuleUrl" },
    // The build id names the code cache of this build (see bin/huskies.js); strict as ES modules are.
    banner: {
      js: [
        `// huskies build ${randomBytes(8).toString("hex")}`,
        '"use strict";',
        'const __huskiesModuleUrl = require("node:url").pathToFileURL(__filename).href;',
      ].join("\n"),
    },
    logLevel: "warning",
  })
  // The seed code cache, from compiling alone; a server replaces it with a fuller one once started.
  const { script, files } = compileBundle(resolve(bundle), readFileSync(bundle, "utf8"))
  if (files !== undefined) writeCache(script, files.seed)
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
