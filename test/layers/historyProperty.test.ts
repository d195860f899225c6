// test/layers/historyProperty.test.ts — an item's history across replicas, property-tested: three real Y.Docs
// written only through storeHistory's applyChange with a small cap, random records on each, their updates
// delivered in random order, duplicated and late, never trimmed on arrival (as sync applies them). Once
// everything is delivered every replica shows the same entries, exactly the cap's worth (or all of them):
// concurrent trims never take more than they should, and never leave more shown than the cap.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import * as Y from "yjs"
import type { HistoryEntry } from "../../src/domain/History.js"
import { applyChange, type HistoryEntries, readEntries } from "../../src/layers/storeHistory.js"

const limit = 5
const id = "1_story_one"

type Op =
  | { readonly _tag: "Record"; readonly replica: number }
  | { readonly _tag: "Deliver"; readonly from: number; readonly to: number; readonly pick: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ _tag: fc.constant("Record" as const), replica: fc.nat(2) }),
  fc.record({ _tag: fc.constant("Deliver" as const), from: fc.nat(2), to: fc.nat(2), pick: fc.nat() }),
)

interface Replica {
  readonly doc: Y.Doc
  readonly entries: HistoryEntries
  /** Every update this replica made, in order: what a peer may be sent, in any order, any number of times. */
  readonly made: Array<Uint8Array>
}

const replica = (): Replica => {
  const doc = new Y.Doc()
  const made: Array<Uint8Array> = []
  doc.on("update", (update: Uint8Array, origin: unknown) => {
    if (origin !== "peer") made.push(update)
  })
  return { doc, entries: doc.getMap("history"), made }
}

const shown = (r: Replica) => {
  const read = readEntries(r.entries, id, limit)
  if (Either.isLeft(read)) throw new Error(read.left.message)
  return read.right.map((e) => e.event)
}

const run = (ops: ReadonlyArray<Op>) => {
  const replicas = [replica(), replica(), replica()]
  let next = 0
  const record = (r: Replica) => {
    const entry: HistoryEntry = { at: next, event: `e${next}`, to: "Backlog" }
    next++
    r.doc.transact(() => applyChange(r.entries, { _tag: "Record", id, entry }, limit))
  }
  // The item's list comes with its creation, on one replica, and reaches the others before they write.
  record(replicas[0]!)
  for (const r of replicas.slice(1)) Y.applyUpdate(r.doc, Y.encodeStateAsUpdate(replicas[0]!.doc), "peer")
  for (const op of ops) {
    if (op._tag === "Record") record(replicas[op.replica]!)
    else {
      const from = replicas[op.from]!
      const update = from.made[op.pick % Math.max(1, from.made.length)]
      if (update !== undefined && op.from !== op.to) Y.applyUpdate(replicas[op.to]!.doc, update, "peer")
    }
  }
  for (const from of replicas)
    for (const to of replicas) if (from !== to) Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc), "peer")
  const first = shown(replicas[0]!)
  for (const r of replicas) expect(shown(r)).toEqual(first)
  expect(first).toHaveLength(Math.min(limit, next))
  // A write after the merge trims to the cap on its replica, and the others follow.
  record(replicas[1]!)
  for (const r of [replicas[0]!, replicas[2]!])
    Y.applyUpdate(r.doc, Y.encodeStateAsUpdate(replicas[1]!.doc), "peer")
  for (const r of replicas) expect(shown(r)).toEqual(shown(replicas[1]!))
  expect(shown(replicas[1]!).at(-1)).toBe(`e${next - 1}`)
  expect(replicas[1]!.entries.get(id)!.length).toBeLessThanOrEqual(limit)
}

describe("history across replicas (property)", () => {
  it("converges to the same newest entries, the cap's worth, whatever the delivery order", () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 80 }), run), { numRuns: 300 })
  })
})
