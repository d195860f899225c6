// scripts/build.mjs — compiles TypeScript to dist/, bundles the CLI into dist/huskies.cjs (what
// bin/huskies.js loads: one file starts far faster than ~1,000 modules) and records the git commit.
import { execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, readdirSync, renameSync, writeFileSync, existsSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { setTimeout as sleep } from "node:timers/promises"
import { clearTimeout, setTimeout } from "node:timers"
import { join, resolve } from "node:path"
import { compileBundle, moduleWrapper, writeCache } from "../bin/bundleScript.js"
import { buildWeb } from "./buildWeb.mjs"

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

const bundle = "dist/huskies.cjs"
/** Removes the bundle and every code cache, or (given the build just written) the caches of others. */
const removeBundles = (keep) => {
  for (const name of existsSync("dist") ? readdirSync("dist") : []) {
    const cache = name.endsWith(".cache")
    const stale = keep === undefined ? name.startsWith("huskies.") : cache && !name.includes(keep)
    if (stale) rmSync(`dist/${name}`, { force: true })
  }
}
/** Writes `file` aside and renames it into place: a server starting meanwhile reads all of one build. */
const replace = (file, contents) => {
  writeFileSync(`${file}.${process.pid}.tmp`, contents)
  renameSync(`${file}.${process.pid}.tmp`, file)
}

/**
 * Starts the server once on an empty scratch project and stops it when it has written the bundle's full code
 * cache (bin/huskies.js does, 3 s after a start, once per build): a user's first start is then as fast as
 * every later one, instead of compiling what the seed cache lacks. A warm-up that fails changes nothing: the
 * first real start writes the cache instead.
 */
const warmCodeCache = async (cache) => {
  const project = mkdtempSync(join(tmpdir(), "huskies-build-warm-"))
  mkdirSync(join(project, ".huskies"))
  writeFileSync(join(project, ".huskies", "project.toml"), "auto_assign = false\n")
  const server = spawn(process.execPath, ["bin/huskies.js", "serve", "--port", "0", project], {
    stdio: "ignore",
  })
  const exited = new Promise((done) => server.once("exit", done))
  try {
    for (
      let waited = 0;
      !existsSync(cache) && server.exitCode === null && server.signalCode === null && waited < 20_000;
      waited += 100
    )
      await sleep(100)
    if (!existsSync(cache)) console.warn("huskies build: no full code cache yet; the first start writes it")
  } finally {
    server.kill("SIGTERM")
    const kill = setTimeout(() => server.kill("SIGKILL"), 5_000)
    await exited
    clearTimeout(kill)
    rmSync(project, { recursive: true, force: true })
  }
}
/** The warm-up of the new bundle's code cache, run while the rest builds; awaited before the build ends. */
let warming = Promise.resolve()

let esbuild
try {
  esbuild = require("esbuild")
} catch {
  // Without esbuild bin/huskies.js runs the unbundled dist/src/main.js: slower to start, same behaviour.
  removeBundles(undefined)
}
// The bundle first (seconds, from the sources; tsc takes far longer), so dist/ is never without one.
if (esbuild !== undefined) {
  const build = randomBytes(8).toString("hex")
  const result = await esbuild
    .build({
      entryPoints: ["src/main.ts"],
      outfile: bundle,
      write: false,
      bundle: true,
      platform: "node",
      // CommonJS, so bin/huskies.js can compile it through vm.Script with V8's code cache.
      format: "cjs",
      target: "node20",
      sourcemap: true,
      // Whitespace and syntax minified: V8 keeps the whole source in memory for the server's life (functions
      // compile lazily from it), 6.5 MB as written against 3.6 MB. Identifiers are left as written, so stack
      // traces read without `keepNames`, which wraps every function made at run time in a `defineProperty`
      // call (in the server's hot paths: 10-15 % of its CPU under 20 agents, and 3-6 MiB).
      minifyWhitespace: true,
      minifySyntax: true,
      // Native addons load their .node files relative to their own package.
      // The chat SDKs load only when bot.toml enables their platform (dynamic import): left out of the
      // bundle, a server without chat neither reads nor compiles them at start.
      external: [
        "better-sqlite3",
        "node-pty",
        "@slack/bolt",
        "discord.js",
        "matrix-js-sdk",
        "matrix-js-sdk/*",
      ],
      define: { "import.meta.url": "__huskiesModuleUrl" },
      // The build id names the code cache of this build (see bin/bundleScript.js); strict as ES modules are.
      // The bundle is already the function bin/huskies.js calls as Node calls a module: compiling the file's
      // text as it is keeps one copy of the source in memory instead of the text and a wrapped copy.
      banner: {
        js: [
          `// huskies build ${build}`,
          `${moduleWrapper}"use strict";`,
          'const __huskiesModuleUrl = require("node:url").pathToFileURL(__filename).href;',
        ].join("\n"),
      },
      footer: { js: "})" },
      logLevel: "warning",
    })
    .catch((e) => {
      // A bundle that no longer matches the sources must not be run.
      removeBundles(undefined)
      throw e
    })
  const output = (suffix) => result.outputFiles.find((f) => f.path.endsWith(suffix))
  const code = output(".cjs")
  const map = output(".cjs.map")
  if (code === undefined || map === undefined) throw new Error("esbuild wrote no bundle")
  // esbuild escapes what is not ASCII in strings and regular expressions, not in the comments it keeps:
  // one such character makes V8 hold all of the source in two bytes a character, for the server's life.
  const text = code.text.replace(/[^\p{ASCII}]/gu, (c) => `\\u{${c.codePointAt(0)?.toString(16)}}`)
  mkdirSync("dist", { recursive: true })
  // The seed code cache, from compiling alone; a server replaces it with a fuller one once started.
  const { script, files } = compileBundle(resolve(bundle), text)
  if (files !== undefined) writeCache(script, files.seed)
  replace(`${bundle}.map`, map.contents)
  replace(bundle, text)
  removeBundles(build)
  if (files !== undefined) warming = warmCodeCache(files.full)
}

// The web UI (dist/web), before tsc for the same reason: the server serves it whatever tsc says.
await buildWeb()

let typeErrors
try {
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" })
} catch (e) {
  // tsc still emits JavaScript when types are wrong: the process tests run against it, then this fails.
  typeErrors = e
}
await warming
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
