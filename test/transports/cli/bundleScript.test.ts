// test/transports/cli/bundleScript.test.ts — bin/bundleScript.js, which bin/huskies.js and the build use:
// a code cache made by one process is taken by the next (the V8 flags it sets before compiling match
// the cache's), and a bundle of either shape (wrapped by the build, or not) runs as a module.
import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { withTempDir } from "../../support/tempDir.js"

const bundleScript = new URL("../../../bin/bundleScript.js", import.meta.url).href

/** Compiles `bundle` in a fresh node (with `nodeFlags`), runs it, and writes the seed cache if asked. */
const compileIn = (
  bundle: string,
  mode: "seed" | "seed-capped" | "run",
  nodeFlags: ReadonlyArray<string> = [],
): { cachedFrom: string | null; answer: unknown } => {
  const program = `
    import { readFileSync } from "node:fs"
    import { capYoungGeneration, compileBundle, writeCache } from ${JSON.stringify(bundleScript)}
    const { script, files, cachedFrom } = compileBundle(${JSON.stringify(bundle)}, readFileSync(${JSON.stringify(bundle)}, "utf8"))
    const module = { exports: {} }
    script.runInThisContext()(module.exports, () => undefined, module, "", "")
    // A server caps its young generation before it writes the full cache: the flags that sets are not kept.
    if (${JSON.stringify(mode)} === "seed-capped") capYoungGeneration(4)
    if (${JSON.stringify(mode)} !== "run") writeCache(script, files.seed)
    console.log(JSON.stringify({ cachedFrom: cachedFrom ?? null, answer: module.exports.answer }))
  `
  const out = execFileSync(process.execPath, [...nodeFlags, "--input-type=module", "-e", program], {
    encoding: "utf8",
  })
  return JSON.parse(out) as { cachedFrom: string | null; answer: unknown }
}

const body = `"use strict";
const double = (n) => n * 2
module.exports.answer = double(21)
`

describe("bin/bundleScript.js", () => {
  it("a cache seeded by one process is taken by the next, under the same flags only", () =>
    withTempDir((dir) => {
      const bundle = join(dir, "bundle.cjs")
      writeFileSync(
        bundle,
        `// huskies build 0123abcd\n(function (exports, require, module, __filename, __dirname) {${body}})\n`,
      )
      expect(compileIn(bundle, "seed")).toEqual({ cachedFrom: null, answer: 42 })
      expect(compileIn(bundle, "run")).toEqual({ cachedFrom: "seed", answer: 42 })
      // A V8 flag on node's command line is why the flags are set in-process: V8 rejects the cache.
      expect(compileIn(bundle, "run", ["--max-semi-space-size=4"])).toEqual({ cachedFrom: null, answer: 42 })
    }))

  it("a cache written after the young generation was capped is taken too", () =>
    withTempDir((dir) => {
      const bundle = join(dir, "bundle.cjs")
      writeFileSync(
        bundle,
        `// huskies build 89abcdef\n(function (exports, require, module, __filename, __dirname) {${body}})\n`,
      )
      expect(compileIn(bundle, "seed-capped")).toEqual({ cachedFrom: null, answer: 42 })
      expect(compileIn(bundle, "run")).toEqual({ cachedFrom: "seed", answer: 42 })
    }))

  it("a bundle from before the build wrapped it still runs as a module, with its cache", () =>
    withTempDir((dir) => {
      const bundle = join(dir, "bundle.cjs")
      writeFileSync(bundle, `// huskies build 4567cdef\n${body}`)
      expect(compileIn(bundle, "seed")).toEqual({ cachedFrom: null, answer: 42 })
      expect(compileIn(bundle, "run")).toEqual({ cachedFrom: "seed", answer: 42 })
    }))

  it("without a build id there is no cache to read or write", () =>
    withTempDir((dir) => {
      const bundle = join(dir, "bundle.cjs")
      writeFileSync(bundle, body)
      const program = `
        import { readFileSync } from "node:fs"
        import { compileBundle } from ${JSON.stringify(bundleScript)}
        const { files } = compileBundle(${JSON.stringify(bundle)}, readFileSync(${JSON.stringify(bundle)}, "utf8"))
        console.log(JSON.stringify(files ?? null))
      `
      const out = execFileSync(process.execPath, ["--input-type=module", "-e", program], { encoding: "utf8" })
      expect(JSON.parse(out)).toBeNull()
      expect(existsSync(join(dir, "bundle.cjs.cache"))).toBe(false)
    }))
})
