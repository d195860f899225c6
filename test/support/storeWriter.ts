// test/support/storeWriter.ts — a child process that writes to a Store as fast as it can, with one writer
// or `inFlight` at once, and prints `ack <id>` after each write resolves; the kill -9 durability tests
// kill it mid-burst.
import { Effect } from "effect"
import { Store } from "../../src/layers/Store.js"
import { storeLayer } from "./store.js"

const dbPath = process.argv[2]
const inFlight = Number(process.argv[3] ?? 1)
if (dbPath === undefined || !Number.isInteger(inFlight) || inFlight < 1) {
  throw new Error("usage: storeWriter <db path> [writers in flight]")
}

let next = 0
const writer = Effect.gen(function* () {
  const store = yield* Store
  for (;;) {
    const i = next++
    const item = yield* store.create({
      kind: "story",
      name: `burst ${i}`,
      content: `---\nname: burst ${i}\n---\n`,
    })
    yield* store.apply(item.id, { _tag: "Start", at: Date.now() })
    yield* store.editContent(item.id, { _tag: "Splice", index: 0, deleteCount: 0, insert: `edit ${i}\n` })
    // Pipes are synchronous on Linux: the line is out before the next write begins.
    process.stdout.write(`ack ${item.id}\n`)
  }
})

const program = Effect.all(
  Array.from({ length: inFlight }, () => writer),
  { concurrency: "unbounded", discard: true },
)

Effect.runPromise(Effect.provide(program, storeLayer(dbPath, { compactEvery: 50 }))).catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
