// src/transports/tools/itemAccess.ts — what tools share: reading an item with its parsed markdown,
// editing its markdown through the Store, and the JSON views tools return.
import { Effect, Either, Schema } from "effect"
import { AgentName } from "../../domain/AgentName.js"
import { dependencyStatus, type DependencyStatus } from "../../domain/dependencies.js"
import { type Stage, type StageTag, stageTags } from "../../domain/Stage.js"
import { parseStoryDoc, renderStoryDoc, type StoryDoc } from "../../domain/StoryDoc.js"
import { isStoryId, StoryId } from "../../domain/StoryId.js"
import { describeStage } from "../../domain/transition.js"
import type { WorkItem } from "../../domain/WorkItem.js"
import { Store } from "../../layers/Store.js"
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

export const loadItem = (id: string) =>
  Effect.gen(function* () {
    const storyId = yield* requireId(id)
    const store = yield* Store
    const item = yield* store.get(storyId)
    const content = yield* store.content(storyId)
    return { item, content, doc: parseStoryDoc(content) } satisfies ItemWithDoc
  })

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

/**
 * Writes `doc` over the content it was read as (`expected`): if another edit landed in between the
 * Store refuses with ContentConflict instead of silently overwriting it.
 */
export const writeDoc = (id: string, expected: string, doc: StoryDoc) =>
  Effect.flatMap(Store, (store) =>
    store.editContent(id, { _tag: "Replace", text: renderStoryDoc(doc), expected }),
  )

/** Re-runs a read-modify-write tool body when a concurrent edit won the race (a few times at most). */
export const retryOnConflict = <A, E extends { readonly _tag: string }, R>(body: Effect.Effect<A, E, R>) =>
  Effect.retry(body, { times: 5, while: (e) => e._tag === "ContentConflict" })

/** Applies `edit` to the item's markdown and writes the result back as one content change. */
export const editDoc = <E extends { readonly message: string }>(
  id: string,
  edit: (doc: StoryDoc) => Either.Either<StoryDoc, E>,
) =>
  retryOnConflict(
    Effect.gen(function* () {
      const { doc, content } = yield* loadDoc(id)
      const next = yield* Either.match(edit(doc), {
        onLeft: (e) => Effect.fail(new ToolFailure({ message: e.message })),
        onRight: Effect.succeed,
      })
      yield* writeDoc(id, content, next)
      return next
    }),
  )

/** Dependencies of `doc` with whether each is met, against every item in the Store. */
export const dependenciesOf = (doc: StoryDoc) =>
  Effect.gen(function* () {
    if (doc.frontMatter.dependsOn.length === 0) return [] as ReadonlyArray<DependencyStatus>
    const store = yield* Store
    const { items } = yield* store.list
    const stages = new Map<StoryId, Stage>(items.map((i) => [i.id, i.stage]))
    return dependencyStatus(doc.frontMatter.dependsOn, stages)
  })

export const stageView = (stage: Stage) => ({ ...stage, summary: describeStage(stage) })

export const nameOf = (loaded: ItemWithDoc): string =>
  Either.match(loaded.doc, { onLeft: () => "(unparsed)", onRight: (d) => d.frontMatter.name })

/** Stage names as tools take them: the stage tags in lowercase (`qa` for Qa). */
export const stageNames = ["backlog", "coding", "qa", "merge", "done", "archived"] as const
export type StageName = (typeof stageNames)[number]

const stageByName = new Map<string, StageTag>(stageTags.map((tag) => [tag.toLowerCase(), tag]))

/**
 * A stage parameter: one of `stageNames`, in any case (`Coding`, `QA` and `qa` all mean Qa), so a
 * name copied from a tool's output (which shows tags like `Qa`) is accepted as it is.
 */
export const stageNameParam = (description: string) =>
  Schema.String.pipe(
    Schema.filter((s) => stageByName.has(s.toLowerCase()), {
      message: () => `expected one of ${stageNames.join(", ")} (any case)`,
    }),
  ).annotations({ jsonSchema: { type: "string", enum: stageNames, description } })

/** The tag a stage parameter names; only call it on a decoded `stageNameParam`. */
export const stageTagOf = (name: string): StageTag => {
  const tag = stageByName.get(name.toLowerCase())
  if (tag === undefined) throw new Error(`impossible: ${name} passed stageNameParam but names no stage`)
  return tag
}

export const stageNameOf = (tag: StageTag): StageName => tag.toLowerCase() as StageName
