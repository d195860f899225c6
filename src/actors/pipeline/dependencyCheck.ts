// src/actors/pipeline/dependencyCheck.ts — the check every change to an item's depends_on passes
// (create, edit, set_dependencies): known ids only, no self-dependency, no new cycle.
import { Effect, Either } from "effect"
import {
  type DependencyStatus,
  dependencyStatus,
  describeCycle,
  findCycles,
  isMet,
} from "../../domain/dependencies.js"
import type { Stage } from "../../domain/Stage.js"
import { parseStoryDoc } from "../../domain/StoryDoc.js"
import type { StoryId } from "../../domain/StoryId.js"
import type { StoreShape } from "../../layers/Store.js"
import { EditRefused } from "./errors.js"

type Reader = Pick<StoreShape, "list" | "content">

/**
 * Every dependency with whether it is met, against every item in the Store (none missing is checked);
 * the items are listed only when there are dependencies. Read by the command layer and the read views.
 */
export const dependenciesOf = (
  store: Pick<Reader, "list">,
  dependsOn: ReadonlyArray<StoryId>,
): Effect.Effect<ReadonlyArray<DependencyStatus>> =>
  dependsOn.length === 0
    ? Effect.succeed([])
    : Effect.map(store.list, ({ items }) =>
        dependencyStatus(dependsOn, new Map<StoryId, Stage>(items.map((i) => [i.id, i.stage]))),
      )

/**
 * Whether `id` may depend on exactly `dependsOn`: every id exists, `id` is not among them, and the
 * change closes no dependency cycle through `id`. Cycles are looked for among unfinished items only:
 * a dependency on a Done item is met, so a loop through one deadlocks nobody. Returns the statuses.
 */
export const checkDependencies = (store: Reader, id: StoryId, dependsOn: ReadonlyArray<StoryId>) =>
  Effect.gen(function* () {
    const refuse = (message: string) => new EditRefused({ storyId: id, rule: "dependencies", message })
    if (dependsOn.includes(id))
      return yield* refuse(`${id} cannot depend on itself: remove it from depends_on`)
    const { items } = yield* store.list
    const stages = new Map<StoryId, Stage>(items.map((i) => [i.id, i.stage]))
    const missing = dependsOn.filter((d) => !stages.has(d))
    if (missing.length > 0) {
      return yield* refuse(
        `depends_on names items that do not exist: ${missing.join(", ")} (list_items shows the ids)`,
      )
    }
    const graph = new Map<StoryId, ReadonlyArray<StoryId>>()
    for (const item of items) {
      if (isMet(item.stage)) continue
      if (item.id === id) {
        graph.set(id, dependsOn)
        continue
      }
      // An item whose markdown does not parse has no readable depends_on, so it adds no edges.
      const content = yield* store.content(item.id).pipe(Effect.option)
      const doc = content._tag === "Some" ? Either.getOrUndefined(parseStoryDoc(content.value)) : undefined
      graph.set(item.id, doc?.frontMatter.dependsOn ?? [])
    }
    const cycle = findCycles(graph).find((c) => c.members.includes(id))
    if (cycle !== undefined) {
      return yield* refuse(
        `cannot make ${id} depend on ${dependsOn.join(", ")}: it would close a ${describeCycle(cycle)}`,
      )
    }
    return dependencyStatus(dependsOn, stages)
  })
