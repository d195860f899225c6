// test/support/tempDir.ts — the one way a test makes a temp directory: fresh, with symlinks resolved
// (macOS /tmp, git's view of paths), and removed afterwards. Used by every test that touches disk.
import { mkdtempSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Scope } from "effect"

export interface OwnedTempDir {
  readonly dir: string
  /** Removes the directory and everything in it; safe to call twice. */
  readonly cleanup: () => void
}

/** A fresh temp directory; the caller removes it with `cleanup` (see useCleanups for after-each). */
export const tempDir = (prefix = "huskies-test-"): OwnedTempDir => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A fresh temp directory removed when the enclosing scope closes. */
export const scopedTempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => tempDir()),
  ({ cleanup }) => Effect.sync(cleanup),
).pipe(Effect.map(({ dir }) => dir))

/** Runs `body` with a fresh temp directory and removes it afterwards, whether `body` threw or not. */
export const withTempDir = async <A>(body: (dir: string) => Promise<A> | A, prefix?: string): Promise<A> => {
  const { dir, cleanup } = tempDir(prefix)
  try {
    return await body(dir)
  } finally {
    cleanup()
  }
}
