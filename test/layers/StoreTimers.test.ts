// test/layers/StoreTimers.test.ts — timers in the Store: set for the stage the item is in, removed in
// the same write that moves or deletes the item, kept across a restart, bad data shown not dropped.
import { StoryId } from "../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { join } from "node:path"
import * as Y from "yjs"
import { Persistence } from "../../src/layers/Persistence.js"
import { Store } from "../../src/layers/Store.js"
import { story, withFreshStore, withStore } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"

describe("Store timers", () => {
  it.scoped("a start timer survives a restart and is removed when the item moves on", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      const id = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("Later"))
          const timer = yield* store.setTimer({ storyId: item.id, kind: "start", at: 5_000, note: "tonight" })
          expect(timer).toMatchObject({
            id: `${item.id}:start`,
            stage: "Backlog",
            at: 5_000,
            note: "tonight",
          })
          // Setting it again moves it: one timer per item and kind.
          yield* store.setTimer({ storyId: item.id, kind: "start", at: 7_000, note: "later" })
          expect((yield* store.timers).timers.map((t) => t.at)).toEqual([7_000])
          return item.id
        }),
      )
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          expect((yield* store.timers).timers).toHaveLength(1)
          const changes = yield* store.subscribe
          yield* store.apply(id, { _tag: "Start", at: 10 })
          expect((yield* store.timers).timers).toEqual([])
          const seen = [yield* changes.take, yield* changes.take].map((e) => e._tag)
          expect(seen).toEqual(["ItemChanged", "TimersChanged"])
        }),
      )
    }),
  )

  it.effect("a retry timer stays while the item stays in its stage and goes with a block or a delete", () =>
    withFreshStore(
      Effect.gen(function* () {
        const store = yield* Store
        const a = yield* store.create(story("A"))
        yield* store.apply(a.id, { _tag: "Start", at: 10 })
        yield* store.setTimer({ storyId: a.id, kind: "retry", at: 9_000, note: "rate limited (429)" })
        yield* store.apply(a.id, { _tag: "GatesFailed", why: "tests failed", retryLimit: 3, at: 20 })
        expect((yield* store.timers).timers.map((t) => t.kind)).toEqual(["retry"])
        yield* store.apply(a.id, { _tag: "Block", why: "needs a decision", at: 30 })
        expect((yield* store.timers).timers).toEqual([])

        const b = yield* store.create(story("B"))
        yield* store.apply(b.id, { _tag: "Start", at: 10 })
        yield* store.setTimer({ storyId: b.id, kind: "retry", at: 9_000, note: "rate limited" })
        const report = yield* store.delete(b.id)
        expect(report.timers).toEqual([`${b.id}:retry`])
        expect((yield* store.timers).timers).toEqual([])
      }),
    ),
  )

  it.effect("a timer for a stage the item is not in, or for a missing item, is refused", () =>
    withFreshStore(
      Effect.gen(function* () {
        const store = yield* Store
        const a = yield* store.create(story("A"))
        const refused = yield* Effect.flip(store.setTimer({ storyId: a.id, kind: "retry", at: 1, note: "x" }))
        expect(refused.message).toContain("only for items in Coding or Qa or Merge")
        const missing = yield* Effect.flip(
          store.setTimer({ storyId: StoryId.make("99_story_gone"), kind: "start", at: 1, note: "x" }),
        )
        expect(missing._tag).toBe("ItemNotFound")
        yield* store.apply(a.id, { _tag: "Start", at: 10 })
        const late = yield* Effect.flip(store.setTimer({ storyId: a.id, kind: "start", at: 1, note: "x" }))
        expect(late.message).toContain("it is in Coding")
      }),
    ),
  )

  it.effect("cancelTimers removes only what it is asked to", () =>
    withFreshStore(
      Effect.gen(function* () {
        const store = yield* Store
        const a = yield* store.create(story("A"))
        yield* store.setTimer({ storyId: a.id, kind: "start", at: 1, note: "x" })
        expect(yield* store.cancelTimers(a.id, ["nope"])).toEqual([])
        expect(yield* store.cancelTimers(a.id)).toEqual([`${a.id}:start`])
        expect(yield* store.cancelTimers(a.id)).toEqual([])
      }),
    ),
  )

  it.scoped("a stored timer that does not decode is reported, not dropped", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      yield* withStore(
        db,
        Effect.gen(function* () {
          const persistence = yield* Persistence
          const doc = new Y.Doc()
          doc.getMap("timers").set("x:start", { id: "x:start", storyId: "x", at: "soon" })
          yield* persistence.append(Y.encodeStateAsUpdate(doc))
        }),
      )
      yield* withStore(
        db,
        Effect.gen(function* () {
          const { timers, errors } = yield* (yield* Store).timers
          expect(timers).toEqual([])
          expect(errors.map((e) => e.path)).toEqual(["timers/x:start"])
        }),
      )
    }),
  )
})
