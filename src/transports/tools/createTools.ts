// src/transports/tools/createTools.ts — create_story, create_bug, create_spike, create_refactor:
// file a new work item in Backlog from its parts.
import { Effect, Either, Schema } from "effect"
import { QaMode } from "../../domain/Stage.js"
import { newStoryDoc } from "../../domain/StoryDoc.js"
import type { ItemKind } from "../../domain/StoryId.js"
import { Pipeline } from "../../actors/Pipeline.js"
import { agentNameParam } from "./itemAccess.js"
import { defineTool, ToolFailure } from "./Tool.js"

const JsonValue = Schema.Unknown.annotations({ description: "any JSON value" })

const createInput = {
  name: Schema.NonEmptyTrimmedString.annotations({
    description: "short human name; the id's slug comes from it",
  }),
  user_story: Schema.optional(
    Schema.String.annotations({ description: "As a ..., I want ..., so that ..." }),
  ),
  description: Schema.optional(
    Schema.String.annotations({ description: "free markdown: context, notes, links" }),
  ),
  acceptance_criteria: Schema.optional(
    Schema.Array(Schema.NonEmptyTrimmedString).annotations({ description: "one entry per checkbox" }),
  ),
  depends_on: Schema.optional(
    Schema.Array(Schema.String).annotations({
      description: "ids of items that must be Done before this starts",
    }),
  ),
  agent: Schema.optional(agentNameParam("pin a named agent (an [[agent]] name from agents.toml)")),
  qa: Schema.optional(QaMode.annotations({ description: "who approves: agent, human or none" })),
  front_matter: Schema.optional(
    Schema.Record({ key: Schema.String, value: JsonValue }).annotations({
      description: "extra front matter keys, values of any JSON type",
    }),
  ),
}

const CreatedOutput = Schema.Struct({
  story_id: Schema.String,
  kind: Schema.String,
  stage: Schema.String,
  content: Schema.String,
  dependencies: Schema.Array(
    Schema.Struct({ id: Schema.String, met: Schema.Boolean, status: Schema.String }),
  ),
})

const createTool = (kind: ItemKind, what: string) =>
  defineTool({
    name: `create_${kind}`,
    description: `Files a new ${what} in Backlog and returns its id and markdown. Does not block. It starts once its depends_on items are Done and an agent is free. Unknown parameters are refused, never dropped.`,
    input: createInput,
    output: CreatedOutput,
    run: (input, context) =>
      Effect.gen(function* () {
        const doc = yield* Either.match(
          newStoryDoc({
            name: input.name,
            ...(input.user_story === undefined ? {} : { userStory: input.user_story }),
            ...(input.description === undefined ? {} : { description: input.description }),
            ...(input.acceptance_criteria === undefined ? {} : { criteria: input.acceptance_criteria }),
            ...(input.depends_on === undefined ? {} : { dependsOn: input.depends_on }),
            ...(input.agent === undefined ? {} : { agent: input.agent }),
            ...(input.qa === undefined ? {} : { qa: input.qa }),
            ...(input.front_matter === undefined ? {} : { extra: input.front_matter }),
          }),
          { onLeft: (e) => Effect.fail(new ToolFailure({ message: e.message })), onRight: Effect.succeed },
        )
        const created = yield* (yield* Pipeline).create(kind, doc, context.caller ?? "mcp")
        const { item, content, dependencies: deps } = created
        return {
          story_id: item.id,
          kind,
          stage: item.stage._tag,
          content,
          dependencies: deps.map((d) => ({ id: d.id, met: d._tag === "Met", status: d._tag })),
        }
      }),
  })

export const createTools = [
  createTool("story", "story (a user-visible feature)"),
  createTool("bug", "bug (something broken to fix)"),
  createTool("spike", "spike (time-boxed investigation)"),
  createTool("refactor", "refactor (internal change, behaviour kept)"),
] as const
