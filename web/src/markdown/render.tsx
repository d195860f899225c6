// web/src/markdown/render.tsx — turns parse.ts's tree into React elements. Text is only ever a text
// node (React escapes it) and links are http(s) only, so an item's text cannot inject markup or script.
import type { ReactNode } from "react"
import { type Block, type Inline, parseInline, parseMarkdown } from "./parse.js"

const headingTags = ["h1", "h2", "h3", "h4", "h5", "h6"] as const

const inlines = (nodes: ReadonlyArray<Inline>): Array<ReactNode> =>
  nodes.map((node, i) => {
    switch (node.type) {
      case "text":
        return node.text
      case "code":
        return <code key={i}>{node.text}</code>
      case "strong":
        return <strong key={i}>{inlines(node.children)}</strong>
      case "em":
        return <em key={i}>{inlines(node.children)}</em>
      case "link":
        return (
          <a key={i} href={node.href} target="_blank" rel="noopener noreferrer nofollow">
            {inlines(node.children)}
          </a>
        )
      case "break":
        return <br key={i} />
    }
  })

/** A list item's single paragraph is shown inline (a tight list), as people write checklists. */
const itemBody = (blocks: ReadonlyArray<Block>, offset: number): ReactNode => {
  const [first, ...rest] = blocks
  if (first?.type === "paragraph") return [...inlines(first.children), ...blocksOf(rest, offset)]
  return blocksOf(blocks, offset)
}

const block = (node: Block, key: number, offset: number): ReactNode => {
  switch (node.type) {
    case "heading": {
      const Tag = headingTags[Math.min(node.level + offset, 6) - 1] ?? "h6"
      return <Tag key={key}>{inlines(node.children)}</Tag>
    }
    case "paragraph":
      return <p key={key}>{inlines(node.children)}</p>
    case "code":
      return (
        <pre key={key} className="md-code" data-lang={node.lang === "" ? undefined : node.lang}>
          <code>{node.text}</code>
        </pre>
      )
    case "quote":
      return <blockquote key={key}>{blocksOf(node.blocks, offset)}</blockquote>
    case "rule":
      return <hr key={key} />
    case "list": {
      const items = node.items.map((item, i) =>
        item.checked === undefined ? (
          <li key={i}>{itemBody(item.blocks, offset)}</li>
        ) : (
          <li key={i} className="task">
            <input type="checkbox" checked={item.checked} disabled readOnly /> {itemBody(item.blocks, offset)}
          </li>
        ),
      )
      return node.ordered ? (
        <ol key={key} start={node.start === 1 ? undefined : node.start}>
          {items}
        </ol>
      ) : (
        <ul key={key}>{items}</ul>
      )
    }
  }
}

const blocksOf = (nodes: ReadonlyArray<Block>, offset: number): Array<ReactNode> =>
  nodes.map((node, i) => block(node, i, offset))

/** React elements for a markdown text; `headingOffset` 1 renders `#` as h2 (under the page's h1). */
export const renderMarkdown = (text: string, headingOffset = 0): Array<ReactNode> =>
  blocksOf(parseMarkdown(text), headingOffset)

export const Markdown = ({
  text,
  headingOffset = 0,
}: {
  readonly text: string
  readonly headingOffset?: number
}) => <div className="markdown">{renderMarkdown(text, headingOffset)}</div>

/** React elements for one line of inline markdown (a criterion, a title). */
export const renderInline = (text: string): Array<ReactNode> => inlines(parseInline(text))
