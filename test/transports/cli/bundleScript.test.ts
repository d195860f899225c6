// test/transports/cli/bundleScript.test.ts — bin/bundleScript.js, which bin/huskies.js and the build use:
// a code cache made by one process is taken by the next (the V8 flags it sets before compiling match
// the cache's), a bundle of either shape (wrapped by the build, or not) runs as a module, and a started
// server's garbage collection can be moved to the main thread.
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

  // CPU from /proc/self/task, in clock ticks: main thread and the threads beside it, over a run that makes
  // much short-lived garbage and some that lives a while (scavenges and full collections).
  const collectorThreads = (onMainThread: boolean): { main: number; others: number } => {
    const program = `
      import { readdirSync, readFileSync } from "node:fs"
      import { collectOnMainThread } from ${JSON.stringify(bundleScript)}
      const ticks = () => new Map(readdirSync("/proc/self/task").map((t) => [t,
        readFileSync("/proc/self/task/" + t + "/stat", "utf8").split(") ")[1].split(" ").slice(11, 13)
          .reduce((a, b) => a + Number(b), 0)]))
      if (${JSON.stringify(onMainThread)}) collectOnMainThread()
      const before = ticks()
      const kept = []
      for (let round = 0; round < 12; round++) {
        const batch = []
        for (let i = 0; i < 200000; i++) batch.push({ i, s: String(i) })
        kept.push(batch.slice(0, 20000))
        if (kept.length > 10) kept.shift()
      }
      let main = 0
      let others = 0
      for (const [t, after] of ticks()) {
        const spent = after - (before.get(t) ?? 0)
        if (Number(t) === process.pid) main += spent
        else others += spent
      }
      console.log(JSON.stringify({ main, others }))
    `
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", program], { encoding: "utf8" })
    return JSON.parse(out) as { main: number; others: number }
  }

  it("the young generation grows to its cap, and collections are watched only until it is there", () => {
    // Started as bin/huskies.js starts the bundle (no growth), then capped at 2 MiB a half, then garbage
    // made in bursts with the event loop turning between them, as a server's would.
    const program = `
      import v8 from "node:v8"
      import { capYoungGeneration, compileBundle } from ${JSON.stringify(bundleScript)}
      compileBundle("none.cjs", "")
      const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size / 1048576
      const before = young()
      const watching = capYoungGeneration(2)
      const watchedAtFirst = watching()
      let largest = 0
      for (let burst = 0; burst < 100; burst++) {
        const made = []
        for (let i = 0; i < 20000; i++) made.push({ i })
        globalThis.kept = made.slice(0, 2000)
        await new Promise((resolve) => setImmediate(resolve))
        largest = Math.max(largest, young())
      }
      console.log(JSON.stringify({ before, watchedAtFirst, largest, watchedAtEnd: watching() }))
    `
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", program], { encoding: "utf8" })
    expect(JSON.parse(out)).toEqual({ before: 1, watchedAtFirst: true, largest: 4, watchedAtEnd: false })
  })

  // Per-thread CPU is read from /proc: where there is none (not Linux) there is nothing to measure it by.
  it.skipIf(!existsSync("/proc/self/task"))(
    "once started, the collector's helper threads idle: V8 takes the serving flags without aborting",
    () => {
      // Without them, the helpers take a large share of the collector's work (what the flags save).
      const helped = collectorThreads(false)
      expect(helped.others).toBeGreaterThan(helped.main / 8)
      const alone = collectorThreads(true)
      expect(alone.main).toBeGreaterThan(0)
      expect(alone.others).toBeLessThan(alone.main / 16)
    },
  )
})
