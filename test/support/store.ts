// test/support/store.ts — a real Store on a real SQLite file in a temp dir, for tests.
import { Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PersistenceLive } from "../../src/layers/Persistence.js"
import { type StoreOptions, StoreLive } from "../../src/layers/Store.js"

export const storeLayer = (dbPath: string, options: StoreOptions = {}) =>
  StoreLive(options).pipe(Layer.provideMerge(PersistenceLive(dbPath)))

/** A fresh temp directory; the returned function removes it. */
export const tempDir = (prefix = "huskies-test-"): { readonly dir: string; readonly cleanup: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
