// src/domain/storyBody.ts — the markdown under a work item's front matter: splitting it into `## `
// sections (never inside code fences), acceptance-criteria checklists and canonical section text.
// Used by StoryDoc (parse/render/validate) and storyEdits (text given to update_story).
import { Either } from "effect"
import { storyDocError, type StoryDocError } from "./StoryDocError.js"

export interface Criterion {
  /** One line, trimmed, never empty; may itself contain `[x]`, `#` or backticks. */
  readonly text: string
  readonly checked: boolean
}

/** A `## Heading` section huskies does not interpret, kept so that edits never lose what authors wrote. */
export interface Section {
  readonly heading: string
  readonly body: string
}

// CommonMark allows up to three spaces before a fence or heading; four or more is an indented code block.
const fenceLine = /^ {0,3}(`{3,}|~{3,})(.*)$/s
const fenceClose = /^ {0,3}(`{3,}|~{3,})[ \t]*$/
const sectionHeadingLine = /^ {0,3}##(?:[ \t]+(.*))?$/s
const titleLine = /^ {0,3}#(?:[ \t].*)?$/s
// `- [ ] text`, `* [x] text`, `1. [X] text`, or a plain bullet (an unchecked criterion).
const checklistLine = /^\s*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+\[([ xX])\])?(?:[ \t]+(.*))?$/s

interface Fence {
  readonly marker: string
  readonly line: number
}

const opensFence = (line: string): string | undefined => {
  const m = fenceLine.exec(line)
  if (m === null) return undefined
  const marker = m[1] as string
  // A backtick fence's info string cannot contain backticks (that line is inline code instead).
  return marker.startsWith("`") && (m[2] as string).includes("`") ? undefined : marker
}

const closesFence = (line: string, fence: Fence): boolean => {
  const m = fenceClose.exec(line)
  const marker = m?.[1]
  return marker !== undefined && marker[0] === fence.marker[0] && marker.length >= fence.marker.length
}

/** The text of a `##` heading: trimmed, without an optional closing run of `#`s. */
export const headingText = (rest: string): string => rest.replace(/(?:^|[ \t]+)#+[ \t]*$/, "").trim()

export interface RawSection {
  readonly heading: string
  /** Document line of the heading. */
  readonly line: number
  readonly lines: ReadonlyArray<string>
}

export interface SplitBody {
  /** Lines before the first `##` section. */
  readonly preamble: ReadonlyArray<string>
  readonly sections: ReadonlyArray<RawSection>
}

/**
 * Splits markdown lines at `## ` headings outside code fences. `firstLine` is the document line of
 * `lines[0]`; `field` names the text in errors. An unclosed fence is an error rather than, as in
 * CommonMark, running to the end: it would silently swallow every later section on the next render.
 */
export const splitSections = (
  lines: ReadonlyArray<string>,
  firstLine: number,
  field: string,
): Either.Either<SplitBody, StoryDocError> => {
  const preamble: Array<string> = []
  const sections: Array<{ heading: string; line: number; lines: Array<string> }> = []
  let fence: Fence | undefined
  for (const [i, line] of lines.entries()) {
    const target = sections.at(-1)?.lines ?? preamble
    if (fence !== undefined) {
      if (closesFence(line, fence)) fence = undefined
      target.push(line)
      continue
    }
    const marker = opensFence(line)
    if (marker !== undefined) {
      fence = { marker, line: firstLine + i }
      target.push(line)
      continue
    }
    const heading = sectionHeadingLine.exec(line)
    if (heading === null) {
      target.push(line)
      continue
    }
    const text = headingText(heading[1] ?? "")
    if (text === "") {
      return Either.left(
        storyDocError(
          field,
          "a `##` heading with no text; name the section or remove the line",
          firstLine + i,
        ),
      )
    }
    sections.push({ heading: text, line: firstLine + i, lines: [] })
  }
  if (fence !== undefined) {
    return Either.left(
      storyDocError(
        field,
        `the code fence opened here is never closed; add a closing ${fence.marker} line`,
        fence.line,
      ),
    )
  }
  return Either.right({ preamble, sections })
}

const isBlank = (line: string) => line.trim() === ""

/**
 * Canonical text of a section: `\n` line endings, no leading blank lines, no trailing whitespace.
 * Inner blank lines and indentation are kept as written.
 */
export const normalizeBlock = (text: string): string => {
  const lines = text.replace(/\r\n?/g, "\n").split("\n")
  const start = lines.findIndex((line) => !isBlank(line))
  return start === -1 ? "" : lines.slice(start).join("\n").trimEnd()
}

/**
 * Normalizes text meant for one section and checks it stays one section when rendered: no `## `
 * heading outside a code fence and no unclosed fence. Errors give the line within `text`.
 */
export const checkBlock = (field: string, text: string): Either.Either<string, StoryDocError> => {
  const block = normalizeBlock(text)
  const split = splitSections(block.split("\n"), 1, field)
  if (Either.isLeft(split)) return Either.left(split.left)
  const heading = split.right.sections[0]
  if (heading !== undefined) {
    return Either.left(
      storyDocError(
        field,
        `\`## ${heading.heading}\` would start a new section; use \`### ${heading.heading}\` for a subheading`,
        heading.line,
      ),
    )
  }
  return Either.right(block)
}

/** The preamble's leading `# ` line is the title, which huskies renders from `name`. */
export const dropTitle = (lines: ReadonlyArray<string>): ReadonlyArray<string> => {
  const first = lines.findIndex((line) => !isBlank(line))
  return first !== -1 && titleLine.test(lines[first] as string) ? lines.slice(first + 1) : lines
}

/** Validates and trims a criterion's text. */
export const checkCriterionText = (text: string, line?: number): Either.Either<string, StoryDocError> => {
  const trimmed = text.trim()
  if (trimmed === "")
    return Either.left(storyDocError("criterion", "its text is empty; say what must be true", line))
  if (/[\r\n]/.test(trimmed)) {
    return Either.left(
      storyDocError("criterion", "its text must be one line; add one criterion per line", line),
    )
  }
  return Either.right(trimmed)
}

/**
 * Reads an Acceptance Criteria section. Accepts `-`, `*`, `+` and numbered bullets, `[ ]`, `[x]`, `[X]`
 * and plain bullets (unchecked); an indented line continues the criterion above it. Any other text is
 * an error rather than being dropped, since the model has nowhere to keep it.
 */
export const parseCriteria = (
  lines: ReadonlyArray<string>,
  firstLine: number,
): Either.Either<ReadonlyArray<Criterion>, StoryDocError> => {
  const field = "section Acceptance Criteria"
  const criteria: Array<{ text: string; checked: boolean; line: number }> = []
  for (const [i, line] of lines.entries()) {
    if (isBlank(line)) continue
    const lineNo = firstLine + i
    const item = checklistLine.exec(line)
    if (item !== null) {
      criteria.push({ text: (item[2] ?? "").trim(), checked: (item[1] ?? " ") !== " ", line: lineNo })
      continue
    }
    const previous = criteria.at(-1)
    if (previous !== undefined && /^[ \t]/.test(line)) {
      previous.text = `${previous.text} ${line.trim()}`.trim()
      continue
    }
    return Either.left(
      storyDocError(
        field,
        `${JSON.stringify(line.trim())} is not a checklist item; write each criterion as \`- [ ] text\` and move other text to ## Description`,
        lineNo,
      ),
    )
  }
  const result: Array<Criterion> = []
  for (const c of criteria) {
    const text = checkCriterionText(c.text, c.line)
    if (Either.isLeft(text)) return Either.left(storyDocError(field, "a checklist item with no text", c.line))
    result.push({ text: text.right, checked: c.checked })
  }
  return Either.right(result)
}

export const renderCriterion = (c: Criterion): string => `- [${c.checked ? "x" : " "}] ${c.text}`
