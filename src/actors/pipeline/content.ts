// src/actors/pipeline/content.ts — the commands on an item's markdown: create it, edit it (one
// compare-and-set write, retried when another edit wins the race), and set its dependencies.
// Every change to depends_on passes the same check. Part of the Pipeline command layer.
import { Effect, Either } from "effect"
import type { DependencyStatus } from "../../domain/dependencies.js"
import { parseStoryDoc, renderStoryDoc, setFrontMatter, type StoryDoc } from "../../domain/StoryDoc.js"
import type { ItemKind, StoryId } from "../../domain/StoryId.js"
import { Store } from "../../layers/Store.js"
import { checkDependencies, dependenciesOf } from "./dependencyCheck.js"
import { EditRefused } from "./errors.js"

const sameList = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((x, i) => x === b[i])

/** Files a new item in Backlog; its depends_on must name items that exist. */
/** `by`: who filed it, for its history. */
export const create = (kind: ItemKind, doc: StoryDoc, by?: string) =>
  Effect.gen(function* () {
    const store = yield* Store
    const dependencies = yield* dependenciesOf(store, doc.frontMatter.dependsOn)
    const missing = dependencies.filter((d) => d._tag === "Missing").map((d) => d.id)
    if (missing.length > 0) {
      return yield* new EditRefused({
        storyId: "(new)",
        rule: "dependencies",
        message: `depends_on names items that do not exist: ${missing.join(", ")} (list_items shows the ids)`,
      })
    }
    const content = renderStoryDoc(doc)
    const item = yield* store.create({ kind, name: doc.frontMatter.name, content, by })
    return { item, content, dependencies }
  })

export interface Edited {
  readonly before: StoryDoc
  readonly after: StoryDoc
  /** Set when depends_on changed (and so was checked). */
  readonly dependencies?: ReadonlyArray<DependencyStatus>
}

/** The item's markdown, parsed, with the text it was read as (for the compare-and-set). */
const readDoc = (id: StoryId) =>
  Effect.gen(function* () {
    const store = yield* Store
    yield* store.get(id)
    const content = yield* store.content(id)
    const doc = yield* Either.match(parseStoryDoc(content), {
      onLeft: (e) =>
        Effect.fail(
          new EditRefused({
            storyId: id,
            rule: "unparsable",
            message: `the markdown of ${id} does not parse (${e.message}); fix it with update_story`,
          }),
        ),
      onRight: Effect.succeed,
    })
    return { doc, content }
  })

/**
 * Applies `change` to the item's markdown and writes the result as one content change, only if the
 * content is still what it was read as; when another edit landed in between, reads and applies again
 * (a few times at most). `alwaysCheck` checks depends_on even when it did not change.
 */
export const edit = <E extends { readonly message: string }>(
  id: StoryId,
  change: (doc: StoryDoc) => Either.Either<StoryDoc, E>,
  alwaysCheck = false,
) =>
  Effect.retry(
    Effect.gen(function* () {
      const store = yield* Store
      const { doc, content } = yield* readDoc(id)
      const next = yield* Either.match(change(doc), {
        onLeft: (e) => Effect.fail(new EditRefused({ storyId: id, rule: "edit", message: e.message })),
        onRight: Effect.succeed,
      })
      const dependencies =
        alwaysCheck || !sameList(doc.frontMatter.dependsOn, next.frontMatter.dependsOn)
          ? yield* checkDependencies(store, id, next.frontMatter.dependsOn)
          : undefined
      const text = renderStoryDoc(next)
      if (text !== content) yield* store.editContent(id, { _tag: "Replace", text, expected: content })
      return {
        before: doc,
        after: next,
        ...(dependencies === undefined ? {} : { dependencies }),
      } satisfies Edited
    }),
    { times: 5, while: (e) => e._tag === "ContentConflict" },
  )

/** Replaces depends_on (duplicates dropped); returns each dependency's status. */
export const setDependencies = (id: StoryId, dependsOn: ReadonlyArray<string>) =>
  Effect.map(
    edit(id, (doc) => setFrontMatter(doc, "depends_on", [...new Set(dependsOn)]), true),
    (edited) => ({ doc: edited.after, dependencies: edited.dependencies ?? [] }),
  )
