// bench/editingTrace.ts — scenario (a): the automerge-paper editing trace, one edit per Store write
// with persistence on (one writer, then 64 in flight), then a restart; baselines: the same edits on a
// plain in-memory Y.Doc, and the limit: that Y.Doc plus a raw better-sqlite3 insert of each update (one
// commit each, or 64 to a commit: the limit of group commit).
import Database from "better-sqlite3"
import { Context, Effect, Layer } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import * as Y from "yjs"
import type { StoryId } from "../src/domain/StoryId.js"
import { Persistence, PersistenceLive } from "../src/layers/Persistence.js"
import { Store, StoreLive, StoreOnDisk } from "../src/layers/Store.js"
import { emit, millisSince, peakRssMiB, scratchDir, tracePath } from "./measure.js"

interface Trace {
  readonly startContent: string
  readonly endContent: string
  readonly txns: ReadonlyArray<{ readonly patches: ReadonlyArray<readonly [number, number, string]> }>
}

const loadTrace = (): Trace => JSON.parse(gunzipSync(readFileSync(tracePath())).toString("utf8")) as Trace

/** Starts a clock; the function it returns gives the wall time and this process's CPU time since, in ms
 * (CPU time says the same on a machine busy with other work, where wall time does not). */
const stopwatch = () => {
  const wall = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  return () => {
    const used = process.cpuUsage(cpu)
    return { applyMs: millisSince(wall), cpuMs: (used.user + used.system) / 1000 }
  }
}

const countEdits = (trace: Trace) => trace.txns.reduce((n, t) => n + t.patches.length, 0)

/** Replays the trace on `doc`'s text, each edit in a transaction of its own (one update, as a Store write
 * makes); returns the text. */
const replayOnYjs = (doc: Y.Doc, trace: Trace): Y.Text => {
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
  return text
}

const plainYjs = () => {
  const trace = loadTrace()
  const stop = stopwatch()
  const doc = new Y.Doc()
  const text = replayOnYjs(doc, trace)
  const times = stop()
  emit({
    scenario: "trace-yjs",
    metrics: {
      edits: countEdits(trace),
      ...times,
      peakRssMiB: peakRssMiB(),
      correct: text.toString() === trace.endContent,
    },
  })
}

/** The limit of a durable edit: the in-memory Y.Doc, and each transaction's update bytes inserted by
 * better-sqlite3 in a table like Persistence's, with its pragmas (WAL, synchronous NORMAL), one commit each;
 * or, with `batch` > 1, the limit of group commit: `batch` updates inserted in each commit. */
const limitBaseline = (batch: number) => {
  const trace = loadTrace()
  const { dir, cleanup } = scratchDir()
  try {
    const db = new Database(join(dir, "limit.db"))
    db.pragma("journal_mode = WAL")
    db.pragma("synchronous = NORMAL")
    db.exec("CREATE TABLE updates (seq INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL, history BLOB)")
    const insert = db.prepare("INSERT INTO updates (data, history) VALUES (?, NULL)")
    const insertAll = db.transaction((updates: ReadonlyArray<Uint8Array>) => {
      for (const update of updates) insert.run(update)
    })
    let pending: Array<Uint8Array> = []
    const save = () => {
      insertAll(pending)
      pending = []
    }
    const stop = stopwatch()
    const doc = new Y.Doc()
    doc.on("update", (update: Uint8Array) => {
      if (batch === 1) insert.run(update)
      else if (pending.push(update) >= batch) save()
    })
    const text = replayOnYjs(doc, trace)
    if (pending.length > 0) save()
    const times = stop()
    const rows = (db.prepare("SELECT COUNT(*) AS n FROM updates").get() as { n: number }).n
    const expectedRows = countEdits(trace) + (trace.startContent === "" ? 0 : 1)
    db.close()
    emit({
      scenario: batch === 1 ? "trace-limit" : `trace-limit-${batch}`,
      metrics: {
        edits: countEdits(trace),
        ...times,
        peakRssMiB: peakRssMiB(),
        correct: text.toString() === trace.endContent && rows === expectedRows,
      },
    })
  } finally {
    cleanup()
  }
}

type Edit = Trace["txns"][number]["patches"][number]

/** The trace's `edits` through the Store with `inFlight` writers: each takes the next edit and waits until
 * it is durable before taking another, so up to `inFlight` writes wait for the disk at once. */
const applyTrace = (store: Store["Type"], id: StoryId, edits: ReadonlyArray<Edit>, inFlight: number) => {
  let next = 0
  const writer = Effect.suspend(function loop(): Effect.Effect<void, unknown> {
    const edit = edits[next++]
    if (edit === undefined) return Effect.void
    const [index, deleteCount, insert] = edit
    return Effect.flatMap(store.editContent(id, { _tag: "Splice", index, deleteCount, insert }), loop)
  })
  return Effect.all(
    Array.from({ length: inFlight }, () => writer),
    { concurrency: "unbounded", discard: true },
  )
}

/** The Store on `db`, counting the SQLite transactions its writes go to disk in (group commit's batches). */
const countingStore = (db: string) => {
  const counted = { commits: 0 }
  const persistence = Layer.effect(
    Persistence,
    Effect.map(Persistence, (real) => ({
      ...real,
      appendBatch: (rows: Parameters<typeof real.appendBatch>[0]) => {
        counted.commits++
        return real.appendBatch(rows)
      },
    })),
  ).pipe(Layer.provide(PersistenceLive(db)))
  return { counted, layer: StoreLive().pipe(Layer.provideMerge(persistence)) }
}

const throughStore = async (inFlight: number) => {
  const trace = loadTrace()
  const { dir, cleanup } = scratchDir()
  const db = join(dir, "huskies.db")
  const { counted, layer } = countingStore(db)
  // As for the baselines, the clock runs from the first change to the last one durable: opening the database
  // and closing it (a WAL checkpoint) are outside it, and so is flattening the trace into edits.
  const edits = trace.txns.flatMap((t) => t.patches)
  try {
    const { id, times } = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const store = Context.get(yield* Layer.build(layer), Store)
          const stop = stopwatch()
          const item = yield* store.create({
            kind: "story",
            name: "automerge paper",
            content: trace.startContent,
          })
          yield* applyTrace(store, item.id, edits, inFlight)
          return { id: item.id, times: stop() }
        }),
      ),
    )
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
      scenario: inFlight === 1 ? "trace-store" : `trace-store-${inFlight}`,
      metrics: {
        edits: countEdits(trace),
        ...times,
        reloadMs,
        // Writes per SQLite transaction: 1 with one writer, close to `inFlight` when group commit works.
        writesPerCommit: Math.round((countEdits(trace) / counted.commits) * 10) / 10,
        peakRssMiB: peakRssMiB(),
        correct: content === trace.endContent,
      },
    })
  } finally {
    cleanup()
  }
}

const mode = process.argv[2]
const count = Number(process.argv[3] ?? 1)
if (!Number.isInteger(count) || count < 1) throw new Error("the count must be a positive integer")
if (mode === "yjs") plainYjs()
else if (mode === "limit") limitBaseline(count)
else if (mode === "store") await throughStore(count)
else throw new Error("usage: editingTrace yjs | limit [updates per commit] | store [writes in flight]")
