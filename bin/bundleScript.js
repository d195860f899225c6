// bin/bundleScript.js — the CLI bundle (dist/huskies.cjs) as a vm.Script with V8's code cache beside
// it, named by the build id on the bundle's first line and by the V8 flags set before compiling, so that a
// cache V8 would reject is never read. Used by bin/huskies.js to run it and by scripts/build.mjs to seed it.
import { createHash } from "node:crypto"
import { readFileSync, renameSync, writeFileSync } from "node:fs"
import { PerformanceObserver } from "node:perf_hooks"
import { setInterval } from "node:timers"
import v8 from "node:v8"
import vm from "node:vm"

/** How fast the young generation may grow while the bundle starts: not at all (see capYoungGeneration). */
const startGrowth = 1

/**
 * V8 flags the bundle runs under, set before it is compiled. V8 keys a code cache to the flags it was
 * made under, so the build sets the same ones to make the seed (flags on node's command line instead
 * would make V8 reject every cache).
 */
export const v8Flags = [
  // Starting, the young generation stays at its first 1 MiB a half (capYoungGeneration lets it grow later).
  `--semi-space-growth-factor=${startGrowth}`,
  // For collectGarbage: exposed only to a context made for it, never to the bundle's own.
  "--expose-gc",
  // No Sparkplug (V8's baseline compiler): its machine code for every warm function took about 9 MiB at 20
  // agents at once (113 against 122 MiB). It saved no CPU there, nor on MCP calls, nor in a cold start:
  // what runs often is compiled by TurboFan anyway, and the rest is interpreted.
  "--no-sparkplug",
]

/**
 * Flags for a server that has started: the collector then works on the main thread alone. Its helper
 * threads (parallel scavenges, concurrent marking and sweeping) shorten pauses of about a millisecond once
 * the young generation is capped, but cost more CPU than they save: per MCP `status` call the other threads
 * took 240-255 µs with them and 145-160 µs without (the rest is TurboFan), the main thread no more, and the
 * process about 9% less CPU in all; 20 agents at once kept their CPU and peak RSS. While starting, the
 * helpers pay off (off from the first line: starts 190-320 ms slower, 15 MiB more held), so the flags come
 * after the start, and after the code cache is written: V8 keys a cache to the flags it is made under.
 * `--single-threaded-gc` and `--no-parallel-marking` abort V8 when set at run time, hence the parts below.
 */
export const servingFlags = [
  "--no-parallel-scavenge",
  "--no-concurrent-marking",
  "--no-concurrent-sweeping",
  "--no-parallel-compaction",
  "--no-parallel-pointer-update",
]

/** From now on, garbage is collected as `servingFlags` say. Never undone: call it after any `writeCache`. */
export const collectOnMainThread = () => {
  for (const flag of servingFlags) v8.setFlagsFromString(flag)
}

/** Names the caches made under `v8Flags`: a cache made under other flags would only be rejected. */
const flagsId = createHash("sha256").update(v8Flags.join(" ")).digest("hex").slice(0, 8)

let flagsSet = false
const setFlags = () => {
  if (flagsSet) return
  flagsSet = true
  for (const flag of v8Flags) v8.setFlagsFromString(flag)
}

/** How the bundle's second line starts (after the build id): the function Node would wrap a module in. */
export const moduleWrapper = "(function (exports, require, module, __filename, __dirname) {"

/**
 * Two caches per build: `seed`, made by the build from compiling alone, and `full`, written by a
 * running server once it has compiled what serving needs (the better of the two).
 */
export const cacheFiles = (bundle, source) => {
  const build = /^\/\/ huskies build (\w+)/.exec(source)?.[1]
  if (build === undefined) return undefined
  const id = `${build}.${flagsId}`
  return { full: `${bundle}.${id}.cache`, seed: `${bundle}.${id}.seed.cache` }
}

const readCache = (file) => {
  try {
    return readFileSync(file)
  } catch {
    return undefined
  }
}

/**
 * A full garbage collection, when `v8Flags` expose it: what starting leaves behind (compiling the
 * source, building the layers) is otherwise held until the old generation next fills.
 */
export const collectGarbage = () => {
  if (!v8Flags.includes("--expose-gc")) return
  vm.runInNewContext("gc")()
}

let growth = startGrowth
const setGrowth = (factor) => {
  if (factor === growth) return
  growth = factor
  v8.setFlagsFromString(`--semi-space-growth-factor=${factor}`)
}

/** How often a young generation at its cap is looked at again: V8 may have shrunk it meanwhile. */
const recheckMillis = 10_000

/**
 * From now on lets each half of V8's young generation grow (it doubles when a scavenge finds it too small)
 * up to `semiSpaceMiB` (a power of two), not V8's 16 MiB: `--max-semi-space-size` works only on node's
 * command line, which would make V8 reject the code cache. While the young generation is below the cap,
 * the growth factor is 2 and every collection is watched; at the cap it is set to 1 (V8 reads it when it
 * grows) and the watch ends. Watching costs node an entry, an event-loop turn and a callback per
 * collection: about 0.1 ms of CPU each here, whatever the callback does, against 0.3-0.6 ms for a scavenge
 * at the cap. V8 shrinks the young generation only when the process allocates little, so a look every
 * `recheckMillis` is enough to take up the watch again. Returns whether collections are watched now.
 */
export const capYoungGeneration = (semiSpaceMiB) => {
  const cap = 2 * semiSpaceMiB * 1024 * 1024
  const atCap = () =>
    (v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0) >= cap
  let watch
  /** Sets the growth factor for where the young generation is; true once it is at the cap. */
  const steer = () => {
    if (!atCap()) {
      setGrowth(2)
      return false
    }
    setGrowth(1)
    watch?.disconnect()
    watch = undefined
    return true
  }
  const look = () => {
    if (steer() || watch !== undefined) return
    watch = new PerformanceObserver(steer)
    watch.observe({ entryTypes: ["gc"] })
  }
  look()
  setInterval(look, recheckMillis).unref()
  return () => watch !== undefined
}

/** Compiles the bundle, with the best cache there is; `cachedFrom` says which one V8 took. */
export const compileBundle = (bundle, source) => {
  const files = cacheFiles(bundle, source)
  const [cachedFrom, cachedData] =
    files === undefined
      ? [undefined, undefined]
      : ([
          ["full", readCache(files.full)],
          ["seed", readCache(files.seed)],
        ].find(([, data]) => data !== undefined) ?? [undefined, undefined])
  setFlags()
  // A bundle built before it came wrapped is wrapped here (a second copy of its source, for its life).
  const wrapped = source.startsWith(moduleWrapper, source.indexOf("\n") + 1)
  const script = new vm.Script(wrapped ? source : `${moduleWrapper}${source}\n})`, {
    filename: bundle,
    ...(cachedData === undefined ? {} : { cachedData }),
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  })
  return { script, files, cachedFrom: script.cachedDataRejected === true ? undefined : cachedFrom }
}

/** Writes `script`'s code cache to `file` whole (a reader never sees half of it). */
export const writeCache = (script, file) => {
  const partial = `${file}.${process.pid}.tmp`
  // A cache records the flags it was made under: those the bundle was compiled under, not the cap's.
  const now = growth
  setGrowth(startGrowth)
  try {
    writeFileSync(partial, script.createCachedData())
  } finally {
    setGrowth(now)
  }
  renameSync(partial, file)
}
