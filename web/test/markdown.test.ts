// web/test/markdown.test.ts — the item page's markdown reader and renderer: the blocks and inline
// elements it knows, and that nothing in an item's text becomes markup, script or a non-web link.
import { createElement } from "react"
import { renderToStaticMarkup } from "react-dom/server"
import { describe, expect, it } from "vitest"
import { parseInline, parseMarkdown, safeHref } from "../src/markdown/parse.js"
import { Markdown } from "../src/markdown/render.js"

const html = (text: string, headingOffset = 0): string =>
  renderToStaticMarkup(createElement(Markdown, { text, headingOffset }))

describe("parseMarkdown", () => {
  it("reads headings, paragraphs, rules and fenced code", () => {
    expect(
      parseMarkdown("# Title\n\nOne\nline two\n\n---\n\n```ts\nconst a = 1\n\n## not a heading\n```\n"),
    ).toEqual([
      { type: "heading", level: 1, children: [{ type: "text", text: "Title" }] },
      { type: "paragraph", children: [{ type: "text", text: "One line two" }] },
      { type: "rule" },
      { type: "code", lang: "ts", text: "const a = 1\n\n## not a heading" },
    ])
  })

  it("reads task lists, plain lists, ordered lists and nested lists", () => {
    const blocks = parseMarkdown("- [ ] open\n- [x] done\n- plain\n  - nested\n\n3. three\n4. four")
    expect(blocks).toEqual([
      {
        type: "list",
        ordered: false,
        start: 1,
        items: [
          { checked: false, blocks: [{ type: "paragraph", children: [{ type: "text", text: "open" }] }] },
          { checked: true, blocks: [{ type: "paragraph", children: [{ type: "text", text: "done" }] }] },
          {
            checked: undefined,
            blocks: [
              { type: "paragraph", children: [{ type: "text", text: "plain" }] },
              {
                type: "list",
                ordered: false,
                start: 1,
                items: [
                  {
                    checked: undefined,
                    blocks: [{ type: "paragraph", children: [{ type: "text", text: "nested" }] }],
                  },
                ],
              },
            ],
          },
        ],
      },
      {
        type: "list",
        ordered: true,
        start: 3,
        items: [
          {
            checked: undefined,
            blocks: [{ type: "paragraph", children: [{ type: "text", text: "three" }] }],
          },
          { checked: undefined, blocks: [{ type: "paragraph", children: [{ type: "text", text: "four" }] }] },
        ],
      },
    ])
  })

  it("ends a paragraph at a heading or list that follows it directly", () => {
    expect(parseMarkdown("text\n## Next\n- item").map((b) => b.type)).toEqual([
      "paragraph",
      "heading",
      "list",
    ])
  })
})

describe("parseInline", () => {
  it("reads code, bold, italic and links", () => {
    expect(parseInline("a `x*y*` **bold** *it* _also_ [site](https://example.com/a?b=1)")).toEqual([
      { type: "text", text: "a " },
      { type: "code", text: "x*y*" },
      { type: "text", text: " " },
      { type: "strong", children: [{ type: "text", text: "bold" }] },
      { type: "text", text: " " },
      { type: "em", children: [{ type: "text", text: "it" }] },
      { type: "text", text: " " },
      { type: "em", children: [{ type: "text", text: "also" }] },
      { type: "text", text: " " },
      { type: "link", href: "https://example.com/a?b=1", children: [{ type: "text", text: "site" }] },
    ])
  })

  it("keeps underscores inside words (item ids, snake_case) as text", () => {
    expect(parseInline("see 12_story_add_login and snake_case_name")).toEqual([
      { type: "text", text: "see 12_story_add_login and snake_case_name" },
    ])
  })

  it("nests emphasis: ***both***, *a **b** c*", () => {
    expect(parseInline("***both***")).toEqual([
      { type: "strong", children: [{ type: "em", children: [{ type: "text", text: "both" }] }] },
    ])
    expect(parseInline("*a **b** c*")).toEqual([
      {
        type: "em",
        children: [
          { type: "text", text: "a " },
          { type: "strong", children: [{ type: "text", text: "b" }] },
          { type: "text", text: " c" },
        ],
      },
    ])
  })

  it("leaves unmatched delimiters and escaped ones as text", () => {
    expect(parseInline("2 * 3 = 6, a ** b, \\*not\\*, `open")).toEqual([
      { type: "text", text: "2 * 3 = 6, a ** b, *not*, `open" },
    ])
  })

  it("turns a link to anything but http(s) into its text", () => {
    expect(parseInline("[x](javascript:alert%281%29) [y](data:text/html,hi) [z](/relative)")).toEqual([
      { type: "text", text: "x" },
      { type: "text", text: " " },
      { type: "text", text: "y" },
      { type: "text", text: " " },
      { type: "text", text: "z" },
    ])
    expect(safeHref(" JavaScript:alert(1)")).toBeUndefined()
    expect(safeHref("https://example.com")).toBe("https://example.com/")
  })
})

describe("Markdown", () => {
  it("renders task lists as read-only checkboxes and offsets headings", () => {
    const out = html("## Notes\n\n- [x] done\n- [ ] open", 1)
    expect(out).toContain("<h3>Notes</h3>")
    expect(out).toContain(
      '<li class="task"><input type="checkbox" disabled="" readOnly="" checked=""/> done</li>',
    )
    expect(out).toContain('<li class="task"><input type="checkbox" disabled="" readOnly=""/> open</li>')
  })

  it("never passes HTML from the text through", () => {
    const out = html('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n`<b>code</b>`')
    expect(out).not.toContain("<script")
    expect(out).not.toContain("<img")
    expect(out).toContain("&lt;script&gt;alert(1)&lt;/script&gt;")
    expect(out).toContain("<code>&lt;b&gt;code&lt;/b&gt;</code>")
  })

  it("opens web links in a new tab without handing over the page", () => {
    expect(html("[docs](https://example.com/docs)")).toBe(
      '<div class="markdown"><p><a href="https://example.com/docs" target="_blank" rel="noopener noreferrer nofollow">docs</a></p></div>',
    )
  })
})
