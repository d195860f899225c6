// src/layers/privateFiles.ts — modes for the private state under `.huskies/` (the store, pid records,
// session logs, gate logs, tokens): directories 0700, files 0600, whatever the umask. Used by every
// writer of that state and once by `serve` for the `.huskies/` directory itself.
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs"

export const privateDirMode = 0o700
export const privateFileMode = 0o600

/**
 * Creates `dir` (and its missing parents) private to this user. `mkdir`'s mode applies only to the
 * directories it creates, so an existing `dir` is tightened too: a checkout made by `git clone`
 * leaves `.huskies/` world-readable.
 */
export const ensurePrivateDir = (dir: string): void => {
  mkdirSync(dir, { recursive: true, mode: privateDirMode })
  chmodSync(dir, privateDirMode)
}

/**
 * Makes `path` exist with mode 0600 before anything else writes it: SQLite and `appendFileSync`
 * create files with 0666 less the umask, and SQLite gives its -wal and -shm files the mode of the
 * database. An existing file is tightened as well (one an older huskies created).
 */
export const ensurePrivateFile = (path: string): void => {
  closeSync(openSync(path, "a", privateFileMode))
  chmodSync(path, privateFileMode)
}

/** Options for `writeFileSync`/`appendFileSync`/`createWriteStream` that create the file 0600. */
export const privateWrite = { mode: privateFileMode } as const
