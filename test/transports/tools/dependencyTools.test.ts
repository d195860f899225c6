// test/transports/tools/dependencyTools.test.ts — set_dependencies replaces depends_on and answers with
// each dependency's status; unknown ids, self-dependency and new cycles are refused without writing.
import { StoryId } from "../../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { Store } from "../../../src/layers/Store.js"
import { err, ok, withTools } from "../../support/tools.js"

const file = (name: string, extra: Record<string, unknown> = {}) =>
  Effect.map(ok("create_story", { name, ...extra }), (created) => created["story_id"] as string)

const content = (id: string) => Effect.flatMap(Store, (store) => store.content(StoryId.make(id)))

describe("set_dependencies", () => {
  it.effect("replaces depends_on and reports whether each dependency is met", () =>
    withTools(() =>
      Effect.gen(function* () {
        const a = yield* file("A")
        const b = yield* file("B")
        const c = yield* file("C", { depends_on: [a] })
        yield* ok("move_story", { story_id: b, to: "coding" })
        const set = yield* ok("set_dependencies", { story_id: c, depends_on: [b, b] })
        expect(set["depends_on"]).toEqual([b])
        expect(set["dependencies"]).toEqual([{ id: b, met: false, status: "Waiting", stage: "Coding" }])
        expect(set["summary"]).toBe(`waiting on ${b} (Coding)`)
        const text = yield* content(c)
        expect(text).toContain(`depends_on: [${b}]`)
        expect(text).not.toContain(a)
        const cleared = yield* ok("set_dependencies", { story_id: c, depends_on: [] })
        expect(cleared["summary"]).toBe("no dependencies")
        expect(yield* content(c)).not.toContain("depends_on")
      }),
    ),
  )

  it.effect("refuses unknown ids, malformed ids and the item itself", () =>
    withTools(() =>
      Effect.gen(function* () {
        const a = yield* file("A")
        const before = yield* content(a)
        expect(yield* err("set_dependencies", { story_id: a, depends_on: ["7_story_ghost"] })).toContain(
          "depends_on names items that do not exist: 7_story_ghost",
        )
        expect(yield* err("set_dependencies", { story_id: a, depends_on: ["ghost"] })).toContain(
          '"ghost" is not an item id',
        )
        expect(yield* err("set_dependencies", { story_id: a, depends_on: [a] })).toContain(
          `${a} cannot depend on itself`,
        )
        expect(yield* content(a)).toBe(before)
      }),
    ),
  )

  it.effect("refuses a change that would close a cycle, naming it", () =>
    withTools(() =>
      Effect.gen(function* () {
        const a = yield* file("A")
        const b = yield* file("B", { depends_on: [a] })
        const c = yield* file("C", { depends_on: [b] })
        const before = yield* content(a)
        const message = yield* err("set_dependencies", { story_id: a, depends_on: [c] })
        expect(message).toContain(`dependency cycle ${a} → ${c} → ${b} → ${a}`)
        expect(yield* content(a)).toBe(before)
        // The same rule guards depends_on set through update_story.
        const viaUpdate = yield* err("update_story", { story_id: a, front_matter: { depends_on: [b] } })
        expect(viaUpdate).toContain(`dependency cycle ${a} → ${b} → ${a}`)
        expect(yield* content(a)).toBe(before)
      }),
    ),
  )

  it.effect("allows a loop through a Done item: that dependency is already met", () =>
    withTools(() =>
      Effect.gen(function* () {
        const a = yield* file("A")
        const b = yield* file("B", { depends_on: [a] })
        const store = yield* Store
        const at = yield* Clock.currentTimeMillis
        yield* store.apply(StoryId.make(a), { _tag: "Start", at })
        yield* store.apply(StoryId.make(a), {
          _tag: "GatesPassed",
          featureBranch: "feature/x",
          commitsAhead: 1,
          qa: "none",
          at,
        })
        yield* store.apply(StoryId.make(a), { _tag: "Merged", mergeCommit: "abcdef1", mergedAt: at, at })
        const set = yield* ok("set_dependencies", { story_id: a, depends_on: [b] })
        expect(set["dependencies"]).toEqual([{ id: b, met: false, status: "Waiting", stage: "Backlog" }])
      }),
    ),
  )
})
