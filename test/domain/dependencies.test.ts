// test/domain/dependencies.test.ts — dependency resolution (met / waiting / archived / missing), the
// status line, and cycle detection, with property tests against a topological sort.
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import {
  allMet,
  compareStoryIds,
  type DependencyGraph,
  dependencyStatus,
  describeCycle,
  describeDependencies,
  findCycles,
  isMet,
} from "../../src/domain/dependencies.js"
import type { Stage } from "../../src/domain/Stage.js"
import { StoryId } from "../../src/domain/StoryId.js"
import { stageArb, storyIdArb } from "./arbitraries.js"

const sid = (s: string) => StoryId.make(s)
const a = sid("1_story_a")
const b = sid("2_bug_b")
const c = sid("3_story_x")
const d = sid("4_bug_y")
const e = sid("5_spike_e")
const sha = "0123456789abcdef0123456789abcdef01234567"

const done: Stage = { _tag: "Done", mergeCommit: sha, mergedAt: 5 }
const completed: Stage = { _tag: "Archived", reason: { _tag: "Completed" } }
const blocked: Stage = { _tag: "Archived", reason: { _tag: "Blocked", why: "flaky CI" } }

describe("dependencyStatus", () => {
  const stages = new Map<StoryId, Stage>([
    [a, done],
    [b, completed],
    [c, { _tag: "Coding" }],
    [d, blocked],
  ])

  it("classifies each dependency, in depends_on order, each id once", () => {
    const missing = sid("9_story_gone")
    expect(dependencyStatus([c, a, d, missing, b, c], stages)).toEqual([
      { _tag: "Waiting", id: c, stage: { _tag: "Coding" } },
      { _tag: "Met", id: a, stage: done },
      { _tag: "Archived", id: d, reason: { _tag: "Blocked", why: "flaky CI" } },
      { _tag: "Missing", id: missing },
      { _tag: "Met", id: b, stage: completed },
    ])
  })

  it("accepts a lookup function as well as a map", () => {
    const lookup = (id: StoryId) => stages.get(id)
    expect(dependencyStatus([a, c], lookup)).toEqual(dependencyStatus([a, c], stages))
  })

  it("Done and Archived(Completed) are met; every other stage and archive reason is not", () => {
    const cases: ReadonlyArray<readonly [Stage, boolean]> = [
      [{ _tag: "Backlog" }, false],
      [{ _tag: "Coding" }, false],
      [{ _tag: "Qa" }, false],
      [{ _tag: "Merge", featureBranch: "f", commitsAhead: 1 }, false],
      [done, true],
      [completed, true],
      [blocked, false],
      [{ _tag: "Archived", reason: { _tag: "MergeFailed", why: "conflict" } }, false],
      [{ _tag: "Archived", reason: { _tag: "ReviewHold" } }, false],
      [{ _tag: "Archived", reason: { _tag: "Abandoned" } }, false],
      [{ _tag: "Archived", reason: { _tag: "Superseded", by: "7_story_new" } }, false],
    ]
    for (const [stage, met] of cases) {
      expect([stage, isMet(stage)]).toEqual([stage, met])
      expect(allMet(dependencyStatus([a], new Map([[a, stage]])))).toBe(met)
    }
  })

  it("a missing dependency is never met", () => {
    expect(allMet(dependencyStatus([sid("9_story_gone")], new Map()))).toBe(false)
  })

  it("no dependencies means all met", () => {
    expect(allMet(dependencyStatus([], stages))).toBe(true)
  })

  it("property: allMet exactly when every dependency is Done or Archived(Completed)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(storyIdArb, fc.option(stageArb, { nil: undefined })), {
          maxLength: 8,
          selector: ([id]) => id,
        }),
        (entries) => {
          const lookup = new Map<StoryId, Stage>()
          for (const [id, stage] of entries) if (stage !== undefined) lookup.set(id, stage)
          const ids = entries.map(([id]) => id)
          const statuses = dependencyStatus(ids, lookup)
          expect(statuses.map((s) => s.id)).toEqual(ids)
          const expected = entries.every(
            ([, stage]) =>
              stage !== undefined &&
              (stage._tag === "Done" || (stage._tag === "Archived" && stage.reason._tag === "Completed")),
          )
          expect(allMet(statuses)).toBe(expected)
        },
      ),
    )
  })
})

describe("describeDependencies", () => {
  const stages = new Map<StoryId, Stage>([
    [a, done],
    [c, { _tag: "Coding" }],
    [d, blocked],
    [e, { _tag: "Merge", featureBranch: "feature/e", commitsAhead: 2 }],
  ])

  it("lists what the item waits on, with each dependency's stage", () => {
    expect(describeDependencies(dependencyStatus([a, c, e], stages))).toBe(
      "waiting on 3_story_x (Coding), 5_spike_e (Merge (feature/e, 2 commits ahead))",
    )
  })

  it("says what to do when a dependency will never be done", () => {
    expect(describeDependencies(dependencyStatus([c, d, sid("9_story_gone")], stages))).toBe(
      "waiting on 3_story_x (Coding), 4_bug_y (archived: blocked: flaky CI), 9_story_gone (missing: no item has this id); " +
        "an archived or missing dependency never becomes done: unblock or create it, or remove it from depends_on",
    )
  })

  it("reports when nothing is left to wait for", () => {
    expect(describeDependencies(dependencyStatus([a], stages))).toBe("all dependencies done")
    expect(describeDependencies([])).toBe("no dependencies")
  })
})

describe("findCycles", () => {
  const graph = (edges: Record<string, ReadonlyArray<string>>): DependencyGraph =>
    new Map(Object.entries(edges).map(([from, tos]) => [sid(from), tos.map(sid)]))

  it("finds nothing in a graph without cycles, including diamonds and unknown ids", () => {
    expect(
      findCycles(
        graph({
          "1_story_a": ["2_bug_b", "3_story_x"],
          "2_bug_b": ["4_bug_y"],
          "3_story_x": ["4_bug_y", "99_story_unknown"],
          "4_bug_y": [],
        }),
      ),
    ).toEqual([])
  })

  it("finds a self-dependency", () => {
    const cycles = findCycles(graph({ "1_story_a": ["1_story_a"], "2_bug_b": ["1_story_a"] }))
    expect(cycles).toEqual([{ members: [a], path: [a] }])
    expect(describeCycle(cycles[0]!)).toBe("1_story_a depends on itself: remove it from its own depends_on")
  })

  it("finds a cycle, starting at its lowest-numbered item, and not the items that merely wait on it", () => {
    const cycles = findCycles(
      graph({
        "5_spike_e": ["3_story_x"],
        "3_story_x": ["4_bug_y"],
        "4_bug_y": ["2_bug_b"],
        "2_bug_b": ["3_story_x"],
      }),
    )
    expect(cycles).toEqual([{ members: [b, c, d], path: [b, c, d] }])
    expect(describeCycle(cycles[0]!)).toBe(
      "dependency cycle 2_bug_b → 3_story_x → 4_bug_y → 2_bug_b: remove one of these depends_on entries",
    )
  })

  it("reports separate cycles separately, ordered by their first item, with the shortest path", () => {
    const cycles = findCycles(
      graph({
        "10_story_p": ["11_story_q"],
        "11_story_q": ["10_story_p"],
        // a ⇄ b plus a longer loop a → c → d → a: one component, shortest cycle is a → b → a.
        "1_story_a": ["3_story_x", "2_bug_b"],
        "2_bug_b": ["1_story_a"],
        "3_story_x": ["4_bug_y"],
        "4_bug_y": ["1_story_a"],
      }),
    )
    expect(cycles).toEqual([
      { members: [a, b, c, d], path: [a, b] },
      { members: [sid("10_story_p"), sid("11_story_q")], path: [sid("10_story_p"), sid("11_story_q")] },
    ])
  })

  it("orders ids by number, not text", () => {
    expect([sid("10_story_a"), sid("9_story_b"), sid("9_bug_a")].sort(compareStoryIds)).toEqual([
      sid("9_bug_a"),
      sid("9_story_b"),
      sid("10_story_a"),
    ])
  })

  it("handles a long chain without overflowing the stack", () => {
    const n = 50_000
    const edges = new Map<StoryId, ReadonlyArray<StoryId>>()
    for (let i = 1; i < n; i++) edges.set(sid(`${i}_story_s`), [sid(`${i + 1}_story_s`)])
    edges.set(sid(`${n}_story_s`), [sid("1_story_s")])
    const cycles = findCycles(edges)
    expect(cycles.length).toBe(1)
    expect(cycles[0]?.members.length).toBe(n)
    expect(cycles[0]?.path.length).toBe(n)
    expect(cycles[0]?.path[0]).toBe(sid("1_story_s"))
  })

  // Random graphs over a small set of ids, so cycles are common but not certain.
  const nodes = Array.from({ length: 8 }, (_, i) => sid(`${i + 1}_story_n`))
  const graphArb: fc.Arbitrary<DependencyGraph> = fc
    .tuple(
      fc.subarray(nodes, { minLength: 1 }),
      fc.array(fc.tuple(fc.constantFrom(...nodes), fc.constantFrom(...nodes)), { maxLength: 14 }),
    )
    .map(([keys, edges]) => {
      const out = new Map<StoryId, Array<StoryId>>(keys.map((k) => [k, []]))
      for (const [from, to] of edges) out.get(from)?.push(to)
      return out
    })

  /** Kahn's algorithm over the items in the graph: true when every item can be ordered. */
  const hasTopologicalOrder = (g: DependencyGraph): boolean => {
    const inGraph = (id: StoryId) => g.has(id)
    const pending = new Map([...g.keys()].map((k) => [k, (g.get(k) ?? []).filter(inGraph).length]))
    const ready = [...pending].filter(([, n]) => n === 0).map(([k]) => k)
    let ordered = 0
    while (ready.length > 0) {
      const done = ready.pop()!
      ordered += 1
      for (const [k, tos] of g) {
        for (const to of tos) {
          if (to !== done) continue
          const left = (pending.get(k) ?? 0) - 1
          pending.set(k, left)
          if (left === 0) ready.push(k)
        }
      }
    }
    return ordered === g.size
  }

  /** Whether `id` can reach itself by following one or more edges. */
  const onACycle = (g: DependencyGraph, id: StoryId): boolean => {
    const seen = new Set<StoryId>()
    const todo = [...(g.get(id) ?? [])]
    while (todo.length > 0) {
      const next = todo.pop()!
      if (next === id) return true
      if (seen.has(next)) continue
      seen.add(next)
      todo.push(...(g.get(next) ?? []))
    }
    return false
  }

  it("property: finds a cycle exactly when no topological order exists", () => {
    fc.assert(
      fc.property(graphArb, (g) => {
        expect(findCycles(g).length === 0).toBe(hasTopologicalOrder(g))
      }),
      { numRuns: 500 },
    )
  })

  it("property: members are exactly the items on a cycle, and each path is a real cycle", () => {
    fc.assert(
      fc.property(graphArb, (g) => {
        const cycles = findCycles(g)
        const members = cycles.flatMap((cy) => cy.members)
        expect(new Set(members).size).toBe(members.length)
        expect([...members].sort(compareStoryIds)).toEqual(
          [...g.keys()].filter((id) => onACycle(g, id)).sort(compareStoryIds),
        )
        for (const { members: ms, path } of cycles) {
          expect(path[0]).toBe(ms[0])
          expect(new Set(path).size).toBe(path.length)
          path.forEach((from, i) => {
            const to = path[(i + 1) % path.length]!
            expect(ms).toContain(from)
            expect(g.get(from)).toContain(to)
          })
        }
      }),
      { numRuns: 500 },
    )
  })
})
