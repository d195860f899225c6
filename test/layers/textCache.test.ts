// test/layers/textCache.test.ts — the Store's remembered content strings: a read after any change to a
// text, made here or applied from a peer's update, gives the text as it is now; texts left alone keep
// their string, and one document's transactions never touch another's.
import { describe, expect, it } from "@effect/vitest"
import * as Y from "yjs"
import { textCache } from "../../src/layers/textCache.js"

describe("textCache", () => {
  it("reads each text as it is after local edits and a peer's update, and remembers the rest", () => {
    const doc = new Y.Doc()
    const read = textCache(doc)
    const texts = doc.getMap<Y.Text>("content")
    texts.set("a", new Y.Text("first"))
    texts.set("b", new Y.Text("second"))
    const a = texts.get("a") as Y.Text
    const b = texts.get("b") as Y.Text
    expect(read(a)).toBe("first")
    const remembered = read(b)
    expect(remembered).toBe("second")

    a.insert(5, " edit")
    expect(read(a)).toBe("first edit")
    doc.transact(() => {
      a.delete(0, 6)
      a.insert(0, "one ")
    })
    expect(read(a)).toBe("one edit")
    // b was not touched: the same string, not made again.
    expect(read(b)).toBe(remembered)

    const peer = new Y.Doc()
    Y.applyUpdate(peer, Y.encodeStateAsUpdate(doc))
    const seen = Y.encodeStateVector(peer)
    ;(peer.getMap<Y.Text>("content").get("b") as Y.Text).insert(0, "peer's ")
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(peer, seen))
    expect(read(b)).toBe("peer's second")
    expect(read(a)).toBe("one edit")

    // Another document's edits are its own.
    const other = new Y.Doc()
    const readOther = textCache(other)
    const c = other.getMap<Y.Text>("content")
    c.set("a", new Y.Text("x"))
    expect(readOther(c.get("a") as Y.Text)).toBe("x")
    expect(read(a)).toBe("one edit")
  })
})
