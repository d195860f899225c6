// src/domain/dependencies.ts — whether an item's `depends_on` items are done, and which items depend on
// each other in a cycle. Pure; used by the scheduler (may a Backlog item start?) and by status lines.
import { Schema } from "effect"
import { ArchiveReason, Stage } from "./Stage.js"
import { parseStoryId, StoryId } from "./StoryId.js"
import { describeReason, describeStage } from "./transition.js"

/** The dependency is finished: Done, or Archived as Completed (an old Done item, see `isMet`). */
export const DependencyMet = Schema.TaggedStruct("Met", { id: StoryId, stage: Stage })
/** The dependency exists and is still on its way (Backlog, Coding, Qa or Merge). */
export const DependencyWaiting = Schema.TaggedStruct("Waiting", { id: StoryId, stage: Stage })
/** The dependency was archived without being completed; it will not become met by itself. */
export const DependencyArchived = Schema.TaggedStruct("Archived", { id: StoryId, reason: ArchiveReason })
/** No item has this id (a typo, or the item was deleted); never met. */
export const DependencyMissing = Schema.TaggedStruct("Missing", { id: StoryId })

export const DependencyStatus = Schema.Union(
  DependencyMet,
  DependencyWaiting,
  DependencyArchived,
  DependencyMissing,
)
export type DependencyStatus = typeof DependencyStatus.Type

/** Where to find the other items' stages: a map, or a function answering undefined for unknown ids. */
export type StageLookup = ReadonlyMap<StoryId, Stage> | ((id: StoryId) => Stage | undefined)

const stageOf = (lookup: StageLookup, id: StoryId): Stage | undefined =>
  typeof lookup === "function" ? lookup(id) : lookup.get(id)

/**
 * Whether a dependency in `stage` counts as finished.
 *
 * The rule is "an Archived dependency is NOT met", with one exception: Archived(Completed). Completed
 * is only reachable from Done (the `Complete` event, sent when a Done item ages out of the board), so it
 * means "merged, and old". If it were unmet, every dependent still in Backlog would silently stop being
 * startable the day its dependency was tidied away, which no user expects. Every other reason (Blocked,
 * MergeFailed, ReviewHold, Abandoned, Superseded) means the work never landed, so it is not met; a
 * Superseded dependency is not followed to its replacement because `by` is free text, not an id —
 * the user should point `depends_on` at the replacement.
 */
export const isMet = (stage: Stage): boolean =>
  stage._tag === "Done" || (stage._tag === "Archived" && stage.reason._tag === "Completed")

/** The status of each dependency, in `depends_on` order, each id once. */
export const dependencyStatus = (
  dependsOn: ReadonlyArray<StoryId>,
  lookup: StageLookup,
): ReadonlyArray<DependencyStatus> => {
  const seen = new Set<StoryId>()
  const statuses: Array<DependencyStatus> = []
  for (const id of dependsOn) {
    if (seen.has(id)) continue
    seen.add(id)
    const stage = stageOf(lookup, id)
    if (stage === undefined) statuses.push({ _tag: "Missing", id })
    else if (isMet(stage)) statuses.push({ _tag: "Met", id, stage })
    else if (stage._tag === "Archived") statuses.push({ _tag: "Archived", id, reason: stage.reason })
    else statuses.push({ _tag: "Waiting", id, stage })
  }
  return statuses
}

/** True when every dependency is met (and so when there are none). */
export const allMet = (statuses: ReadonlyArray<DependencyStatus>): boolean =>
  statuses.every((s) => s._tag === "Met")

/**
 * One line for status output, e.g. `waiting on 3_story_x (Coding), 4_bug_y (archived: blocked: flaky
 * CI)`, ending with what to do when a dependency can never become met.
 */
export const describeDependencies = (statuses: ReadonlyArray<DependencyStatus>): string => {
  if (statuses.length === 0) return "no dependencies"
  const unmet = statuses.flatMap((s): ReadonlyArray<string> => {
    switch (s._tag) {
      case "Met":
        return []
      case "Waiting":
        return [`${s.id} (${describeStage(s.stage)})`]
      case "Archived":
        return [`${s.id} (archived: ${describeReason(s.reason)})`]
      case "Missing":
        return [`${s.id} (missing: no item has this id)`]
    }
  })
  if (unmet.length === 0) return "all dependencies done"
  const stuck = statuses.some((s) => s._tag === "Archived" || s._tag === "Missing")
  const hint = stuck
    ? "; an archived or missing dependency never becomes done: unblock or create it, or remove it from depends_on"
    : ""
  return `waiting on ${unmet.join(", ")}${hint}`
}

// ---- cycles ------------------------------------------------------------------------------------

/** Each item's `depends_on`. Ids that are not keys are treated as items with no dependencies. */
export type DependencyGraph = ReadonlyMap<StoryId, ReadonlyArray<StoryId>>

export interface DependencyCycle {
  /** Every item that can never start because of this cycle (a strongly connected component). */
  readonly members: ReadonlyArray<StoryId>
  /**
   * One concrete (shortest) cycle through the lowest-numbered member: `[a, b]` means a → b → a, and
   * `[a]` is a self-dependency.
   */
  readonly path: ReadonlyArray<StoryId>
}

/** Orders ids by number, then by text, so cycles and messages come out the same every time. */
export const compareStoryIds = (a: StoryId, b: StoryId): number =>
  parseStoryId(a).number - parseStoryId(b).number || (a < b ? -1 : a > b ? 1 : 0)

/**
 * The dependency cycles in `graph`, each a set of items none of which can start until another of them
 * is done. Pass the items whose dependencies still matter (not Done or Archived): a cycle through a
 * Done item is not a deadlock, since that dependency is already met.
 */
export const findCycles = (graph: DependencyGraph): ReadonlyArray<DependencyCycle> => {
  const successors = (id: StoryId): ReadonlyArray<StoryId> => graph.get(id) ?? []
  const cycles: Array<{ readonly start: StoryId; readonly cycle: DependencyCycle }> = []
  for (const component of stronglyConnectedComponents(graph)) {
    const members = [...component].sort(compareStoryIds)
    const [start] = members
    if (start === undefined) continue
    if (members.length === 1 && !successors(start).includes(start)) continue
    cycles.push({
      start,
      cycle: { members, path: shortestCycleThrough(start, new Set(members), successors) },
    })
  }
  return cycles.sort((a, b) => compareStoryIds(a.start, b.start)).map(({ cycle }) => cycle)
}

/** The reason the scheduler gives when it blocks the members of a cycle. */
export const describeCycle = (cycle: DependencyCycle): string => {
  const [start] = cycle.path
  if (cycle.path.length === 1 && start !== undefined) {
    return `${start} depends on itself: remove it from its own depends_on`
  }
  return `dependency cycle ${[...cycle.path, start].join(" → ")}: remove one of these depends_on entries`
}

/**
 * Tarjan's algorithm, iterative so a long chain of dependencies cannot overflow the stack. Visits ids
 * in sorted order so the output is deterministic.
 */
const stronglyConnectedComponents = (graph: DependencyGraph): ReadonlyArray<ReadonlyArray<StoryId>> => {
  const index = new Map<StoryId, number>()
  const lowLink = new Map<StoryId, number>()
  const onStack = new Set<StoryId>()
  const stack: Array<StoryId> = []
  const components: Array<ReadonlyArray<StoryId>> = []
  let counter = 0

  for (const root of [...graph.keys()].sort(compareStoryIds)) {
    if (index.has(root)) continue
    // Each frame is a node and how many of its successors have been looked at.
    const frames: Array<{ readonly id: StoryId; next: number }> = []
    const enter = (id: StoryId) => {
      index.set(id, counter)
      lowLink.set(id, counter)
      counter += 1
      stack.push(id)
      onStack.add(id)
      frames.push({ id, next: 0 })
    }
    enter(root)
    const low = (id: StoryId) => lowLink.get(id) ?? Infinity
    for (let frame = frames.at(-1); frame !== undefined; frame = frames.at(-1)) {
      const to = (graph.get(frame.id) ?? [])[frame.next]
      if (to !== undefined) {
        frame.next += 1
        if (!index.has(to)) enter(to)
        else if (onStack.has(to)) lowLink.set(frame.id, Math.min(low(frame.id), index.get(to) ?? Infinity))
        continue
      }
      frames.pop()
      const parent = frames.at(-1)
      if (parent !== undefined) lowLink.set(parent.id, Math.min(low(parent.id), low(frame.id)))
      if (low(frame.id) === index.get(frame.id)) {
        const component: Array<StoryId> = []
        for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
          onStack.delete(member)
          component.push(member)
          if (member === frame.id) break
        }
        components.push(component)
      }
    }
  }
  return components
}

/** Breadth-first search inside one component for the shortest way from `start` back to itself. */
const shortestCycleThrough = (
  start: StoryId,
  within: ReadonlySet<StoryId>,
  successors: (id: StoryId) => ReadonlyArray<StoryId>,
): ReadonlyArray<StoryId> => {
  const cameFrom = new Map<StoryId, StoryId>()
  const queue: Array<StoryId> = [start]
  for (const id of queue) {
    for (const to of successors(id)) {
      if (!within.has(to)) continue
      if (to === start) {
        const path: Array<StoryId> = [id]
        for (let at = cameFrom.get(id); at !== undefined; at = cameFrom.get(at)) path.push(at)
        return path.reverse()
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, id)
        queue.push(to)
      }
    }
  }
  // Unreachable: every member of a cyclic component lies on a cycle through `start`.
  return [start]
}
