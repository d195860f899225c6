// src/transports/tools/dependencyTools.ts — set_dependencies: the Pipeline's dependency edit (known ids
// only, no self-dependency, no new cycle), and the view of dependencies other tools return too.
import { Effect, Schema } from "effect"
import { Pipeline } from "../../actors/Pipeline.js"
import { type DependencyStatus, describeDependencies } from "../../domain/dependencies.js"
import { requireId, StoryIdParam } from "./itemAccess.js"
import { defineTool } from "./Tool.js"

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
      const { doc: next, dependencies: statuses } = yield* (yield* Pipeline).setDependencies(
        id,
        input.depends_on,
      )
      return {
        story_id: id,
        depends_on: next.frontMatter.dependsOn,
        dependencies: dependencyView(statuses),
        summary: describeDependencies(statuses),
      }
    }),
})

export const dependencyTools = [setDependencies] as const
