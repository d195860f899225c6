// test/layers/docModel.test.ts — the typed projection of the Y.Doc: decoded items, decisions and claim
// entries are reused until the document changes them, whether the change is written here or arrives as an
// update from a peer.
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import * as Y from "yjs"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { makeStoryId } from "../../src/domain/StoryId.js"
import { newWorkItem, type WorkItem } from "../../src/domain/WorkItem.js"
import { Schema } from "effect"
import { Decision, DecisionId } from "../../src/domain/Decision.js"
import {
  docMaps,
  readAllItems,
  readDecisions,
  readItem,
  removeItem,
  writeItem,
} from "../../src/layers/docModel.js"
import { readClaimEntries, writeClaimEntry } from "../../src/layers/storeClaims.js"

const id = makeStoryId(1, "story", "cached")
const other = makeStoryId(2, "story", "other")

const stageOf = (read: ReturnType<typeof readItem>) =>
  read !== undefined && Either.isRight(read) ? read.right.stage._tag : undefined

/** Sends every change of `from` that `to` lacks, as a peer's sync would. */
const sync = (from: Y.Doc, to: Y.Doc) =>
  Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)))

describe("docModel projection", () => {
  it("answers the same decoded item until that item changes, here or from a peer", () => {
    const doc = new Y.Doc()
    const maps = docMaps(doc)
    const item = newWorkItem(id, "story", 1)
    doc.transact(() => {
      writeItem(maps, undefined, item)
      writeItem(maps, undefined, newWorkItem(other, "story", 1))
    })
    const first = readItem(maps, id)
    expect(readItem(maps, id)).toBe(first)
    const list = readAllItems(maps)
    expect(readAllItems(maps)).toBe(list)
    expect(list.items.map((i) => i.id).sort()).toEqual([id, other])

    const started: WorkItem = { ...item, stage: { _tag: "Coding" }, updatedAt: 2 }
    doc.transact(() => writeItem(maps, item, started))
    expect(stageOf(readItem(maps, id))).toBe("Coding")
    expect(readAllItems(maps).items.find((i) => i.id === id)?.stage._tag).toBe("Coding")

    // A peer records execution state for the item and then deletes the other one.
    const peer = new Y.Doc()
    sync(doc, peer)
    const peerMaps = docMaps(peer)
    const node = NodeId.make("node-peer")
    const before = readItem(maps, id)
    peer.transact(() => {
      const perItem = new Y.Map<unknown>()
      peerMaps.execution.set(node, perItem)
      perItem.set(id, { _tag: "Pending" })
    })
    sync(peer, doc)
    const after = readItem(maps, id)
    expect(after).not.toBe(before)
    expect(after !== undefined && Either.isRight(after) ? Object.keys(after.right.execution) : []).toEqual([
      node,
    ])
    peer.transact(() => removeItem(peerMaps, other))
    sync(peer, doc)
    expect(readItem(maps, other)).toBeUndefined()
    expect(readAllItems(maps).items.map((i) => i.id)).toEqual([id])
  })

  it("answers the same decoded decisions until one is set again; a bad one stays an error", () => {
    const doc = new Y.Doc()
    const maps = docMaps(doc)
    const encode = Schema.encodeSync(Decision)
    const asked = (n: number) => ({
      _tag: "HumanQa" as const,
      id: DecisionId.make(`dec-${n}`),
      storyId: makeStoryId(n, "story", "asked"),
      requestedAt: n,
    })
    doc.transact(() => {
      maps.decisions.set("dec-1", encode(asked(1)))
      maps.decisions.set("dec-2", encode(asked(2)))
      maps.decisions.set("dec-3", { _tag: "HumanQa", id: "dec-3" })
    })
    const first = readDecisions(maps)
    expect(first.decisions.map((d) => d.id)).toEqual(["dec-1", "dec-2"])
    expect(first.errors.map((e) => e.path)).toEqual(["decisions/dec-3"])
    const again = readDecisions(maps)
    expect(again.decisions[0]).toBe(first.decisions[0])
    expect(again.errors[0]?.detail).toBe(first.errors[0]?.detail)

    // Answered by a peer: the new value is decoded, the untouched one is still the same.
    const peer = new Y.Doc()
    sync(doc, peer)
    const answer = { verdict: "approve" as const, by: "ui:alice", at: 5 }
    peer.transact(() => docMaps(peer).decisions.set("dec-2", encode({ ...asked(2), answer })))
    sync(peer, doc)
    const later = readDecisions(maps)
    expect(later.decisions[0]).toBe(first.decisions[0])
    expect(later.decisions[1]).toEqual({ ...asked(2), answer })
  })

  it("answers the same decoded claim entries until one is written again; a bad one stays an error", () => {
    const doc = new Y.Doc()
    const maps = docMaps(doc)
    const [a, b] = [NodeId.make("node-a"), NodeId.make("node-b")]
    const entry = (leaseUntil: number) => ({ epoch: 1, leaseUntil, claimedAt: 1 })
    doc.transact(() => {
      writeClaimEntry(maps, id, a, entry(10))
      writeClaimEntry(maps, id, b, entry(20))
      writeClaimEntry(maps, other, a, entry(10))
      ;(maps.claims.get(other) as Y.Map<unknown>).set(b, { epoch: 0, leaseUntil: 1, claimedAt: 1 })
    })
    const first = Either.getOrThrow(readClaimEntries(maps, id))
    expect(Either.getOrThrow(readClaimEntries(maps, id)).get(a)).toBe(first.get(a))
    const bad = readClaimEntries(maps, other)
    expect(Either.isLeft(bad) && bad.left.path).toBe(`claims/${other}/${b}`)
    expect(Either.isLeft(bad) && bad.left.detail).toContain("epoch")

    // b renews on a peer: its new entry is decoded, a's is still the same.
    const peer = new Y.Doc()
    sync(doc, peer)
    peer.transact(() => writeClaimEntry(docMaps(peer), id, b, entry(30)))
    sync(peer, doc)
    const later = Either.getOrThrow(readClaimEntries(maps, id))
    expect(later.get(a)).toBe(first.get(a))
    expect(later.get(b)).toEqual(entry(30))
  })
})
