// test/support/storeWriter.ts — a child process that writes to a Store as fast as it can and prints
// `ack <id>` after each write resolves; the kill -9 durability test kills it mid-burst.
import { Effect } from "effect"
import { Store } from "../../src/layers/Store.js"
import { storeLayer } from "./store.js"

const dbPath = process.argv[2]
if (dbPath === undefined) throw new Error("usage: storeWriter <db path>")

const program = Effect.gen(function* () {
  const store = yield* Store
  for (let i = 0; ; i++) {
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

Effect.runPromise(Effect.provide(program, storeLayer(dbPath, { compactEvery: 50 }))).catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
