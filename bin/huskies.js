#!/usr/bin/env node
// bin/huskies.js — the `huskies` command: runs the CLI built into dist/ (by `npm install`): the
// one-file bundle with V8's code cache when there is one, else the compiled modules.
import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname } from "node:path"
import { setTimeout } from "node:timers"
import { fileURLToPath } from "node:url"
import {
  capYoungGeneration,
  collectGarbage,
  collectOnMainThread,
  compileBundle,
  writeCache,
} from "./bundleScript.js"

const bundle = fileURLToPath(new URL("../dist/huskies.cjs", import.meta.url))
const modules = new URL("../dist/src/main.js", import.meta.url)

/** How long after the start the full code cache is written: by then serving has compiled what it needs. */
const cacheAfterMillis = 3000

/** The cap on each half of V8's young generation (see capYoungGeneration). */
const youngGenerationMiB = 2

/** When what starting left behind is collected: by then a server is serving. */
const settleAfterMillis = 1000

/**
 * Runs the CommonJS bundle as Node would, but compiled through vm.Script so that V8's code cache
 * can be kept: compiling 5 MB of JavaScript is the larger part of a start.
 */
const runBundle = () => {
  const { script, files, cachedFrom } = compileBundle(bundle, readFileSync(bundle, "utf8"))
  const module = { exports: {} }
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle))
  const writesCache = files !== undefined && cachedFrom !== "full"
  setTimeout(() => {
    collectGarbage()
    // Started: the young generation may grow again, to 2 MiB a half rather than 16.
    capYoungGeneration(youngGenerationMiB)
    // The cache, when there is one to write, is made under the flags it was read under (see servingFlags).
    if (!writesCache) collectOnMainThread()
  }, settleAfterMillis).unref()
  if (!writesCache) return
  const timer = setTimeout(() => {
    try {
      writeCache(script, files.full)
      collectGarbage()
    } catch {
      // A read-only install keeps starting from the seed cache (or none): slower, never wrong.
    } finally {
      collectOnMainThread()
    }
  }, cacheAfterMillis)
  timer.unref()
}

if (existsSync(bundle)) runBundle()
else if (existsSync(fileURLToPath(modules))) await import(modules.href)
else {
  console.error("huskies is not built yet: run `npm install` (or `npm run build`) in the huskies checkout.")
  process.exit(1)
}
