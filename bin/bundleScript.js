// bin/bundleScript.js — the CLI bundle (dist/huskies.cjs) as a vm.Script with V8's code cache beside
// it, named by the build id on the bundle's first line and by the V8 flags set before compiling, so that a
// cache V8 would reject is never read. Used by bin/huskies.js to run it and by scripts/build.mjs to seed it.
import { createHash } from "node:crypto"
import { readFileSync, renameSync, writeFileSync } from "node:fs"
import v8 from "node:v8"
import vm from "node:vm"

/**
 * V8 flags the bundle runs under, set before it is compiled. V8 keys a code cache to the flags it was
 * made under, so the build sets the same ones to make the seed (flags on node's command line instead
 * would make V8 reject every cache).
 */
export const v8Flags = [
  // The young generation stays at its first 1 MiB a half instead of growing to 16: ~20 MiB less resident
  // for a server (20 agents at once: peak RSS ~148 -> ~128 MiB), for more frequent, smaller scavenges.
  "--semi-space-growth-factor=1",
  // For collectGarbage: exposed only to a context made for it, never to the bundle's own.
  "--expose-gc",
]

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
 * A full garbage collection, when `v8Flags` expose it: what starting leaves behind (compiling 4 MB of
 * source, building the layers) is otherwise held until the old generation next fills.
 */
export const collectGarbage = () => {
  if (!v8Flags.includes("--expose-gc")) return
  vm.runInNewContext("gc")()
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
  writeFileSync(partial, script.createCachedData())
  renameSync(partial, file)
}
