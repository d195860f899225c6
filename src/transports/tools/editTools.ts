// src/transports/tools/editTools.ts — update_story (many edits to one item's markdown, all or nothing),
// get_story_todos, check_criterion and uncheck_criterion. Each write is one Pipeline edit: a single
// compare-and-set content change, with depends_on checked when it changes.
import { Effect, Either, Schema } from "effect"
import {
  addCriterion,
  type CriterionRef,
  findCriterion,
  removeCriterion,
  renderStoryDoc,
  rewordCriterion,
  setCriterionChecked,
  setDescription,
  setFrontMatter,
  setUserStory,
  type StoryDoc,
  todos,
} from "../../domain/StoryDoc.js"
import { type EditRefused, Pipeline } from "../../actors/Pipeline.js"
import { loadDoc, requireId, StoryIdParam } from "./itemAccess.js"
import { defineTool, ToolFailure } from "./Tool.js"

const CriterionParam = Schema.Union(Schema.Int, Schema.String).annotations({
  description: "a criterion: its 0-based index, or its exact text",
})

const updateInput = {
  story_id: StoryIdParam,
  name: Schema.optional(Schema.String.annotations({ description: "new name (one line)" })),
  user_story: Schema.optional(
    Schema.String.annotations({ description: "replaces ## User Story (created if missing)" }),
  ),
  description: Schema.optional(
    Schema.String.annotations({ description: "replaces ## Description (created if missing)" }),
  ),
  add_criteria: Schema.optional(
    Schema.Array(Schema.String).annotations({ description: "criteria to append, unchecked" }),
  ),
  remove_criteria: Schema.optional(
    Schema.Array(CriterionParam).annotations({
      description: "criteria to remove, by 0-based index or exact text, as numbered before this call",
    }),
  ),
  reword_criteria: Schema.optional(
    Schema.Array(Schema.Struct({ criterion: CriterionParam, text: Schema.String })).annotations({
      description: "criteria to reword (checked state kept), by index or text, as numbered before this call",
    }),
  ),
  front_matter: Schema.optional(
    Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
      description:
        "front matter keys to set, values of any JSON type; null removes a key. name, agent, depends_on, qa and retries are checked",
    }),
  ),
}

type UpdateInput = Schema.Struct.Type<typeof updateInput>

const quote = (text: string) => JSON.stringify(text)
const fieldError = (field: string) => (e: { readonly message: string }) => ({
  message: `${field}: ${e.message}`,
})

/**
 * Applies every change of an update_story call to `original`, or returns the first problem. Criteria
 * are named as numbered before the call, whatever else the call removes: rewords happen first (they
 * keep positions), then removals from the highest index down, then additions at the end.
 */
export const applyUpdate = (
  original: StoryDoc,
  input: UpdateInput,
): Either.Either<
  { readonly doc: StoryDoc; readonly changes: ReadonlyArray<string> },
  { readonly message: string }
> =>
  Either.gen(function* () {
    let doc = original
    const changes: Array<string> = []
    for (const [key, value] of Object.entries(input.front_matter ?? {})) {
      doc = yield* Either.mapLeft(setFrontMatter(doc, key, value), fieldError(`front_matter.${key}`))
      changes.push(value === null ? `front matter ${key} removed` : `front matter ${key} set`)
    }
    if (input.name !== undefined) {
      doc = yield* Either.mapLeft(setFrontMatter(doc, "name", input.name), fieldError("name"))
      changes.push(`name set to ${quote(doc.frontMatter.name)}`)
    }
    if (input.user_story !== undefined) {
      doc = yield* Either.mapLeft(setUserStory(doc, input.user_story), fieldError("user_story"))
      changes.push(original.userStory === undefined ? "User Story section created" : "User Story replaced")
    }
    if (input.description !== undefined) {
      doc = yield* Either.mapLeft(setDescription(doc, input.description), fieldError("description"))
      changes.push(
        original.description === undefined ? "Description section created" : "Description replaced",
      )
    }
    const find = (field: string, ref: CriterionRef) =>
      Either.mapLeft(findCriterion(original, ref), fieldError(field))
    const reworded = new Map<number, string>()
    for (const [i, { criterion, text }] of (input.reword_criteria ?? []).entries()) {
      const index = yield* find(`reword_criteria[${i}]`, criterion)
      if (reworded.has(index)) {
        return yield* Either.left({ message: `reword_criteria[${i}]: criterion ${index} is reworded twice` })
      }
      reworded.set(index, text)
    }
    const removed = new Set<number>()
    for (const [i, ref] of (input.remove_criteria ?? []).entries()) {
      const index = yield* find(`remove_criteria[${i}]`, ref)
      if (removed.has(index)) {
        return yield* Either.left({ message: `remove_criteria[${i}]: criterion ${index} is removed twice` })
      }
      if (reworded.has(index)) {
        return yield* Either.left({
          message: `remove_criteria[${i}]: criterion ${index} is also reworded; either remove it or reword it`,
        })
      }
      removed.add(index)
    }
    for (const [index, text] of reworded) {
      doc = yield* Either.mapLeft(
        rewordCriterion(doc, index, text),
        fieldError(`reword_criteria (criterion ${index})`),
      )
      changes.push(`criterion ${index} reworded to ${quote(text.trim())}`)
    }
    for (const index of [...removed].sort((a, b) => b - a)) {
      doc = yield* Either.mapLeft(removeCriterion(doc, index), fieldError("remove_criteria"))
      changes.push(`criterion ${index} removed (${quote(original.criteria[index]?.text ?? "")})`)
    }
    for (const [i, text] of (input.add_criteria ?? []).entries()) {
      doc = yield* Either.mapLeft(addCriterion(doc, text), fieldError(`add_criteria[${i}]`))
      changes.push(`criterion added: ${quote(text.trim())}`)
    }
    return { doc, changes }
  })

const changeFields = [
  "name",
  "user_story",
  "description",
  "add_criteria",
  "remove_criteria",
  "reword_criteria",
  "front_matter",
] as const

const isEmpty = (value: unknown) =>
  value === undefined ||
  (Array.isArray(value) && value.length === 0) ||
  (typeof value === "object" && value !== null && Object.keys(value).length === 0)

export const updateStory = defineTool({
  name: "update_story",
  description:
    "Edits a work item's markdown: name, User Story and Description (replaced; the section is created if missing), acceptance criteria (add, remove, reword; named by 0-based index or exact text as numbered before this call), and front matter keys (null removes one; known keys are checked, depends_on as in set_dependencies). All changes apply together or none does, as one content write. Does not block. Returns the new markdown and a list of what changed.",
  input: updateInput,
  output: Schema.Struct({
    story_id: Schema.String,
    changes: Schema.Array(Schema.String),
    content: Schema.String,
  }),
  run: (input) =>
    Effect.gen(function* () {
      const id = yield* requireId(input.story_id)
      if (changeFields.every((field) => isEmpty(input[field]))) {
        return yield* new ToolFailure({
          message: `update_story needs at least one change: give one of ${changeFields.join(", ")}`,
        })
      }
      if (input.name !== undefined && input.front_matter !== undefined && "name" in input.front_matter) {
        return yield* new ToolFailure({
          message: "name is given twice (name and front_matter.name): give it once",
        })
      }
      const edited = yield* (yield* Pipeline)
        .edit(id, (doc) => Either.map(applyUpdate(doc, input), (u) => u.doc))
        .pipe(
          Effect.catchTag("EditRefused", (e: EditRefused) =>
            Effect.fail(
              e.rule === "unparsable" ? e : new ToolFailure({ message: `nothing was changed: ${e.message}` }),
            ),
          ),
        )
      // The same update on the document it was applied to: it succeeded there, so it does again.
      const changes = Either.match(applyUpdate(edited.before, input), {
        onLeft: () => [],
        onRight: (u) => u.changes,
      })
      return { story_id: id, changes, content: renderStoryDoc(edited.after) }
    }),
})

const progress = (doc: StoryDoc) => {
  const done = doc.criteria.filter((c) => c.checked).length
  return { done, total: doc.criteria.length, todos: todos(doc) }
}

const TodoView = Schema.Struct({ index: Schema.Number, text: Schema.String })

export const getStoryTodos = defineTool({
  name: "get_story_todos",
  description:
    "The acceptance criteria of a work item that are not checked yet, with their 0-based indices (for check_criterion), and how many of all criteria are done. Does not block.",
  input: { story_id: StoryIdParam },
  output: Schema.Struct({
    story_id: Schema.String,
    name: Schema.String,
    todos: Schema.Array(TodoView),
    done: Schema.Number,
    total: Schema.Number,
  }),
  run: ({ story_id }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const { doc } = yield* loadDoc(id)
      return { story_id: id, name: doc.frontMatter.name, ...progress(doc) }
    }),
})

const checkTool = (name: string, checked: boolean) =>
  defineTool({
    name,
    description: `${checked ? "Checks" : "Unchecks"} one acceptance criterion of a work item, named by its 0-based index or its exact text (an ambiguous or unknown one is refused with the list). Does not block. Returns the criterion, whether it changed, and the criteria still to do.`,
    input: { story_id: StoryIdParam, criterion: CriterionParam },
    output: Schema.Struct({
      story_id: Schema.String,
      criterion: Schema.Struct({ index: Schema.Number, text: Schema.String, checked: Schema.Boolean }),
      changed: Schema.Boolean,
      todos: Schema.Array(TodoView),
      done: Schema.Number,
      total: Schema.Number,
    }),
    run: ({ story_id, criterion }) =>
      Effect.gen(function* () {
        const id = yield* requireId(story_id)
        const edited = yield* (yield* Pipeline).edit(id, (doc) =>
          Either.flatMap(findCriterion(doc, criterion), (index) => setCriterionChecked(doc, index, checked)),
        )
        // Found on the document the edit applied to, so found again here.
        const index = Either.getOrElse(findCriterion(edited.before, criterion), () => 0)
        const changed = edited.before.criteria[index]?.checked !== checked
        const text = edited.after.criteria[index]?.text ?? ""
        return { story_id: id, criterion: { index, text, checked }, changed, ...progress(edited.after) }
      }),
  })

export const editTools = [
  updateStory,
  getStoryTodos,
  checkTool("check_criterion", true),
  checkTool("uncheck_criterion", false),
] as const
