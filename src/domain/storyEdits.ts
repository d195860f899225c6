// src/domain/storyEdits.ts — pure edits on a StoryDoc: sections, acceptance criteria and front matter
// keys, each checked so the result still renders and parses back. Used by the MCP `update_story` tool.
import { Either } from "effect"
import { setFrontMatterKey } from "./frontMatter.js"
import type { StoryDoc } from "./StoryDoc.js"
import { checkBlock, checkCriterionText, type Criterion } from "./storyBody.js"
import { CriterionNotFound, type StoryDocError } from "./StoryDocError.js"

/** A criterion named by its 0-based index or by its exact text (compared after trimming). */
export type CriterionRef = number | string

export interface Todo {
  readonly index: number
  readonly text: string
}

/** Sets `## User Story` (creating the section if missing); the text is normalized, `## ` headings are refused. */
export const setUserStory = (doc: StoryDoc, text: string): Either.Either<StoryDoc, StoryDocError> =>
  Either.map(checkBlock("user story", text), (userStory) => ({ ...doc, userStory }))

/** Sets `## Description` (creating the section if missing); the text is normalized, `## ` headings are refused. */
export const setDescription = (doc: StoryDoc, text: string): Either.Either<StoryDoc, StoryDocError> =>
  Either.map(checkBlock("description", text), (description) => ({ ...doc, description }))

/** Appends an unchecked criterion. */
export const addCriterion = (doc: StoryDoc, text: string): Either.Either<StoryDoc, StoryDocError> =>
  Either.map(checkCriterionText(text), (t) => ({
    ...doc,
    criteria: [...doc.criteria, { text: t, checked: false }],
  }))

const quote = (text: string) => JSON.stringify(text)

/** The index a ref names, or an error that lists what the caller can use instead. */
export const findCriterion = (doc: StoryDoc, ref: CriterionRef): Either.Either<number, CriterionNotFound> => {
  const count = doc.criteria.length
  const notFound = (message: string) => Either.left(new CriterionNotFound({ criterion: ref, message }))
  if (typeof ref === "number") {
    if (Number.isInteger(ref) && ref >= 0 && ref < count) return Either.right(ref)
    if (count === 0) return notFound(`criterion ${ref}: there are no acceptance criteria yet; add one first`)
    const range = count === 1 ? "the only valid index is 0" : `valid indices are 0 to ${count - 1}`
    return notFound(`criterion ${ref}: no such criterion; ${range} (criteria are counted from 0)`)
  }
  const text = ref.trim()
  const matches = doc.criteria.flatMap((c, i) => (c.text === text ? [i] : []))
  const [first, second] = matches
  if (first !== undefined && second === undefined) return Either.right(first)
  if (first !== undefined) {
    return notFound(
      `criterion ${quote(text)}: criteria ${matches.join(", ")} all have this text; name one by its index`,
    )
  }
  const listed = doc.criteria.map((c, i) => `${i} ${quote(c.text)}`).join(", ")
  return notFound(
    count === 0
      ? `criterion ${quote(text)}: there are no acceptance criteria yet; add one first`
      : `criterion ${quote(text)}: no criterion has exactly this text; the criteria are: ${listed}`,
  )
}

const updateCriterion = (
  doc: StoryDoc,
  ref: CriterionRef,
  update: (c: Criterion) => ReadonlyArray<Criterion>,
): Either.Either<StoryDoc, CriterionNotFound> =>
  Either.map(findCriterion(doc, ref), (index) => ({
    ...doc,
    criteria: doc.criteria.flatMap((c, i) => (i === index ? update(c) : [c])),
  }))

export const removeCriterion = (
  doc: StoryDoc,
  ref: CriterionRef,
): Either.Either<StoryDoc, CriterionNotFound> => updateCriterion(doc, ref, () => [])

/** Replaces a criterion's text, keeping whether it is checked. */
export const rewordCriterion = (
  doc: StoryDoc,
  ref: CriterionRef,
  text: string,
): Either.Either<StoryDoc, StoryDocError | CriterionNotFound> =>
  Either.flatMap(checkCriterionText(text), (t) => updateCriterion(doc, ref, (c) => [{ ...c, text: t }]))

export const setCriterionChecked = (
  doc: StoryDoc,
  ref: CriterionRef,
  checked: boolean,
): Either.Either<StoryDoc, CriterionNotFound> => updateCriterion(doc, ref, (c) => [{ ...c, checked }])

export const checkCriterion = (doc: StoryDoc, ref: CriterionRef) => setCriterionChecked(doc, ref, true)
export const uncheckCriterion = (doc: StoryDoc, ref: CriterionRef) => setCriterionChecked(doc, ref, false)

/**
 * Sets one front matter key (YAML spelling: `depends_on`) to any JSON value. Known keys are checked
 * (`qa` must be agent|human|none, ...); null removes the key (`depends_on` becomes empty; `name`
 * cannot be removed).
 */
export const setFrontMatter = (
  doc: StoryDoc,
  key: string,
  value: unknown,
): Either.Either<StoryDoc, StoryDocError> =>
  Either.map(setFrontMatterKey(doc.frontMatter, key, value, "remove"), (frontMatter) => ({
    ...doc,
    frontMatter,
  }))

/** Sets several keys in order; all or nothing. */
export const setFrontMatterKeys = (
  doc: StoryDoc,
  values: Readonly<Record<string, unknown>>,
): Either.Either<StoryDoc, StoryDocError> =>
  Object.entries(values).reduce<Either.Either<StoryDoc, StoryDocError>>(
    (acc, [key, value]) => Either.flatMap(acc, (d) => setFrontMatter(d, key, value)),
    Either.right(doc),
  )

/** The unchecked criteria with their indices: what is left to do. */
export const todos = (doc: StoryDoc): ReadonlyArray<Todo> =>
  doc.criteria.flatMap((c, index) => (c.checked ? [] : [{ index, text: c.text }]))
