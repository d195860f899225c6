// bench/editingTrace.ts — scenario (a): the automerge-paper editing trace, one edit per Store write
// with persistence on, then a restart; baseline: the same edits on a plain in-memory Y.Doc.
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import * as Y from "yjs"
import { Store, StoreOnDisk } from "../src/layers/Store.js"
import { emit, millisSince, peakRssMiB, scratchDir, tracePath } from "./measure.js"

interface Trace {
  readonly startContent: string
  readonly endContent: string
  readonly txns: ReadonlyArray<{ readonly patches: ReadonlyArray<readonly [number, number, string]> }>
}

const loadTrace = (): Trace => JSON.parse(gunzipSync(readFileSync(tracePath())).toString("utf8")) as Trace

const countEdits = (trace: Trace) => trace.txns.reduce((n, t) => n + t.patches.length, 0)

const plainYjs = () => {
  const trace = loadTrace()
  const start = process.hrtime.bigint()
  const doc = new Y.Doc()
  const text = doc.getText("content")
  text.insert(0, trace.startContent)
  for (const txn of trace.txns) {
    for (const [pos, del, ins] of txn.patches) {
      doc.transact(() => {
        if (del > 0) text.delete(pos, del)
        if (ins !== "") text.insert(pos, ins)
      })
    }
  }
  const applyMs = millisSince(start)
  emit({
    scenario: "trace-yjs",
    metrics: {
      edits: countEdits(trace),
      applyMs,
      peakRssMiB: peakRssMiB(),
      correct: text.toString() === trace.endContent,
    },
  })
}

const throughStore = async () => {
  const trace = loadTrace()
  const { dir, cleanup } = scratchDir()
  const db = join(dir, "huskies.db")
  try {
    const start = process.hrtime.bigint()
    const id = await Effect.runPromise(
      Effect.scoped(
        Effect.provide(
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create({
              kind: "story",
              name: "automerge paper",
              content: trace.startContent,
            })
            for (const txn of trace.txns) {
              for (const [index, deleteCount, insert] of txn.patches) {
                yield* store.editContent(item.id, { _tag: "Splice", index, deleteCount, insert })
              }
            }
            return item.id
          }),
          StoreOnDisk(db),
        ),
      ),
    )
    const applyMs = millisSince(start)
    const reloadStart = process.hrtime.bigint()
    const content = await Effect.runPromise(
      Effect.scoped(
        Effect.provide(
          Effect.flatMap(Store, (s) => s.content(id)),
          StoreOnDisk(db),
        ),
      ),
    )
    const reloadMs = millisSince(reloadStart)
    emit({
      scenario: "trace-store",
      metrics: {
        edits: countEdits(trace),
        applyMs,
        reloadMs,
        peakRssMiB: peakRssMiB(),
        correct: content === trace.endContent,
      },
    })
  } finally {
    cleanup()
  }
}

const mode = process.argv[2]
if (mode === "yjs") plainYjs()
else if (mode === "store") await throughStore()
else throw new Error("usage: editingTrace yjs|store")
