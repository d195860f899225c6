// web/test/storyText.test.ts — how the item page splits an item's markdown: the text it renders and the
// criteria it shows as checkboxes (counted as CheckCriterion counts them).
import { describe, expect, it } from "vitest"
import { splitStoryText } from "../src/views/item/storyText.js"
import { parseNumbers } from "../src/views/itemNumbers.js"

const doc = [
  "---",
  "name: Add login",
  "depends_on: [3_story_x]",
  "---",
  "",
  "# Add login",
  "",
  "## User Story",
  "",
  "As a user I log in.",
  "",
  "## Acceptance Criteria",
  "",
  "- [x] a form",
  "- [ ] a session",
  "  that lasts",
  "",
  "## Notes",
  "",
  "```",
  "## not a section",
  "```",
].join("\n")

describe("splitStoryText", () => {
  it("takes out the front matter, the title and the criteria, keeping every other section", () => {
    const text = splitStoryText(doc)
    expect(text.criteria).toEqual([
      { text: "a form", checked: true },
      { text: "a session that lasts", checked: false },
    ])
    expect(text.problem).toBeUndefined()
    expect(text.body).toBe("## User Story\n\nAs a user I log in.\n\n## Notes\n\n```\n## not a section\n```")
  })

  it("shows a criteria section it cannot read as text, and says why", () => {
    const text = splitStoryText("---\nname: x\n---\n\n## Acceptance Criteria\n\nnot a checklist\n")
    expect(text.criteria).toEqual([])
    expect(text.problem).toContain("not a checklist item")
    expect(text.body).toContain("not a checklist")
  })

  it("reads text without front matter", () => {
    expect(splitStoryText("## Acceptance Criteria\n- [ ] one").criteria).toEqual([
      { text: "one", checked: false },
    ])
  })
})

describe("parseNumbers", () => {
  it("reads numbers separated by commas or spaces, with or without #, once each", () => {
    expect(parseNumbers(" 12, #14 12\n15 ")).toEqual({ numbers: [12, 14, 15] })
    expect(parseNumbers("")).toEqual({ numbers: [] })
  })

  it("names what is not a number", () => {
    expect(parseNumbers("12, twelve")).toEqual({ error: 'Dependencies: "twelve" is not an item number' })
  })
})
