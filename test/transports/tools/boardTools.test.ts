// test/transports/tools/boardTools.test.ts — get_pipeline_status shows every stage and what is blocked and
// why (archive reasons, unmet dependencies, cycles, unreadable markdown); list_items filters and limits.
import { StoryId } from "../../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Either } from "effect"
import { parseStoryDoc, renderStoryDoc, setFrontMatter } from "../../../src/domain/StoryDoc.js"
import { Store } from "../../../src/layers/Store.js"
import { err, ok, withTools } from "../../support/tools.js"

const file = (name: string, extra: Record<string, unknown> = {}, kind = "story") =>
  Effect.map(ok(`create_${kind}`, { name, ...extra }), (c) => c["story_id"] as string)

/** Writes depends_on straight into the markdown, past set_dependencies' cycle check (as a hand edit would). */
const forceDependsOn = (id: string, dependsOn: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const store = yield* Store
    const doc = Either.getOrThrow(parseStoryDoc(yield* store.content(StoryId.make(id))))
    const next = Either.getOrThrow(setFrontMatter(doc, "depends_on", dependsOn))
    yield* store.editContent(StoryId.make(id), { _tag: "Replace", text: renderStoryDoc(next) })
  })

interface Blocked {
  readonly id: string
  readonly reason: string
  readonly why: string
  readonly stage: string
}

describe("get_pipeline_status", () => {
  it.effect("counts every stage and explains each blocked item", () =>
    withTools(() =>
      Effect.gen(function* () {
        const store = yield* Store
        const at = yield* Clock.currentTimeMillis
        const flaky = yield* file("Flaky")
        yield* ok("block_story", { story_id: flaky, reason: "CI is flaky" })
        const conflicted = yield* file("Conflicted")
        yield* store.apply(StoryId.make(conflicted), { _tag: "Start", at })
        yield* store.apply(StoryId.make(conflicted), {
          _tag: "GatesPassed",
          featureBranch: `feature/story-${conflicted}`,
          commitsAhead: 1,
          qa: "none",
          at,
        })
        yield* store.apply(StoryId.make(conflicted), { _tag: "MergeFailed", why: "conflict in login.ts", at })
        const held = yield* file("Held")
        yield* store.apply(StoryId.make(held), { _tag: "Hold", at })
        const busy = yield* file("Busy", {}, "bug")
        yield* ok("move_story", { story_id: busy, to: "coding" })
        const waiting = yield* file("Waiting", { depends_on: [busy] })
        const ready = yield* file("Ready")
        const loopA = yield* file("Loop A")
        const loopB = yield* file("Loop B", { depends_on: [loopA] })
        yield* forceDependsOn(loopA, [loopB])
        const broken = yield* file("Broken")
        yield* store.editContent(StoryId.make(broken), { _tag: "Replace", text: "no front matter here\n" })

        const status = yield* ok("get_pipeline_status", {})
        const stages = status["stages"] as ReadonlyArray<{
          stage: string
          count: number
          items: ReadonlyArray<{ id: string; name: string; stage: string }>
        }>
        expect(stages.map((s) => [s.stage, s.count])).toEqual([
          ["Backlog", 5],
          ["Coding", 1],
          ["Qa", 0],
          ["Merge", 0],
          ["Done", 0],
          ["Archived", 3],
        ])
        expect(stages[1]?.items).toEqual([
          expect.objectContaining({ id: busy, name: "Busy", kind: "bug", stage: "Coding" }),
        ])
        expect(stages[0]?.items.find((i) => i.id === broken)?.name).toBe("(content does not parse)")
        expect(status["summary"]).toBe("Backlog 5, Coding 1, Qa 0, Merge 0, Done 0, Archived 3; 6 blocked")

        const blocked = new Map((status["blocked"] as ReadonlyArray<Blocked>).map((b) => [b.id, b]))
        expect([...blocked.keys()].sort()).toEqual([flaky, conflicted, held, waiting, loopA, loopB].sort())
        expect(blocked.get(flaky)).toMatchObject({ reason: "Blocked", why: "blocked: CI is flaky" })
        expect(blocked.get(conflicted)).toMatchObject({
          reason: "MergeFailed",
          why: "merge failed: conflict in login.ts",
        })
        expect(blocked.get(held)).toMatchObject({ reason: "ReviewHold", why: "on review hold" })
        expect(blocked.get(waiting)).toMatchObject({
          reason: "Dependencies",
          why: `waiting on ${busy} (Coding)`,
        })
        const cycleWhy = `dependency cycle ${loopA} → ${loopB} → ${loopA}: remove one of these depends_on entries`
        expect(blocked.get(loopA)).toMatchObject({ reason: "DependencyCycle", why: cycleWhy })
        expect(blocked.get(loopB)).toMatchObject({ reason: "DependencyCycle", why: cycleWhy })
        expect(blocked.has(ready)).toBe(false)
        expect(status["cycles"]).toEqual([{ members: [loopA, loopB], path: [loopA, loopB], why: cycleWhy }])
        const contentErrors = status["content_errors"] as ReadonlyArray<{ id: string; message: string }>
        expect(contentErrors.map((e) => e.id)).toEqual([broken])
        expect(contentErrors[0]?.message).toContain("front matter")
        expect(status["projection_errors"]).toEqual([])
      }),
    ),
  )

  it.effect("answers for an empty pipeline", () =>
    withTools(() =>
      Effect.gen(function* () {
        const status = yield* ok("get_pipeline_status", {})
        expect(status["blocked"]).toEqual([])
        expect(status["summary"]).toBe("Backlog 0, Coding 0, Qa 0, Merge 0, Done 0, Archived 0; 0 blocked")
      }),
    ),
  )
})

describe("list_items", () => {
  it.effect("filters by stage (any case), kind and text, in id order, with a limit and the total", () =>
    withTools(() =>
      Effect.gen(function* () {
        const login = yield* file("Add login", { description: "uses OAuth tokens" })
        const crash = yield* file("Crash on save", {}, "bug")
        const spike = yield* file("Try oauth libraries", {}, "spike")
        yield* ok("move_story", { story_id: crash, to: "coding" })

        const all = yield* ok("list_items", {})
        expect(all["total"]).toBe(3)
        expect((all["items"] as ReadonlyArray<{ id: string }>).map((i) => i.id)).toEqual([
          login,
          crash,
          spike,
        ])
        expect((all["items"] as ReadonlyArray<unknown>)[1]).toMatchObject({
          id: crash,
          name: "Crash on save",
          kind: "bug",
          stage: "Coding",
          stage_summary: "Coding",
          attempts: 0,
        })
        const coding = yield* ok("list_items", { stage: "CODING" })
        expect((coding["items"] as ReadonlyArray<{ id: string }>).map((i) => i.id)).toEqual([crash])
        const backlogBugs = yield* ok("list_items", { stage: "backlog", kind: "bug" })
        expect(backlogBugs["total"]).toBe(0)
        const oauth = yield* ok("list_items", { text: "OAUTH" })
        expect((oauth["items"] as ReadonlyArray<{ id: string }>).map((i) => i.id)).toEqual([login, spike])
        const byId = yield* ok("list_items", { text: "3_spike" })
        expect(byId["total"]).toBe(1)
        const limited = yield* ok("list_items", { limit: 1 })
        expect(limited["total"]).toBe(3)
        expect(limited["items"]).toHaveLength(1)
      }),
    ),
  )

  it.effect("names the field for a bad stage, kind or limit", () =>
    withTools(() =>
      Effect.gen(function* () {
        const stage = yield* err("list_items", { stage: "review" })
        expect(stage).toContain('parameter "stage"')
        expect(stage).toContain("expected one of backlog, coding, qa, merge, done, archived (any case)")
        expect(yield* err("list_items", { kind: "epic" })).toContain('parameter "kind"')
        expect(yield* err("list_items", { limit: 1001 })).toContain('parameter "limit"')
        expect(yield* err("list_items", { limit: 0 })).toContain('parameter "limit"')
      }),
    ),
  )
})
