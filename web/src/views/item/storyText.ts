// web/src/views/item/storyText.ts — splits an item's stored markdown for the item page: the text to
// render (without front matter, title and the criteria section) and the acceptance criteria, read with
// the domain's own section and checklist rules so the indices match what CheckCriterion counts.
import { Either } from "effect"
import { type Criterion, dropTitle, parseCriteria, splitSections } from "../../../../src/domain/storyBody.js"

export interface StoryText {
  /** Markdown to show: every section but Acceptance Criteria. */
  readonly body: string
  readonly criteria: ReadonlyArray<Criterion>
  /** Why the criteria could not be read (the item's text is shown as it is meanwhile). */
  readonly problem: string | undefined
}

const frontMatterOpen = /^---[ \t]*$/
const frontMatterClose = /^(?:---|\.\.\.)[ \t]*$/

export const splitStoryText = (content: string): StoryText => {
  const lines = content
    .replace(/^\uFEFF/, "")
    .replace(/\r\n?/g, "\n")
    .split("\n")
  const close = frontMatterOpen.test(lines[0] ?? "")
    ? lines.findIndex((line, i) => i > 0 && frontMatterClose.test(line))
    : -1
  const bodyLines = lines.slice(close + 1)
  const split = splitSections(bodyLines, close + 2, "body")
  if (Either.isLeft(split)) return { body: bodyLines.join("\n"), criteria: [], problem: split.left.message }
  const kept: Array<string> = [...dropTitle(split.right.preamble)]
  let criteria: ReadonlyArray<Criterion> = []
  let problem: string | undefined
  for (const section of split.right.sections) {
    if (section.heading.toLowerCase() === "acceptance criteria") {
      const read = parseCriteria(section.lines, section.line + 1)
      if (Either.isRight(read)) {
        criteria = read.right
        continue
      }
      problem = read.left.message
    }
    kept.push(`## ${section.heading}`, ...section.lines)
  }
  return { body: kept.join("\n").trim(), criteria, problem }
}
