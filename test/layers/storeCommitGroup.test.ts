// test/layers/storeCommitGroup.test.ts — storeCommit's groups of `writeNow` bodies (one Y transaction per
// group) on a real SQLite file: a body that throws half-way through its change drops nothing the others
// wrote, leaves memory equal to the disk, and fails alone.
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Effect, Either, Exit, Layer, PubSub } from "effect"
import { join } from "node:path"
import type * as Y from "yjs"
import { Persistence, PersistenceLive } from "../../src/layers/Persistence.js"
import { storeCommit } from "../../src/layers/storeCommit.js"
import { loadDoc } from "../../src/layers/storeFile.js"
import { historyDocument } from "../../src/layers/storeHistory.js"
import type { CommittedUpdate } from "../../src/layers/storeSync.js"
import type { StoreEvent } from "../../src/layers/storeTypes.js"
import { scopedTempDir } from "../support/tempDir.js"

class HalfWay extends Error {}

describe("storeCommit groups", () => {
  it.scoped("a body that throws mid-change in a group fails alone; the others land; memory equals disk", () =>
    Effect.gen(function* () {
      const path = join(yield* scopedTempDir, "huskies.db")
      const persistence = Context.get(yield* Layer.build(PersistenceLive(path)), Persistence)
      let doc: Y.Doc = (yield* loadDoc(persistence)).doc
      const commits = storeCommit({
        doc: () => doc,
        persistence,
        history: historyDocument(persistence, 10_000),
        events: yield* PubSub.unbounded<StoreEvent>(),
        updates: yield* PubSub.unbounded<CommittedUpdate>(),
        saved: () => undefined,
        restore: Effect.asVoid(
          Effect.tap(Effect.orDie(loadDoc(persistence)), ({ doc: fresh }) =>
            Effect.sync(() => {
              doc.destroy()
              doc = fresh
            }),
          ),
        ),
      })
      const text = () => doc.getText("t")
      const edit = (token: string, throws: boolean) =>
        commits.writeNow(() => {
          commits.commitNow(() => {
            text().insert(0, token)
            if (throws) throw new HalfWay()
          })
          return Either.void
        })
      const tokens = Array.from({ length: 16 }, (_, k) => `w${k};`)
      const exits = yield* Effect.all(
        tokens.map((token, k) => Effect.exit(edit(token, k === 6))),
        { concurrency: "unbounded" },
      )
      const onDisk = (yield* Effect.orDie(loadDoc(persistence))).doc.getText("t").toString()
      expect(text().toString()).toBe(onDisk)
      for (const [k, exit] of exits.entries()) {
        if (k === 6) {
          expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
          expect(onDisk.includes(tokens[k]!)).toBe(false)
        } else {
          expect(Exit.isSuccess(exit)).toBe(true)
          expect(onDisk.includes(tokens[k]!)).toBe(true)
        }
      }
      // Afterwards the writes share transactions again.
      yield* Effect.all(
        Array.from({ length: 8 }, (_, k) => edit(`a${k};`, false)),
        { concurrency: "unbounded", discard: true },
      )
      const after = (yield* Effect.orDie(loadDoc(persistence))).doc.getText("t").toString()
      expect(after).toBe(text().toString())
      expect(after.length).toBe(onDisk.length + 8 * 3)
    }),
  )
})
