// src/transports/tools/dependencyTools.ts — set_dependencies, and the check every change to an item's
// depends_on passes (update_story uses it too): known ids only, no self-dependency, no new cycle.
import { Effect, Either, Schema } from "effect"
import {
  dependencyStatus,
  type DependencyStatus,
  describeCycle,
  describeDependencies,
  findCycles,
  isMet,
} from "../../domain/dependencies.js"
import type { Stage } from "../../domain/Stage.js"
import { parseStoryDoc, setFrontMatter } from "../../domain/StoryDoc.js"
import type { StoryId } from "../../domain/StoryId.js"
import { Store } from "../../layers/Store.js"
import { loadDoc, requireId, retryOnConflict, StoryIdParam, writeDoc } from "./itemAccess.js"
import { defineTool, ToolFailure } from "./Tool.js"

/**
 * Whether `id` may depend on exactly `dependsOn`: every id exists, `id` is not among them, and the
 * change closes no dependency cycle through `id`. Cycles are looked for among unfinished items only:
 * a dependency on a Done item is met, so a loop through one deadlocks nobody. Returns the statuses.
 */
export const checkDependencies = (id: StoryId, dependsOn: ReadonlyArray<StoryId>) =>
  Effect.gen(function* () {
    if (dependsOn.includes(id)) {
      return yield* new ToolFailure({ message: `${id} cannot depend on itself: remove it from depends_on` })
    }
    const store = yield* Store
    const { items } = yield* store.list
    const stages = new Map<StoryId, Stage>(items.map((i) => [i.id, i.stage]))
    const missing = dependsOn.filter((d) => !stages.has(d))
    if (missing.length > 0) {
      return yield* new ToolFailure({
        message: `depends_on names items that do not exist: ${missing.join(", ")} (list_items shows the ids)`,
      })
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
      return yield* new ToolFailure({
        message: `cannot make ${id} depend on ${dependsOn.join(", ")}: it would close a ${describeCycle(cycle)}`,
      })
    }
    return dependencyStatus(dependsOn, stages)
  })

export const DependencyView = Schema.Struct({
  id: Schema.String,
  met: Schema.Boolean,
  status: Schema.String,
  stage: Schema.String,
})

export const dependencyView = (statuses: ReadonlyArray<DependencyStatus>) =>
  statuses.map((s) => ({
    id: s.id,
    met: s._tag === "Met",
    status: s._tag,
    stage:
      s._tag === "Missing"
        ? "(missing)"
        : s._tag === "Archived"
          ? `Archived (${s.reason._tag})`
          : s.stage._tag,
  }))

export const setDependencies = defineTool({
  name: "set_dependencies",
  description:
    "Replaces a work item's depends_on with the given ids (an empty list clears it). Refuses ids that do not exist, the item itself, and any change that would close a dependency cycle (the message names the cycle). Does not block. Returns each dependency with whether it is met, and a one-line summary.",
  input: {
    story_id: StoryIdParam,
    depends_on: Schema.Array(Schema.String).annotations({
      description: "ids of the items that must be Done before this one starts",
    }),
  },
  output: Schema.Struct({
    story_id: Schema.String,
    depends_on: Schema.Array(Schema.String),
    dependencies: Schema.Array(DependencyView),
    summary: Schema.String,
  }),
  run: (input) =>
    Effect.gen(function* () {
      const id = yield* requireId(input.story_id)
      const { doc, content: before } = yield* loadDoc(id)
      const next = yield* Either.match(setFrontMatter(doc, "depends_on", [...new Set(input.depends_on)]), {
        onLeft: (e) => Effect.fail(new ToolFailure({ message: e.message })),
        onRight: Effect.succeed,
      })
      const statuses = yield* checkDependencies(id, next.frontMatter.dependsOn)
      yield* writeDoc(id, before, next)
      return {
        story_id: id,
        depends_on: next.frontMatter.dependsOn,
        dependencies: dependencyView(statuses),
        summary: describeDependencies(statuses),
      }
    }).pipe(retryOnConflict),
})

export const dependencyTools = [setDependencies] as const
