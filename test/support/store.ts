// test/support/store.ts — a real Store on a real SQLite file in a temp dir, for tests.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { type StoreOptions, StoreOnDisk } from "../../src/layers/Store.js"

export const storeLayer = (dbPath: string, options: StoreOptions = {}) =>
  StoreOnDisk(dbPath, "normal", options)

/** A fresh temp directory; the returned function removes it. */
export const tempDir = (prefix = "huskies-test-"): { readonly dir: string; readonly cleanup: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A fresh temp directory removed when the enclosing scope closes. */
export const scopedTempDir = Effect.acquireRelease(
  Effect.sync(() => tempDir()),
  ({ cleanup }) => Effect.sync(cleanup),
).pipe(Effect.map(({ dir }) => dir))
