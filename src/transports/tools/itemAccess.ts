// src/transports/tools/itemAccess.ts — what tools share: reading an item with its parsed markdown
// through the PipelineView, the parameters every item tool takes, and the JSON views tools return.
import { Effect, Either, Schema } from "effect"
import { AgentName } from "../../domain/AgentName.js"
import { type StageName, stageNameOf, stageNames, stageTagNamed } from "../../domain/moveRoutes.js"
import type { Stage, StageTag } from "../../domain/Stage.js"
import { parseStoryDoc, type StoryDoc } from "../../domain/StoryDoc.js"
import { isStoryId, StoryId } from "../../domain/StoryId.js"
import { describeStage } from "../../domain/transition.js"
import type { WorkItem } from "../../domain/WorkItem.js"
import { PipelineView, type PipelineViewShape } from "../../actors/PipelineView.js"
import { ToolFailure } from "./Tool.js"

export interface ItemWithDoc {
  readonly item: WorkItem
  readonly content: string
  readonly doc: Either.Either<StoryDoc, { readonly message: string }>
}

/** An agent-name parameter: decoded (and refused, naming the parameter and the rule) as an AgentName. */
export const agentNameParam = (description: string) => AgentName.annotations({ description })

/** The `story_id` parameter every item tool takes. */
export const StoryIdParam = Schema.String.annotations({
  description: "the work item id, e.g. 12_story_add_login",
})

export const requireId = (id: string): Effect.Effect<StoryId, ToolFailure> =>
  isStoryId(id)
    ? Effect.succeed(id)
    : Effect.fail(
        new ToolFailure({
          message: `story_id ${JSON.stringify(id)} is not a work item id: ids look like 12_story_add_login (list_items shows them)`,
        }),
      )

/** The item `id` from `view`, with its markdown parsed. */
export const readItem = (view: PipelineViewShape, id: StoryId) =>
  Effect.zipWith(view.get(id), view.content(id), (item, content): ItemWithDoc => ({
    item,
    content,
    doc: parseStoryDoc(content),
  }))

export const loadItem = (id: string) =>
  Effect.flatMap(requireId(id), (storyId) => Effect.flatMap(PipelineView, (view) => readItem(view, storyId)))

/** The item's parsed markdown, or a failure saying why it does not parse. */
export const loadDoc = (id: string) =>
  Effect.gen(function* () {
    const loaded = yield* loadItem(id)
    const doc = yield* Either.match(loaded.doc, {
      onLeft: (e) =>
        Effect.fail(
          new ToolFailure({
            message: `the markdown of ${id} does not parse (${e.message}); fix it with update_story`,
          }),
        ),
      onRight: Effect.succeed,
    })
    return { ...loaded, doc }
  })

export const stageView = (stage: Stage) => ({ ...stage, summary: describeStage(stage) })

export const nameOf = (loaded: ItemWithDoc): string =>
  Either.match(loaded.doc, { onLeft: () => "(unparsed)", onRight: (d) => d.frontMatter.name })

/**
 * A stage parameter: one of `stageNames`, in any case (`Coding`, `QA` and `qa` all mean Qa), so a
 * name copied from a tool's output (which shows tags like `Qa`) is accepted as it is.
 */
export const stageNameParam = (description: string) =>
  Schema.String.pipe(
    Schema.filter((s) => stageTagNamed(s) !== undefined, {
      message: () => `expected one of ${stageNames.join(", ")} (any case)`,
    }),
  ).annotations({ jsonSchema: { type: "string", enum: stageNames, description } })

/** The stage a decoded `stageNameParam` names. */
export const stageNameIn = (name: string): StageName => {
  const tag = stageTagNamed(name)
  if (tag === undefined) throw new Error(`impossible: ${name} passed stageNameParam but names no stage`)
  return stageNameOf(tag)
}

/** The tag a stage parameter names; only call it on a decoded `stageNameParam`. */
export const stageTagOf = (name: string): StageTag => {
  const tag = stageTagNamed(name)
  if (tag === undefined) throw new Error(`impossible: ${name} passed stageNameParam but names no stage`)
  return tag
}

export { type StageName, stageNameOf, stageNames } from "../../domain/moveRoutes.js"
