// src/transports/tools/itemAccess.ts — what tools share: reading an item with its parsed markdown,
// editing its markdown through the Store, and the JSON views tools return.
import { Effect, Either, Schema } from "effect"
import { dependencyStatus, type DependencyStatus } from "../../domain/dependencies.js"
import type { Stage } from "../../domain/Stage.js"
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

/** The `story_id` parameter every item tool takes. */
export const StoryIdParam = Schema.String.annotations({
  description: "the work item id, e.g. 12_story_add_login",
})

export const requireId = (id: string): Effect.Effect<StoryId, ToolFailure> =>
  isStoryId(id)
    ? Effect.succeed(id)
    : Effect.fail(
        new ToolFailure({
          message: `story_id "${id}" is not a work item id: ids look like 12_story_add_login (list_items shows them)`,
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

/** Applies `edit` to the item's markdown and writes the result back as one content change. */
export const editDoc = <E extends { readonly message: string }>(
  id: string,
  edit: (doc: StoryDoc) => Either.Either<StoryDoc, E>,
) =>
  Effect.gen(function* () {
    const { doc } = yield* loadDoc(id)
    const next = yield* Either.match(edit(doc), {
      onLeft: (e) => Effect.fail(new ToolFailure({ message: e.message })),
      onRight: Effect.succeed,
    })
    const store = yield* Store
    yield* store.editContent(id, { _tag: "Replace", text: renderStoryDoc(next) })
    return next
  })

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
