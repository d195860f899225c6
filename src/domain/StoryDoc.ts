// src/domain/StoryDoc.ts — a work item's content (markdown with YAML front matter) as a typed value:
// parse, canonical render, validation and creation. Used by the Store, the MCP story tools and the CLI.
import { Either } from "effect"
import { checkFrontMatter, type FrontMatter, parseFrontMatter, renderFrontMatter } from "./frontMatter.js"
import type { QaMode } from "./Stage.js"
import {
  checkBlock,
  checkCriterionText,
  type Criterion,
  dropTitle,
  headingText,
  normalizeBlock,
  parseCriteria,
  renderCriterion,
  type Section,
  splitSections,
} from "./storyBody.js"
import { storyDocError, type StoryDocError } from "./StoryDocError.js"
import { addCriterion, setDescription, setFrontMatter, setUserStory } from "./storyEdits.js"

export { CriterionNotFound, StoryDocError } from "./StoryDocError.js"
export {
  type FrontMatter,
  type JsonValue,
  knownFrontMatterKeys,
  type KnownFrontMatterKey,
} from "./frontMatter.js"
export { type Criterion, normalizeBlock, type Section } from "./storyBody.js"
export {
  addCriterion,
  checkCriterion,
  type CriterionRef,
  findCriterion,
  removeCriterion,
  rewordCriterion,
  setCriterionChecked,
  setDescription,
  setFrontMatter,
  setFrontMatterKeys,
  setUserStory,
  type Todo,
  todos,
  uncheckCriterion,
} from "./storyEdits.js"

/**
 * A work item's content. Text fields hold canonical markdown (see `normalizeBlock`): an absent field
 * means the section is not there, `""` means it is there but empty.
 */
export interface StoryDoc {
  readonly frontMatter: FrontMatter
  /** Text between the `# name` title and the first `##` section; never `""` (absent instead). */
  readonly preamble?: string
  readonly userStory?: string
  readonly description?: string
  /** The `## Acceptance Criteria` checklist; the section is always rendered, even when empty. */
  readonly criteria: ReadonlyArray<Criterion>
  /** Every other `## ` section, in document order; rendered after the criteria. */
  readonly otherSections: ReadonlyArray<Section>
}

type KnownSection = "userStory" | "description" | "criteria"
const knownSections: Record<string, KnownSection> = {
  "user story": "userStory",
  description: "description",
  "acceptance criteria": "criteria",
}
const sectionTitles: Record<KnownSection, string> = {
  userStory: "User Story",
  description: "Description",
  criteria: "Acceptance Criteria",
}
const knownSectionOf = (heading: string): KnownSection | undefined =>
  knownSections[heading.toLowerCase().replace(/\s+/g, " ")]

const frontMatterOpen = /^---[ \t]*$/
const frontMatterClose = /^(?:---|\.\.\.)[ \t]*$/

/**
 * The latest parses by exact content (results are immutable): status and board reads parse the same
 * unchanged items over and over, and the YAML parse is most of what such a call costs.
 */
const recentParses = new Map<string, Either.Either<StoryDoc, StoryDocError>>()
const recentParsesKept = 256

/**
 * Reads a work item's markdown. Accepts CRLF, a BOM, `*`/`+`/numbered bullets, `[X]`, extra blank
 * lines and section headings in any case or order; the first error found is returned with its line.
 */
export const parseStoryDoc = (markdown: string): Either.Either<StoryDoc, StoryDocError> => {
  const known = recentParses.get(markdown)
  if (known !== undefined) return known
  const parsed = parseFresh(markdown)
  if (recentParses.size >= recentParsesKept) recentParses.delete(recentParses.keys().next().value as string)
  recentParses.set(markdown, parsed)
  return parsed
}

const parseFresh = (markdown: string): Either.Either<StoryDoc, StoryDocError> =>
  Either.gen(function* () {
    const lines = markdown
      .replace(/^\uFEFF/, "")
      .replace(/\r\n?/g, "\n")
      .split("\n")
    if (!frontMatterOpen.test(lines[0] ?? "")) {
      return yield* Either.left(
        storyDocError(
          "front matter",
          "missing; a work item starts with a `---` line, then YAML keys (at least `name: ...`), then a closing `---` line",
          1,
        ),
      )
    }
    const close = lines.findIndex((line, i) => i > 0 && frontMatterClose.test(line))
    if (close === -1) {
      return yield* Either.left(
        storyDocError("front matter", "never closed; add a `---` line after the last key", 1),
      )
    }
    const frontMatter = yield* parseFrontMatter(lines.slice(1, close).join("\n"), 2)
    const bodyStart = close + 2
    const body = yield* splitSections(lines.slice(close + 1), bodyStart, "body")

    const preamble = normalizeBlock(dropTitle(body.preamble).join("\n"))
    const texts: { userStory?: string; description?: string } = {}
    let criteria: ReadonlyArray<Criterion> = []
    const seen = new Map<KnownSection, number>()
    const otherSections: Array<Section> = []
    for (const section of body.sections) {
      const known = knownSectionOf(section.heading)
      if (known === undefined) {
        otherSections.push({ heading: section.heading, body: normalizeBlock(section.lines.join("\n")) })
        continue
      }
      const earlier = seen.get(known)
      if (earlier !== undefined) {
        return yield* Either.left(
          storyDocError(
            `section ${sectionTitles[known]}`,
            `appears twice (also on line ${earlier}); merge the two into one section`,
            section.line,
          ),
        )
      }
      seen.set(known, section.line)
      if (known === "criteria") criteria = yield* parseCriteria(section.lines, section.line + 1)
      else texts[known] = normalizeBlock(section.lines.join("\n"))
    }
    const { userStory, description } = texts
    return {
      frontMatter,
      ...(preamble === "" ? {} : { preamble }),
      ...(userStory === undefined ? {} : { userStory }),
      ...(description === undefined ? {} : { description }),
      criteria,
      otherSections,
    }
  })

const renderSection = (heading: string, body: string): string =>
  body === "" ? `## ${heading}` : `## ${heading}\n\n${body}`

/**
 * The canonical markdown: front matter (known keys first), a blank line, `# name`, the preamble,
 * User Story, Description, Acceptance Criteria (always), then other sections, each block separated
 * by one blank line, ending in a single newline. `parseStoryDoc(renderStoryDoc(d))` equals `d` for
 * every valid `d`.
 */
export const renderStoryDoc = (doc: StoryDoc): string => {
  const blocks = [`# ${doc.frontMatter.name}`]
  if (doc.preamble !== undefined) blocks.push(doc.preamble)
  if (doc.userStory !== undefined) blocks.push(renderSection(sectionTitles.userStory, doc.userStory))
  if (doc.description !== undefined) blocks.push(renderSection(sectionTitles.description, doc.description))
  blocks.push(renderSection(sectionTitles.criteria, doc.criteria.map(renderCriterion).join("\n")))
  for (const section of doc.otherSections) blocks.push(renderSection(section.heading, section.body))
  return `---\n${renderFrontMatter(doc.frontMatter)}---\n\n${blocks.join("\n\n")}\n`
}

const checkCanonicalBlock = (field: string, text: string): Either.Either<string, StoryDocError> =>
  Either.flatMap(checkBlock(field, text), (block) =>
    block === text
      ? Either.right(block)
      : Either.left(
          storyDocError(
            field,
            "not in canonical form; pass it through normalizeBlock (no leading blank lines, no trailing whitespace, \\n line endings)",
          ),
        ),
  )

/**
 * Checks a StoryDoc built by code holds everything parsing guarantees, so that it renders to markdown
 * that parses back to the same value. Docs from parseStoryDoc and the edit helpers always pass.
 */
export const validateStoryDoc = (doc: StoryDoc): Either.Either<StoryDoc, StoryDocError> =>
  Either.gen(function* () {
    yield* checkFrontMatter(doc.frontMatter)
    if (doc.preamble !== undefined) {
      const preamble = yield* checkCanonicalBlock("preamble", doc.preamble)
      if (preamble === "") yield* Either.left(storyDocError("preamble", "empty; leave it out instead"))
    }
    if (doc.userStory !== undefined) yield* checkCanonicalBlock("user story", doc.userStory)
    if (doc.description !== undefined) yield* checkCanonicalBlock("description", doc.description)
    for (const [i, c] of doc.criteria.entries()) {
      const text = yield* checkCriterionText(c.text)
      if (text !== c.text) yield* Either.left(storyDocError(`criterion ${i}`, "its text must be trimmed"))
    }
    for (const section of doc.otherSections) {
      const field = `section ${JSON.stringify(section.heading)}`
      if (
        section.heading === "" ||
        headingText(section.heading) !== section.heading ||
        /[\r\n]/.test(section.heading)
      ) {
        yield* Either.left(
          storyDocError(
            field,
            "a heading is one trimmed line of text, not ending in ` #` (an optional closing sequence)",
          ),
        )
      }
      if (knownSectionOf(section.heading) !== undefined) {
        yield* Either.left(storyDocError(field, "is a section huskies reads; set it through its own field"))
      }
      yield* checkCanonicalBlock(field, section.body)
    }
    return doc
  })

export interface NewStoryDoc {
  readonly name: string
  readonly userStory?: string
  readonly description?: string
  readonly criteria?: ReadonlyArray<string>
  /** Item ids; each is checked. */
  readonly dependsOn?: ReadonlyArray<string>
  readonly agent?: string
  readonly qa?: QaMode
  readonly retries?: number
  /** Other front matter keys, applied after the ones above with the same rules as `setFrontMatter`. */
  readonly extra?: Readonly<Record<string, unknown>>
}

/** A new work item's content, checked and normalized as if each part had been set by an edit. */
export const newStoryDoc = (input: NewStoryDoc): Either.Either<StoryDoc, StoryDocError> =>
  Either.gen(function* () {
    let doc: StoryDoc = {
      frontMatter: { name: "", dependsOn: [], extra: {} },
      criteria: [],
      otherSections: [],
    }
    doc = yield* setFrontMatter(doc, "name", input.name)
    if (input.agent !== undefined) doc = yield* setFrontMatter(doc, "agent", input.agent)
    if (input.dependsOn !== undefined) doc = yield* setFrontMatter(doc, "depends_on", input.dependsOn)
    if (input.qa !== undefined) doc = yield* setFrontMatter(doc, "qa", input.qa)
    if (input.retries !== undefined) doc = yield* setFrontMatter(doc, "retries", input.retries)
    for (const [key, value] of Object.entries(input.extra ?? {})) {
      // An optional field left undefined by a caller is "not given", not a value to store.
      if (value === undefined) continue
      doc = yield* setFrontMatter(doc, key, value)
    }
    if (input.userStory !== undefined) doc = yield* setUserStory(doc, input.userStory)
    if (input.description !== undefined) doc = yield* setDescription(doc, input.description)
    for (const text of input.criteria ?? []) doc = yield* addCriterion(doc, text)
    return doc
  })
