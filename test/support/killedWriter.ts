// test/support/killedWriter.ts — runs storeWriter.ts as a child process on a real SQLite file and SIGKILLs
// it mid-burst, then reopens the file; the Store's kill -9 durability tests check every acknowledged write.
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { StoryId } from "../../src/domain/StoryId.js"
import { Store, type StoreOptions } from "../../src/layers/Store.js"
import { storeLayer } from "./store.js"

/** Starts the writer with `inFlight` writes at once and SIGKILLs it after `acks` acknowledgements: their ids. */
export const killWriterMidBurst = (db: string, inFlight = 1, acks = 300): Promise<Array<string>> => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/support/storeWriter.ts", db, String(inFlight)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  )
  const acked: Array<string> = []
  let stderr = ""
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
  return new Promise<Array<string>>((resolve, reject) => {
    let buffered = ""
    const timer = setTimeout(() => reject(new Error(`writer too slow; stderr: ${stderr}`)), 25_000)
    child.stdout.on("data", (d: Buffer) => {
      buffered += d.toString()
      const lines = buffered.split("\n")
      buffered = lines.pop() ?? ""
      for (const line of lines) if (line.startsWith("ack ")) acked.push(line.slice(4))
      if (acked.length >= acks && child.exitCode === null) {
        clearTimeout(timer)
        child.kill("SIGKILL")
      }
    })
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      if (signal === "SIGKILL") resolve(acked)
      else reject(new Error(`writer exited by itself (${code}): ${stderr}`))
    })
  })
}

/** What a fresh Store opened on `db` holds: its items, its load errors and the content of each of `ids`. */
export const reopenStore = (db: string, ids: ReadonlyArray<string>, options: StoreOptions = {}) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.provide(
        Effect.gen(function* () {
          const store = yield* Store
          const { items, errors } = yield* store.list
          const contents = yield* Effect.forEach(ids, (id) => store.content(StoryId.make(id)))
          return { items, errors, contents }
        }),
        storeLayer(db, options),
      ),
    ),
  )
