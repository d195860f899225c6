// src/layers/textCache.ts — the Store's item markdown as strings, made once per change of each text rather
// than at every read: a look at the pipeline reads the content of every Backlog, Coding and QA item, and
// Y.Text.toString walks the whole text and makes a new string each time (about 1 ms a look, and its garbage,
// with 2,000 items). Every transaction on the document, a peer's included, drops the texts it changed.
import * as Y from "yjs"

/** Reads a text of `doc` as a string, remembered until a transaction changes that text. */
export const textCache = (doc: Y.Doc): ((text: Y.Text) => string) => {
  const strings = new WeakMap<Y.Text, string>()
  doc.on("afterTransaction", (transaction: Y.Transaction) => {
    for (const type of transaction.changed.keys()) if (type instanceof Y.Text) strings.delete(type)
  })
  return (text) => {
    const known = strings.get(text)
    if (known !== undefined) return known
    const fresh = text.toString()
    strings.set(text, fresh)
    return fresh
  }
}
