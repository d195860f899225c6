// test/layers/StoreDecisions.test.ts — decisions in the Store: opened and answered once, durable across a
// restart, published on the event bus, bad data shown not dropped, pruned per item, deleted with the item.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Queue } from "effect"
import { join } from "node:path"
import * as Y from "yjs"
import { answersKept, type Decision, DecisionId } from "../../src/domain/Decision.js"
import { StoryId } from "../../src/domain/StoryId.js"
import { Persistence } from "../../src/layers/Persistence.js"
import { Store } from "../../src/layers/Store.js"
import { story, withFreshStore, withStore } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"

const permission = (n: number, storyId?: StoryId): Decision & { answer?: undefined } => ({
  _tag: "Permission",
  id: DecisionId.make(`dec-${n}`),
  ...(storyId === undefined ? {} : { storyId }),
  toolName: "Bash",
  input: { command: "npm publish", nested: { args: ["--tag", "next"] } },
  requestedAt: 1_000 + n,
  expiresAt: 301_000 + n,
})

describe("Store decisions", () => {
  it.scoped("an opened decision is answered once, and both survive a restart", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const events = yield* store.subscribe
          yield* store.openDecision(permission(1))
          expect((yield* Queue.take(events))._tag).toBe("DecisionOpened")
          const answered = yield* store.answerDecision("dec-1", {
            verdict: "allow",
            by: "ui:alice",
            at: 2_000,
          })
          expect(answered.answer).toEqual({ verdict: "allow", by: "ui:alice", at: 2_000 })
          const event = yield* Queue.take(events)
          expect(event).toEqual({ _tag: "DecisionAnswered", decision: answered })
          const again = yield* Effect.flip(
            store.answerDecision("dec-1", { verdict: "deny", by: "ui:bob", at: 3_000 }),
          )
          expect(again._tag).toBe("DecisionAlreadyAnswered")
          expect(again.message).toContain("already answered: allow by ui:alice")
        }),
      )
      yield* withStore(
        db,
        Effect.gen(function* () {
          const { decisions, errors } = yield* (yield* Store).decisions
          expect(errors).toEqual([])
          expect(decisions).toEqual([
            { ...permission(1), answer: { verdict: "allow", by: "ui:alice", at: 2_000 } },
          ])
        }),
      )
    }),
  )

  it.scoped(
    "refuses an unknown decision, a verdict of the other kind, and a decision for an unknown item",
    () =>
      withFreshStore(
        Effect.gen(function* () {
          const store = yield* Store
          expect(
            (yield* Effect.flip(store.answerDecision("dec-x", { verdict: "allow", by: "a", at: 1 })))._tag,
          ).toBe("DecisionNotFound")
          yield* store.openDecision(permission(2))
          const wrong = yield* Effect.flip(
            store.answerDecision("dec-2", { verdict: "approve", by: "a", at: 1 }),
          )
          expect(wrong._tag).toBe("VerdictRefused")
          expect(wrong.message).toContain("answer it with allow or deny")
          const missing = yield* Effect.flip(store.openDecision(permission(3, StoryId.make("9_story_gone"))))
          expect(missing._tag).toBe("ItemNotFound")
          expect((yield* store.decisions).decisions.map((d) => d.id)).toEqual(["dec-2"])
        }),
      ),
  )

  it.scoped("a decision that does not decode is a ProjectionError, shown and not answerable", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      yield* withStore(
        db,
        Effect.gen(function* () {
          // Written as a peer (or a bad edit) could: a QA verdict on a permission request.
          const doc = new Y.Doc()
          doc
            .getMap("decisions")
            .set("dec-bad", { ...permission(4), answer: { verdict: "approve", by: "x", at: 1 } })
          yield* (yield* Persistence).append(Y.encodeStateAsUpdate(doc))
        }),
      )
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const { decisions, errors } = yield* store.decisions
          expect(decisions).toEqual([])
          expect(errors.map((e) => e.path)).toEqual(["decisions/dec-bad"])
          const refused = yield* Effect.flip(
            store.answerDecision("dec-bad", { verdict: "deny", by: "a", at: 1 }),
          )
          expect(refused._tag).toBe("ProjectionError")
        }),
      )
    }),
  )

  it.scoped("keeps the last answers of each item, and deletes an item's decisions with the item", () =>
    withFreshStore(
      Effect.gen(function* () {
        const store = yield* Store
        const item = yield* store.create(story("Publish"))
        const other = yield* store.create(story("Other"))
        for (let n = 0; n < answersKept + 3; n++) {
          yield* store.openDecision(permission(100 + n, item.id))
          yield* store.answerDecision(`dec-${100 + n}`, { verdict: "deny", by: "ui:alice", at: 10_000 + n })
        }
        yield* store.openDecision(permission(900, item.id))
        yield* store.openDecision(permission(901, other.id))
        const kept = (yield* store.decisions).decisions.filter((d) => d.storyId === item.id)
        // The oldest three answers went; the pending one stays whatever its age.
        expect(kept.length).toBe(answersKept + 1)
        expect(kept.map((d) => d.id)).not.toContain("dec-100")
        expect(kept.map((d) => d.id)).toContain("dec-103")
        expect(kept.map((d) => d.id)).toContain("dec-900")
        const report = yield* store.delete(item.id)
        expect(report.decisions.length).toBe(answersKept + 1)
        expect((yield* store.decisions).decisions.map((d) => d.id)).toEqual(["dec-901"])
        expect((yield* store.dump(other.id))["decisions"]).toHaveProperty("dec-901")
      }),
    ),
  )
})
