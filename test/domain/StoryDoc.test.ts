// test/domain/StoryDoc.test.ts — the work item markdown model: parsing hand-written docs, canonical
// rendering, round trips over odd generated docs, precise errors, and the update_story edit helpers.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as fc from "fast-check"
import type { QaMode } from "../../src/domain/Stage.js"
import {
  addCriterion,
  checkCriterion,
  type Criterion,
  type FrontMatter,
  type JsonValue,
  newStoryDoc,
  parseStoryDoc,
  removeCriterion,
  renderStoryDoc,
  rewordCriterion,
  type Section,
  setCriterionChecked,
  setDescription,
  setFrontMatter,
  setFrontMatterKeys,
  setUserStory,
  type StoryDoc,
  todos,
  uncheckCriterion,
  validateStoryDoc,
} from "../../src/domain/StoryDoc.js"
import { itemKinds, StoryId } from "../../src/domain/StoryId.js"

// ---- helpers -----------------------------------------------------------------------------------

const ok = <A, E>(result: Either.Either<A, E>): A => {
  if (Either.isLeft(result)) throw new Error(`expected success, got ${JSON.stringify(result.left)}`)
  return result.right
}

const err = <A, E>(result: Either.Either<A, E>): E => {
  if (Either.isRight(result)) throw new Error(`expected an error, got ${JSON.stringify(result.right)}`)
  return result.left
}

const errMessage = <A, E extends { readonly message: string }>(result: Either.Either<A, E>): string =>
  err(result).message

const id = (s: string) => StoryId.make(s)

/**
 * Exact equality for generated docs, where toStrictEqual misfires (it compares own `constructor`
 * keys, which generated JSON has): extra key order, -0 and undefined-valued fields all count.
 */
const exact = (doc: StoryDoc): string => {
  const { frontMatter: fm } = doc
  const known = [fm.name, fm.agent, fm.dependsOn, fm.qa, fm.retries]
  const body = [doc.preamble, doc.userStory, doc.description, doc.criteria, doc.otherSections]
  const shape = [Object.keys(doc).sort(), Object.keys(fm).sort()]
  return JSON.stringify([known, fm.extra, body, shape], (_key, v: unknown) =>
    Object.is(v, -0) ? "<-0>" : v === undefined ? "<undefined>" : v,
  )
}
const expectSameDoc = (actual: StoryDoc, expected: StoryDoc) => expect(exact(actual)).toBe(exact(expected))

const example = `---
name: Add login
agent: coder-1
depends_on: [3_story_users_table]
qa: human
retries: 3
priority: 2          # any extra key of any JSON type is kept
labels: [auth, "ui"]
owner: { team: core, oncall: null }
draft: false
note: null
---

# Add login

## User Story
As a user I want to log in.

## Description
Free text with its own subheading:

### Flow

\`\`\`md
## Not a section
- [ ] not a criterion either
\`\`\`

| a | b |
|---|---|

## Acceptance Criteria
- [ ] can log in
- [x] wrong password shows an error

## Notes
Kept verbatim.
`

const exampleDoc: StoryDoc = {
  frontMatter: {
    name: "Add login",
    agent: "coder-1",
    dependsOn: [id("3_story_users_table")],
    qa: "human",
    retries: 3,
    extra: {
      priority: 2,
      labels: ["auth", "ui"],
      owner: { team: "core", oncall: null },
      draft: false,
      note: null,
    },
  },
  userStory: "As a user I want to log in.",
  description:
    "Free text with its own subheading:\n\n### Flow\n\n```md\n## Not a section\n- [ ] not a criterion either\n```\n\n| a | b |\n|---|---|",
  criteria: [
    { text: "can log in", checked: false },
    { text: "wrong password shows an error", checked: true },
  ],
  otherSections: [{ heading: "Notes", body: "Kept verbatim." }],
}

const exampleCanonical = `---
name: Add login
agent: coder-1
depends_on: [3_story_users_table]
qa: human
retries: 3
priority: 2
labels:
  - auth
  - ui
owner:
  team: core
  oncall: null
draft: false
note: null
---

# Add login

## User Story

As a user I want to log in.

## Description

Free text with its own subheading:

### Flow

\`\`\`md
## Not a section
- [ ] not a criterion either
\`\`\`

| a | b |
|---|---|

## Acceptance Criteria

- [ ] can log in
- [x] wrong password shows an error

## Notes

Kept verbatim.
`

const minimal = (name = "Item"): StoryDoc => ok(newStoryDoc({ name }))

const withCriteria = (...texts: ReadonlyArray<string>): StoryDoc =>
  ok(newStoryDoc({ name: "Item", criteria: texts }))

// ---- arbitraries -------------------------------------------------------------------------------

const oddPieces = fc.constantFrom(
  "#",
  "##",
  "## ",
  "`",
  "```",
  "~~~",
  "[x]",
  "[ ]",
  "- ",
  "* ",
  "1. ",
  "|",
  ": ",
  "---",
  "...",
  "\t",
  " ",
  "é",
  "日本語",
  "🐺",
  "👩‍💻",
  "\u00a0",
  "\u2028",
  "\\",
  '"',
  "'",
  "&a",
  "*b",
  "!t",
  "%",
  "@",
  "{",
  "}",
  "[",
  "]",
  ">",
  "<!--",
  "-->",
)
const textPiece = fc.oneof(fc.string({ unit: "grapheme", maxLength: 6 }), oddPieces)
/** One line of odd text (no line breaks). */
const rawLineArb = fc
  .array(textPiece, { maxLength: 6 })
  .map((pieces) => pieces.join("").replace(/[\r\n]/g, " "))

// Independent of the implementation on purpose: prefix anything that might open a fence or a section.
const looksStructural = /^\s{0,3}(```|~~~|##(\s|$))/
const freeLineArb = rawLineArb.map((line) => (looksStructural.test(line) ? `x ${line}` : line))

const fenceArb = fc.constantFrom("```", "````", "~~~", "```ts").chain((open) => {
  const char = open[0] as string
  const inner: Array<string> = ["## Not a section", "# comment", "##", "- [x] inside a fence"]
  if (char === "~") inner.push("```", "```js")
  if (open === "````") inner.push("```")
  const closer = open.startsWith("```") ? open.replace(/[a-z]+$/, "") : open
  const innerLine = fc.oneof(freeLineArb, fc.constantFrom(...inner))
  return fc.array(innerLine, { maxLength: 4 }).map((lines) => [open, ...lines, closer].join("\n"))
})

const blockLineArb = fc.oneof(
  { weight: 4, arbitrary: freeLineArb },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "### Sub heading",
      "# h1 inside a section",
      "| a | b |",
      "|---|---|",
      "- [x] not a criterion here",
      "    ## indented code, not a heading",
      "",
      "   ",
      "\t",
    ),
  },
  { weight: 1, arbitrary: fenceArb },
)

const isBlank = (line: string) => line.trim() === ""
const canonicalText = (text: string): string => {
  const lines = text.split("\n")
  const start = lines.findIndex((line) => !isBlank(line))
  return start === -1 ? "" : lines.slice(start).join("\n").trimEnd()
}

/** Section text as it is after parsing: may be empty. */
const blockArb = fc.array(blockLineArb, { maxLength: 8 }).map((lines) => canonicalText(lines.join("\n")))

const oneLineArb = (constants: ReadonlyArray<string>) =>
  fc
    .oneof(rawLineArb, fc.constantFrom(...constants))
    .map((s) => s.trim())
    .filter((s) => s !== "")

const criterionArb: fc.Arbitrary<Criterion> = fc.record(
  {
    text: oneLineArb([
      "[x] already ticked?",
      "[ ] nested box",
      "- [ ] looks like an item",
      "## not a heading",
      "```",
      "uses `code` and **bold**",
      "C# #1 #",
    ]),
    checked: fc.boolean(),
  },
  { noNullPrototype: true },
)

const knownHeadings = new Set(["user story", "description", "acceptance criteria"])
const headingArb = oneLineArb([
  "Notes",
  "Out of scope",
  "C#",
  "Tech ## notes",
  "Ünïcödé 🐺",
  "Acceptance Criteria 2",
]).filter((h) => !/(^|[ \t])#+[ \t]*$/.test(h) && !knownHeadings.has(h.toLowerCase().replace(/\s+/g, " ")))
const sectionArb: fc.Arbitrary<Section> = fc.record(
  { heading: headingArb, body: blockArb },
  { noNullPrototype: true },
)

const storyIdArb = fc
  .tuple(
    fc.integer({ min: 1, max: 1_000_000 }),
    fc.constantFrom(...itemKinds),
    fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 3 }),
  )
  .map(([n, kind, words]) => id(`${n}_${kind}_${words.join("_")}`))

const yamlishStrings = [
  "yes",
  "no",
  "on",
  "null",
  "~",
  "true",
  "1.0",
  "0x1F",
  "0o17",
  "1e3",
  ".inf",
  ".nan",
  "2001-12-14",
  "- item",
  "key: value",
  "a #comment",
  "#hash",
  "",
  " leading",
  "trailing ",
  "multi\nline\n  indented\n",
  "crlf\r\nline",
  "nul\u0000byte",
  "tab\there",
  "\u2028sep",
  "---",
  "...",
  "'single'",
  '"double"',
  "@at",
  "`tick`",
  "*alias",
  "&anchor",
  "!tag",
  "%directive",
  "|pipe",
  ">fold",
]
const nameArb = oneLineArb(["Add login", ...yamlishStrings.filter((s) => !/[\r\n]/.test(s))])
const extraKeyArb = fc
  .oneof(
    fc.string({ unit: "grapheme", maxLength: 8 }),
    fc.constantFrom(
      "priority",
      "2024",
      "__proto__",
      "constructor",
      "has space",
      "colon:key",
      "dependsOn",
      "Name",
      ...yamlishStrings,
    ),
  )
  .filter((k) => !["name", "agent", "depends_on", "qa", "retries"].includes(k))

const scalarArb: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 0.1, 1e21, 5e-324, Number.MAX_SAFE_INTEGER + 2),
  fc.string({ unit: "grapheme", maxLength: 10 }),
  fc.constantFrom(...yamlishStrings),
)
const jsonArb: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalarArb,
    fc.array(tie("value"), { maxLength: 3 }),
    // fromEntries gives ordinary objects (fast-check may build null-prototype ones) with own `__proto__` keys.
    fc
      .array(fc.tuple(extraKeyArb, tie("value")), { maxLength: 3 })
      .map((entries) => Object.fromEntries(entries)),
  ),
})).value

const optional = <K extends string, A>(key: K, arb: fc.Arbitrary<A>) =>
  fc.option(arb, { nil: undefined }).map((v) => (v === undefined ? {} : ({ [key]: v } as { [P in K]: A })))

const frontMatterArb: fc.Arbitrary<FrontMatter> = fc
  .tuple(
    nameArb,
    optional("agent", fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/)),
    fc.array(storyIdArb, { maxLength: 3 }),
    optional("qa", fc.constantFrom<QaMode>("agent", "human", "none")),
    optional("retries", fc.nat()),
    fc.array(fc.tuple(extraKeyArb, jsonArb), { maxLength: 4 }),
  )
  .map(([name, agent, dependsOn, qa, retries, extra]) => ({
    name,
    ...agent,
    dependsOn,
    ...qa,
    ...retries,
    extra: Object.fromEntries(extra),
  }))

const storyDocArb: fc.Arbitrary<StoryDoc> = fc
  .tuple(
    frontMatterArb,
    optional(
      "preamble",
      blockArb.filter((b) => b !== ""),
    ),
    optional("userStory", blockArb),
    optional("description", blockArb),
    fc.array(criterionArb, { maxLength: 5 }),
    fc.array(sectionArb, { maxLength: 3 }),
  )
  .map(([frontMatter, preamble, userStory, description, criteria, otherSections]) => ({
    frontMatter,
    ...preamble,
    ...userStory,
    ...description,
    criteria,
    otherSections,
  }))

// ---- parsing -----------------------------------------------------------------------------------

describe("parseStoryDoc", () => {
  it("reads every part of a hand-written doc, keeping extra keys and unknown sections", () => {
    const doc = ok(parseStoryDoc(example))
    expect(doc).toStrictEqual(exampleDoc)
    expect(Object.keys(doc.frontMatter.extra)).toEqual(["priority", "labels", "owner", "draft", "note"])
  })

  it("renders the canonical form: known keys first, a `# name` title, blank line after headings", () => {
    expect(renderStoryDoc(exampleDoc)).toBe(exampleCanonical)
    expect(renderStoryDoc(ok(parseStoryDoc(exampleCanonical)))).toBe(exampleCanonical)
  })

  it("accepts CRLF, a BOM, other bullets, [X], extra blank lines, any heading case and `...`", () => {
    const handWritten = [
      "\uFEFF---",
      "qa: agent",
      "name:   Fix crash  ",
      "...",
      "",
      "",
      "## user story",
      "",
      "",
      "As a user",
      "",
      "",
      "",
      "## ACCEPTANCE CRITERIA  ##",
      "",
      "* [ ] first",
      "+ [X] second",
      "",
      "1. [x] third",
      "- plain bullet",
      "- [ ] long criterion",
      "  continued here",
      "  - [ ] nested one",
      "",
      "## Description",
      "Late description",
      "   ",
    ].join("\r\n")
    expect(ok(parseStoryDoc(handWritten))).toStrictEqual({
      frontMatter: { name: "Fix crash", dependsOn: [], qa: "agent", extra: {} },
      userStory: "As a user",
      description: "Late description",
      criteria: [
        { text: "first", checked: false },
        { text: "second", checked: true },
        { text: "third", checked: true },
        { text: "plain bullet", checked: false },
        { text: "long criterion continued here", checked: false },
        { text: "nested one", checked: false },
      ],
      otherSections: [],
    })
  })

  it("drops the `# title` (rendered from name) and keeps other text before the first section", () => {
    const doc = ok(
      parseStoryDoc("---\nname: New name\n---\n\n# Old title\n\nIntro *text*.\n\n# Second h1\n\n## Notes\n"),
    )
    expect(doc.preamble).toBe("Intro *text*.\n\n# Second h1")
    expect(doc.otherSections).toStrictEqual([{ heading: "Notes", body: "" }])
    expect(renderStoryDoc(doc)).toBe(
      "---\nname: New name\n---\n\n# New name\n\nIntro *text*.\n\n# Second h1\n\n## Acceptance Criteria\n\n## Notes\n",
    )
  })

  it("does not split on `## ` inside ``` or ~~~ fences, nor on indented or `###` headings", () => {
    const doc = ok(
      parseStoryDoc(
        [
          "---",
          "name: x",
          "---",
          "## Description",
          "~~~",
          "```",
          "## in tilde fence",
          "~~~",
          "````",
          "```",
          "## in long fence",
          "````",
          "    ## indented code",
          "### sub",
          "## Other ##",
          "text",
        ].join("\n"),
      ),
    )
    expect(doc.description).toBe(
      "~~~\n```\n## in tilde fence\n~~~\n````\n```\n## in long fence\n````\n    ## indented code\n### sub",
    )
    expect(doc.otherSections).toStrictEqual([{ heading: "Other", body: "text" }])
  })

  it("keeps unknown sections, including repeated ones, in order", () => {
    const doc = ok(parseStoryDoc("---\nname: x\n---\n## B\nb\n## Description\nd\n## A\na\n## B\nb2\n"))
    expect(doc.otherSections.map((s) => s.heading)).toEqual(["B", "A", "B"])
    expect(doc.otherSections[2]?.body).toBe("b2")
  })

  it("keeps a present-but-empty section distinct from a missing one", () => {
    const doc = ok(parseStoryDoc("---\nname: x\n---\n## User Story\n\n## Acceptance Criteria\n"))
    expect(doc.userStory).toBe("")
    expect("description" in doc).toBe(false)
    expect(doc.criteria).toEqual([])
  })

  it("accepts a single id for depends_on and null for optional known keys", () => {
    const doc = ok(
      parseStoryDoc("---\nname: x\ndepends_on: 12_bug_crash\nagent:\nqa: null\nretries: ~\n---\n"),
    )
    expect(doc.frontMatter).toStrictEqual({ name: "x", dependsOn: [id("12_bug_crash")], extra: {} })
  })
})

describe("parseStoryDoc errors name the field, the line and the fix", () => {
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    [
      "no front matter",
      "# Add login\n",
      "front matter (line 1): missing; a work item starts with a `---` line",
    ],
    ["unclosed front matter", "---\nname: x\n", "front matter (line 1): never closed; add a `---` line"],
    ["empty front matter", "---\n---\n", "front matter: it is empty; add at least `name:"],
    ["front matter is a list", "---\n- a\n- b\n---\n", "front matter (line 2): expected `key: value` lines"],
    ["broken YAML", "---\nname: x\nlabels: [a, b\n---\n", "front matter (line 3): this is not valid YAML"],
    [
      "duplicate key",
      "---\nname: x\nname: y\n---\n",
      "front matter (line 3): this is not valid YAML: Map keys must be unique",
    ],
    ["missing name", "---\nagent: a\n---\n", "front matter key name: missing; add `name:"],
    ["null name", "---\nname:\n---\n", "front matter key name (line 2): every work item needs a name"],
    [
      "numeric name",
      "---\nname: 2024\n---\n",
      "front matter key name (line 2): expected the item's name as one line of text, like `name: Add login` (quote it if it looks like a number); got 2024",
    ],
    [
      "depends_on not a list",
      "---\nname: x\ndepends_on: {a: 1}\n---\n",
      'front matter key depends_on (line 3): expected a list of item ids like [12_story_add_login]; got {"a":1}',
    ],
    [
      "depends_on with a bad id",
      "---\nname: x\ndepends_on: [3_story_ok, Add Login]\n---\n",
      'front matter key depends_on (line 3): "Add Login" is not an item id; expected a list of item ids like [12_story_add_login]',
    ],
    [
      "depends_on with a number",
      "---\nname: x\ndepends_on: [12]\n---\n",
      "front matter key depends_on (line 3): 12 is not an item id",
    ],
    [
      "unknown qa mode",
      "---\nname: x\nqa: sometimes\n---\n",
      'front matter key qa (line 3): expected one of agent, human, none; got "sometimes"',
    ],
    [
      "negative retries",
      "---\nname: x\nretries: -1\n---\n",
      "front matter key retries (line 3): expected a whole number of retries, 0 or more, like `retries: 3`; got -1",
    ],
    [
      "fractional retries",
      "---\nname: x\nretries: 1.5\n---\n",
      "front matter key retries (line 3): expected a whole number",
    ],
    [
      "agent not text",
      "---\nname: x\nagent: [a]\n---\n",
      "front matter key agent (line 3): expected an agent name",
    ],
    [
      "agent a path",
      "---\nname: x\nagent: ../../../bin/sh\n---\n",
      'front matter key agent (line 3): expected an agent name of 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit, such as "coder-1" (`agent: coder-1`), or null to let huskies choose; got "../../../bin/sh"',
    ],
    [
      "infinite extra",
      "---\nname: x\nweight: .inf\n---\n",
      "front matter key weight (line 3): Infinity is not a JSON number",
    ],
    [
      "nested non-JSON extra",
      "---\nname: x\nblob: {data: !!binary aGVsbG8=}\n---\n",
      'front matter key blob (line 3): at "data": binary data is not a JSON value',
    ],
    [
      "a YAML set",
      "---\nname: x\ntags: !!set {a, b}\n---\n",
      "front matter key tags (line 3): a set is not a JSON value",
    ],
    [
      "an alias loop",
      "---\nname: x\nloop: &l [*l]\n---\n",
      "front matter key loop (line 3): a value that contains itself",
    ],
    [
      "an alias bomb",
      `---\nname: x\na: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [${"*a, ".repeat(40)}*a]\nc: [${"*b, ".repeat(40)}*b]\n---\n`,
      "front matter key c (line 5): cannot be read: Excessive alias count",
    ],
    [
      "a complex key",
      "---\nname: x\n? [a, b]\n: c\n---\n",
      "front matter (line 3): every key must be plain text",
    ],
    [
      "duplicate section",
      "---\nname: x\n---\n## Description\na\n## description\nb\n",
      "section Description (line 6): appears twice (also on line 4); merge the two into one section",
    ],
    [
      "text in the criteria",
      "---\nname: x\n---\n## Acceptance Criteria\n- [ ] ok\nMust be fast\n",
      'section Acceptance Criteria (line 6): "Must be fast" is not a checklist item; write each criterion as `- [ ] text`',
    ],
    [
      "empty checklist item",
      "---\nname: x\n---\n## Acceptance Criteria\n- [ ]\n",
      "section Acceptance Criteria (line 5): a checklist item with no text",
    ],
    [
      "unclosed code fence",
      "---\nname: x\n---\n## Description\n```ts\n## Acceptance Criteria\n",
      "body (line 5): the code fence opened here is never closed; add a closing ``` line",
    ],
    ["empty heading", "---\nname: x\n---\n##\n", "body (line 4): a `##` heading with no text"],
  ]
  for (const [what, markdown, message] of cases) {
    it(what, () => {
      const error = err(parseStoryDoc(markdown))
      expect(error._tag).toBe("StoryDocError")
      expect(error.message.startsWith(message)).toBe(true)
      expect(error.message.startsWith(`${error.field}`)).toBe(true)
    })
  }

  it("counts lines from the top of the file, CRLF or not", () => {
    const error = err(parseStoryDoc("---\r\nname: x\r\n---\r\n\r\n## Acceptance Criteria\r\n\r\noops\r\n"))
    expect(error.line).toBe(7)
  })
})

// ---- round trips -------------------------------------------------------------------------------

describe("render/parse round trip", () => {
  it("generated docs are valid", () => {
    fc.assert(
      fc.property(storyDocArb, (doc) => {
        expect(ok(validateStoryDoc(doc))).toBe(doc)
      }),
    )
  })

  it("parse(render(doc)) equals doc", () => {
    fc.assert(
      fc.property(storyDocArb, (doc) => {
        expectSameDoc(ok(parseStoryDoc(renderStoryDoc(doc))), doc)
      }),
      { numRuns: 300 },
    )
  })

  it("render(parse(s)) equals s for rendered s, with CRLF too", () => {
    fc.assert(
      fc.property(storyDocArb, (doc) => {
        const s = renderStoryDoc(doc)
        expect(renderStoryDoc(ok(parseStoryDoc(s)))).toBe(s)
        expect(renderStoryDoc(ok(parseStoryDoc(s.replace(/\n/g, "\r\n"))))).toBe(s)
      }),
    )
  })

  it("keeps awkward extra values exactly: -0, big numbers, `__proto__` keys, YAML-looking text", () => {
    const extra: Record<string, JsonValue> = Object.fromEntries<JsonValue>([
      ["__proto__", { inner: 1 }],
      ["z", -0],
      ["big", 1e21],
      ["tiny", 5e-324],
      ["yes", "yes"],
      ["list", [[], {}, null, "- x"]],
      ["text", "line 1\n  line 2\r\n"],
    ])
    const doc: StoryDoc = { ...minimal(), frontMatter: { ...minimal().frontMatter, extra } }
    const back = ok(parseStoryDoc(renderStoryDoc(doc)))
    expect(back).toStrictEqual(doc)
    expect(Object.is(back.frontMatter.extra["z"], -0)).toBe(true)
    expect(Object.getPrototypeOf(back.frontMatter.extra)).toBe(Object.prototype)
  })
})

describe("validateStoryDoc", () => {
  it("rejects docs that would not survive a render", () => {
    const base = minimal()
    const cases: ReadonlyArray<readonly [StoryDoc, string]> = [
      [
        { ...base, frontMatter: { ...base.frontMatter, name: " padded" } },
        "front matter key name: must be in canonical form",
      ],
      [
        { ...base, frontMatter: { ...base.frontMatter, extra: { qa: "agent" } } },
        "front matter key qa: is a known key",
      ],
      [
        { ...base, description: "## Sneaky\nsection" },
        "description (line 1): `## Sneaky` would start a new section",
      ],
      [{ ...base, description: "\ntext" }, "description: not in canonical form"],
      [{ ...base, preamble: "" }, "preamble: empty"],
      [{ ...base, criteria: [{ text: " x", checked: false }] }, "criterion 0: its text must be trimmed"],
      [{ ...base, criteria: [{ text: "a\nb", checked: false }] }, "criterion: its text must be one line"],
      [
        { ...base, otherSections: [{ heading: "Notes #", body: "" }] },
        'section "Notes #": a heading is one trimmed line',
      ],
      [
        { ...base, otherSections: [{ heading: "description", body: "" }] },
        'section "description": is a section huskies reads',
      ],
    ]
    for (const [doc, message] of cases) expect(errMessage(validateStoryDoc(doc))).toContain(message)
  })
})

// ---- edits -------------------------------------------------------------------------------------

describe("section edits", () => {
  it("create a missing section and normalize the text", () => {
    const doc = ok(
      setDescription(ok(setUserStory(minimal(), "\r\n\r\nAs a user\r\n  I want x  \r\n\r\n")), "d"),
    )
    expect(doc.userStory).toBe("As a user\n  I want x")
    expect(renderStoryDoc(doc)).toBe(
      "---\nname: Item\n---\n\n# Item\n\n## User Story\n\nAs a user\n  I want x\n\n## Description\n\nd\n\n## Acceptance Criteria\n",
    )
  })

  it("refuse a `## ` heading or an unclosed fence, but allow both inside a closed fence", () => {
    expect(errMessage(setDescription(minimal(), "intro\n\n## Design\nx"))).toBe(
      "description (line 3): `## Design` would start a new section; use `### Design` for a subheading",
    )
    expect(errMessage(setUserStory(minimal(), "text\n~~~\ncode"))).toBe(
      "user story (line 2): the code fence opened here is never closed; add a closing ~~~ line",
    )
    const doc = ok(setDescription(minimal(), "```\n## inside\n```"))
    expect(ok(parseStoryDoc(renderStoryDoc(doc)))).toStrictEqual(doc)
  })
})

describe("criteria edits", () => {
  it("add, reword, check, uncheck and remove by index or exact text", () => {
    let doc = withCriteria("a", "b", "c")
    doc = ok(addCriterion(doc, "  d [x] with a box inside  "))
    doc = ok(checkCriterion(doc, 1))
    doc = ok(checkCriterion(doc, " c "))
    doc = ok(rewordCriterion(doc, "b", "b reworded"))
    doc = ok(uncheckCriterion(doc, 2))
    doc = ok(removeCriterion(doc, "a"))
    doc = ok(setCriterionChecked(doc, 2, true))
    expect(doc.criteria).toStrictEqual([
      { text: "b reworded", checked: true },
      { text: "c", checked: false },
      { text: "d [x] with a box inside", checked: true },
    ])
    expect(ok(parseStoryDoc(renderStoryDoc(doc)))).toStrictEqual(doc)
  })

  it("name the valid range when an index is out of range", () => {
    const doc = withCriteria("a", "b", "c")
    const error = err(checkCriterion(doc, 3))
    expect(error._tag).toBe("CriterionNotFound")
    expect(error.criterion).toBe(3)
    expect(error.message).toBe(
      "criterion 3: no such criterion; valid indices are 0 to 2 (criteria are counted from 0)",
    )
    expect(errMessage(removeCriterion(doc, -1))).toContain("valid indices are 0 to 2")
    expect(errMessage(removeCriterion(doc, 1.5))).toContain("valid indices are 0 to 2")
    expect(errMessage(removeCriterion(withCriteria("a"), 1))).toContain("the only valid index is 0")
    expect(errMessage(uncheckCriterion(minimal(), 0))).toBe(
      "criterion 0: there are no acceptance criteria yet; add one first",
    )
  })

  it("list the criteria when no text matches, and refuse an ambiguous text", () => {
    const doc = withCriteria("a", "b", "a")
    expect(errMessage(removeCriterion(doc, "c"))).toBe(
      'criterion "c": no criterion has exactly this text; the criteria are: 0 "a", 1 "b", 2 "a"',
    )
    expect(errMessage(checkCriterion(doc, "a"))).toBe(
      'criterion "a": criteria 0, 2 all have this text; name one by its index',
    )
  })

  it("refuse empty or multi-line criterion text", () => {
    expect(errMessage(addCriterion(minimal(), "   "))).toBe(
      "criterion: its text is empty; say what must be true",
    )
    expect(errMessage(rewordCriterion(withCriteria("a"), 0, "x\ny"))).toBe(
      "criterion: its text must be one line; add one criterion per line",
    )
  })

  it("todos lists unchecked criteria with their indices", () => {
    const doc = ok(checkCriterion(withCriteria("a", "b", "c"), 1))
    expect(todos(doc)).toStrictEqual([
      { index: 0, text: "a" },
      { index: 2, text: "c" },
    ])
    expect(todos(minimal())).toEqual([])
  })
})

describe("front matter edits", () => {
  it("set known keys, checking them", () => {
    let doc = minimal()
    doc = ok(setFrontMatter(doc, "qa", "none"))
    doc = ok(setFrontMatter(doc, "depends_on", ["1_story_a", "2_bug_b"]))
    doc = ok(setFrontMatter(doc, "agent", " coder-2 "))
    doc = ok(setFrontMatter(doc, "retries", 0))
    doc = ok(setFrontMatter(doc, "name", "Renamed"))
    expect(doc.frontMatter).toStrictEqual({
      name: "Renamed",
      agent: "coder-2",
      dependsOn: [id("1_story_a"), id("2_bug_b")],
      qa: "none",
      retries: 0,
      extra: {},
    })
    expect(renderStoryDoc(doc)).toMatch(
      /^---\nname: Renamed\nagent: coder-2\ndepends_on: \[1_story_a, 2_bug_b\]\nqa: none\nretries: 0\n---\n\n# Renamed\n/,
    )
  })

  it("reject bad values for known keys with the accepted values", () => {
    const doc = minimal()
    expect(errMessage(setFrontMatter(doc, "qa", "sometimes"))).toBe(
      'front matter key qa: expected one of agent, human, none; got "sometimes"',
    )
    expect(errMessage(setFrontMatter(doc, "name", null))).toContain(
      "front matter key name: every work item needs a name",
    )
    expect(errMessage(setFrontMatter(doc, "name", "two\nlines"))).toContain(
      "front matter key name: expected the item's name as one line",
    )
    expect(errMessage(setFrontMatter(doc, "depends_on", ["login"]))).toContain('"login" is not an item id')
    expect(errMessage(setFrontMatter(doc, "retries", "3"))).toContain('got "3"')
    expect(errMessage(setFrontMatter(doc, "cost", Number.NaN))).toBe(
      "front matter key cost: NaN is not a JSON number; use a finite number or quote it as text",
    )
    expect(errMessage(setFrontMatter(doc, "when", new Date(0)))).toContain("a date is not a JSON value")
    expect(errMessage(setFrontMatter(doc, "fn", () => 1))).toContain("function is not a JSON value")
  })

  it("null removes a key; extra keys keep their position when changed", () => {
    let doc = ok(newStoryDoc({ name: "x", agent: "a", qa: "human", retries: 2, dependsOn: ["1_story_a"] }))
    doc = ok(setFrontMatterKeys(doc, { agent: null, qa: null, retries: null, depends_on: null }))
    expect(doc.frontMatter).toStrictEqual({ name: "x", dependsOn: [], extra: {} })
    doc = ok(setFrontMatterKeys(doc, { a: 1, b: { nested: [true, null] }, c: "three" }))
    doc = ok(setFrontMatter(doc, "a", [1, 2]))
    expect(Object.entries(doc.frontMatter.extra)).toStrictEqual([
      ["a", [1, 2]],
      ["b", { nested: [true, null] }],
      ["c", "three"],
    ])
    doc = ok(setFrontMatter(doc, "b", null))
    expect(doc.frontMatter.extra).toStrictEqual({ a: [1, 2], c: "three" })
    expect(ok(parseStoryDoc(renderStoryDoc(doc)))).toStrictEqual(doc)
  })

  it("setFrontMatterKeys is all or nothing", () => {
    const doc = minimal()
    expect(errMessage(setFrontMatterKeys(doc, { priority: 1, qa: "maybe" }))).toContain("front matter key qa")
    expect(doc.frontMatter.extra).toStrictEqual({})
  })
})

describe("newStoryDoc", () => {
  it("builds a canonical doc from parts", () => {
    const doc = ok(
      newStoryDoc({
        name: " Add login ",
        userStory: "As a user I want to log in.",
        description: "See ### below",
        criteria: ["can log in", "  shows errors "],
        dependsOn: ["3_story_users_table"],
        agent: "coder-1",
        qa: "agent",
        extra: { priority: 2, tags: ["a"], skipped: undefined },
      }),
    )
    expect(renderStoryDoc(doc)).toBe(
      [
        "---",
        "name: Add login",
        "agent: coder-1",
        "depends_on: [3_story_users_table]",
        "qa: agent",
        "priority: 2",
        "tags:",
        "  - a",
        "---",
        "",
        "# Add login",
        "",
        "## User Story",
        "",
        "As a user I want to log in.",
        "",
        "## Description",
        "",
        "See ### below",
        "",
        "## Acceptance Criteria",
        "",
        "- [ ] can log in",
        "- [ ] shows errors",
        "",
      ].join("\n"),
    )
    expect(ok(validateStoryDoc(doc))).toBe(doc)
  })

  it("reports the first invalid part", () => {
    expect(errMessage(newStoryDoc({ name: "" }))).toContain("front matter key name: expected the item's name")
    expect(errMessage(newStoryDoc({ name: "x", dependsOn: ["nope"] }))).toContain('"nope" is not an item id')
    expect(errMessage(newStoryDoc({ name: "x", criteria: ["ok", ""] }))).toBe(
      "criterion: its text is empty; say what must be true",
    )
    expect(errMessage(newStoryDoc({ name: "x", extra: { qa: "sometimes" } }))).toContain(
      "front matter key qa",
    )
  })
})

type Edit = (doc: StoryDoc) => Either.Either<StoryDoc, { readonly _tag: string; readonly message: string }>

const refArb = fc.oneof(
  fc.integer({ min: -1, max: 6 }),
  criterionArb.map((c) => c.text),
)
const rawTextArb = fc
  .tuple(
    blockArb,
    fc.constantFrom("", "\n\n", "\r\n  \r\n"),
    fc.constantFrom("", "  \n", "\r\n\r\n"),
    fc.boolean(),
  )
  .map(([text, before, after, crlf]) => `${before}${crlf ? text.replace(/\n/g, "\r\n") : text}${after}`)
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  rawTextArb.map(
    (text): Edit =>
      (doc) =>
        setUserStory(doc, text),
  ),
  rawTextArb.map(
    (text): Edit =>
      (doc) =>
        setDescription(doc, text),
  ),
  fc
    .oneof(
      rawLineArb,
      criterionArb.map((c) => ` ${c.text} `),
    )
    .map(
      (text): Edit =>
        (doc) =>
          addCriterion(doc, text),
    ),
  refArb.map(
    (ref): Edit =>
      (doc) =>
        removeCriterion(doc, ref),
  ),
  fc.tuple(refArb, criterionArb).map(
    ([ref, c]): Edit =>
      (doc) =>
        rewordCriterion(doc, ref, c.text),
  ),
  fc.tuple(refArb, fc.boolean()).map(
    ([ref, checked]): Edit =>
      (doc) =>
        setCriterionChecked(doc, ref, checked),
  ),
  fc
    .tuple(
      fc.oneof(extraKeyArb, fc.constantFrom("name", "agent", "depends_on", "qa", "retries")),
      fc.oneof(jsonArb, nameArb),
    )
    .map(
      ([key, value]): Edit =>
        (doc) =>
          setFrontMatter(doc, key, value),
    ),
)

describe("edits keep a doc valid", () => {
  it("any sequence of edits (accepted or refused) leaves a doc that round-trips", () => {
    fc.assert(
      fc.property(storyDocArb, fc.array(editArb, { maxLength: 8 }), (start, edits) => {
        let doc = start
        for (const edit of edits) {
          const result = edit(doc)
          if (Either.isLeft(result)) {
            expect(["StoryDocError", "CriterionNotFound"]).toContain(result.left._tag)
            expect(result.left.message).toMatch(/^(front matter|criterion|user story|description)/)
          } else {
            doc = result.right
          }
          expect(ok(validateStoryDoc(doc))).toBe(doc)
          expectSameDoc(ok(parseStoryDoc(renderStoryDoc(doc))), doc)
        }
      }),
      { numRuns: 100 },
    )
  })
})
