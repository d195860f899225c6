// test/support/cleanups.ts — what a test file's tests started, undone after each test in reverse order
// (servers killed, temp projects removed), whether the test passed or not.
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { afterEach } from "vitest"
import { tempDir } from "./tempDir.js"

export type Cleanup = () => Promise<void> | void

/** Registers the after-each hook; the returned function adds a cleanup for the running test. */
export const useCleanups = (): ((cleanup: Cleanup) => void) => {
  const cleanups: Array<Cleanup> = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })
  return (cleanup) => {
    cleanups.push(cleanup)
  }
}

/** A temp directory with an empty `.huskies/`, removed by `defer`'s cleanups. */
export const emptyProject = (defer: (cleanup: Cleanup) => void): string => {
  const { dir, cleanup } = tempDir()
  defer(cleanup)
  mkdirSync(join(dir, ".huskies"))
  return dir
}
