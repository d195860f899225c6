// bin/bundleScript.js — the CLI bundle (dist/huskies.cjs) as a vm.Script with V8's code cache beside
// it, named by the build id on the bundle's first line so that a cache made from another build is never
// read. Used by bin/huskies.js to run it and by scripts/build.mjs to seed the cache.
import { readFileSync, renameSync, writeFileSync } from "node:fs"
import vm from "node:vm"

/**
 * Two caches per build: `seed`, made by the build from compiling alone, and `full`, written by a
 * running server once it has compiled what serving needs (the better of the two).
 */
export const cacheFiles = (bundle, source) => {
  const build = /^\/\/ huskies build (\w+)/.exec(source)?.[1]
  if (build === undefined) return undefined
  return { full: `${bundle}.${build}.cache`, seed: `${bundle}.${build}.seed.cache` }
}

const readCache = (file) => {
  try {
    return readFileSync(file)
  } catch {
    return undefined
  }
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
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
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
