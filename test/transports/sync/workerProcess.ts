// test/transports/sync/workerProcess.ts — a worker node in a child process: its replica on `root`, dialing
// `url` with `token`; prints `got <id>` once an item created on the main node is durable here. The kill -9
// test kills it mid-stream and reopens its file.
import { Effect, Queue } from "effect"
import { startWorker } from "./syncHarness.js"

const [root, url, token] = process.argv.slice(2)
if (root === undefined || url === undefined || token === undefined)
  throw new Error("usage: workerProcess <root> <url> <token>")

const program = Effect.gen(function* () {
  const worker = yield* startWorker(root, url, { joinToken: token })
  const events = yield* worker.store.subscribe
  for (;;) {
    const event = yield* Queue.take(events)
    // Events are published once the change is on disk: the line is a durable acknowledgement.
    if (event._tag === "ItemCreated") process.stdout.write(`got ${event.item.id}\n`)
  }
})

Effect.runPromise(Effect.scoped(program)).catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
