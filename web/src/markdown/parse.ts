// web/src/markdown/parse.ts — a small markdown reader for item text: headings, paragraphs, lists and
// task lists, fenced code, block quotes, rules, inline code, bold/italic and http(s) links. Pure: it
// returns a tree that render.tsx turns into React elements, so no HTML from the text ever reaches the DOM.

export type Inline =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "code"; readonly text: string }
  | { readonly type: "strong"; readonly children: ReadonlyArray<Inline> }
  | { readonly type: "em"; readonly children: ReadonlyArray<Inline> }
  | { readonly type: "link"; readonly href: string; readonly children: ReadonlyArray<Inline> }
  | { readonly type: "break" }

export interface ListItem {
  /** `- [ ]` is false, `- [x]` is true; undefined for a plain item. */
  readonly checked: boolean | undefined
  readonly blocks: ReadonlyArray<Block>
}

export type Block =
  | { readonly type: "heading"; readonly level: number; readonly children: ReadonlyArray<Inline> }
  | { readonly type: "paragraph"; readonly children: ReadonlyArray<Inline> }
  | {
      readonly type: "list"
      readonly ordered: boolean
      readonly start: number
      readonly items: ReadonlyArray<ListItem>
    }
  | { readonly type: "code"; readonly lang: string; readonly text: string }
  | { readonly type: "quote"; readonly blocks: ReadonlyArray<Block> }
  | { readonly type: "rule" }

const heading = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/
const fence = /^( {0,3})(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$/
const rule = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/
const listMarker = /^( *)([-*+]|(\d{1,9})[.)])(?:[ \t]+(.*))?$/
const quote = /^ {0,3}> ?(.*)$/
const task = /^\[([ xX])\](?:[ \t]+(.*))?$/

const isBlank = (line: string): boolean => line.trim() === ""

/** The blocks of a markdown text (front matter, if any, is the caller's to remove first). */
export const parseMarkdown = (text: string): ReadonlyArray<Block> =>
  parseBlocks(text.replace(/\r\n?/g, "\n").replace(/\t/g, "    ").split("\n"))

const startsBlock = (line: string): boolean =>
  heading.test(line) || fence.test(line) || rule.test(line) || quote.test(line) || listMarker.test(line)

const parseBlocks = (lines: ReadonlyArray<string>): Array<Block> => {
  const blocks: Array<Block> = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i] ?? ""
    if (isBlank(line)) {
      i++
      continue
    }
    const f = fence.exec(line)
    if (f !== null) {
      const indent = (f[1] ?? "").length
      const marker = f[2] ?? "```"
      const body: Array<string> = []
      i++
      while (i < lines.length) {
        const l = lines[i] ?? ""
        const trimmed = l.trim()
        if (trimmed.startsWith(marker[0]!.repeat(marker.length)) && /^(`+|~+)$/.test(trimmed)) break
        body.push(l.slice(Math.min(indent, l.length - l.trimStart().length)))
        i++
      }
      i++ // the closing fence (or the end of the text)
      blocks.push({ type: "code", lang: f[3] ?? "", text: body.join("\n") })
      continue
    }
    const h = heading.exec(line)
    if (h !== null) {
      blocks.push({ type: "heading", level: (h[1] ?? "#").length, children: parseInline(h[2] ?? "") })
      i++
      continue
    }
    if (rule.test(line)) {
      blocks.push({ type: "rule" })
      i++
      continue
    }
    if (quote.test(line)) {
      const body: Array<string> = []
      while (i < lines.length) {
        const q = quote.exec(lines[i] ?? "")
        if (q === null) break
        body.push(q[1] ?? "")
        i++
      }
      blocks.push({ type: "quote", blocks: parseBlocks(body) })
      continue
    }
    if (listMarker.test(line)) {
      const [list, next] = parseList(lines, i)
      blocks.push(list)
      i = next
      continue
    }
    const para: Array<string> = []
    while (
      i < lines.length &&
      !isBlank(lines[i] ?? "") &&
      (para.length === 0 || !startsBlock(lines[i] ?? ""))
    ) {
      para.push((lines[i] ?? "").trim())
      i++
    }
    blocks.push({ type: "paragraph", children: parseInline(para.join("\n")) })
  }
  return blocks
}

/** A list from line `from`: items at the first item's indent; deeper lines belong to the item above. */
const parseList = (lines: ReadonlyArray<string>, from: number): [Block, number] => {
  const first = listMarker.exec(lines[from] ?? "")!
  const indent = (first[1] ?? "").length
  const ordered = first[3] !== undefined
  const start = ordered ? Number(first[3]) : 1
  const items: Array<ListItem> = []
  let i = from
  while (i < lines.length) {
    const m = listMarker.exec(lines[i] ?? "")
    if (m === null || (m[1] ?? "").length !== indent || (m[3] !== undefined) !== ordered) break
    const contentIndent = indent + (m[2] ?? "").length + 1
    const body: Array<string> = [m[4] ?? ""]
    i++
    while (i < lines.length) {
      const l = lines[i] ?? ""
      if (isBlank(l)) {
        // A blank line continues the item only if an indented line follows it.
        const nextLine = lines[i + 1]
        if (nextLine === undefined || isBlank(nextLine) || leading(nextLine) <= indent) break
        body.push("")
        i++
        continue
      }
      const deeper = leading(l) > indent
      // A line that starts no block at the item's own level is a lazy continuation of its paragraph.
      if (!deeper && startsBlock(l)) break
      body.push(deeper ? l.slice(Math.min(contentIndent, leading(l))) : l.trim())
      i++
    }
    const t = task.exec(body[0] ?? "")
    if (t !== null) body[0] = t[2] ?? ""
    items.push({ checked: t === null ? undefined : t[1] !== " ", blocks: parseBlocks(body) })
    while (i < lines.length && isBlank(lines[i] ?? "")) {
      const nextLine = lines[i + 1]
      if (nextLine === undefined || !listMarker.test(nextLine) || leading(nextLine) !== indent) break
      i++
    }
  }
  return [{ type: "list", ordered, start, items }, i]
}

const leading = (line: string): number => line.length - line.trimStart().length

// ------------------------------------------------------------------------------------------ inline

/** Only web links leave the page: anything else (javascript:, data:, relative) stays plain text. */
export const safeHref = (url: string): string | undefined => {
  const trimmed = url.trim()
  if (!/^https?:\/\//i.test(trimmed)) return undefined
  try {
    const parsed = new URL(trimmed)
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : undefined
  } catch {
    // Not a URL at all: shown as the text it is.
    return undefined
  }
}

const punctuation = /[!-/:-@[-`{-~]/
const wordChar = /[\p{L}\p{N}]/u

/** Inline elements of a paragraph or heading; a line break inside a paragraph is kept as a space. */
export const parseInline = (text: string, inLink = false): ReadonlyArray<Inline> => {
  const out: Array<Inline> = []
  let buffer = ""
  const flush = () => {
    if (buffer !== "") out.push({ type: "text", text: buffer })
    buffer = ""
  }
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === "\\" && i + 1 < text.length) {
      const next = text[i + 1]!
      if (next === "\n") {
        flush()
        out.push({ type: "break" })
        i += 2
        continue
      }
      if (punctuation.test(next)) {
        buffer += next
        i += 2
        continue
      }
    }
    if (c === "\n") {
      buffer += " "
      i++
      continue
    }
    if (c === "`") {
      const run = /^`+/.exec(text.slice(i))![0]
      const close = findRun(text, "`", run.length, i + run.length)
      if (close !== -1) {
        flush()
        let code = text.slice(i + run.length, close).replace(/\n/g, " ")
        if (code.length > 1 && code.startsWith(" ") && code.endsWith(" ") && code.trim() !== "")
          code = code.slice(1, -1)
        out.push({ type: "code", text: code })
        i = close + run.length
        continue
      }
      buffer += run
      i += run.length
      continue
    }
    if (c === "[" && !inLink) {
      const link = readLink(text, i)
      if (link !== undefined) {
        flush()
        const children = parseInline(link.label, true)
        const href = safeHref(link.url)
        if (href === undefined) out.push(...children)
        else out.push({ type: "link", href, children })
        i = link.end
        continue
      }
    }
    if (c === "<" && !inLink) {
      const auto = /^<(https?:\/\/[^\s<>]+)>/i.exec(text.slice(i))
      const href = auto === null ? undefined : safeHref(auto[1]!)
      if (auto !== null && href !== undefined) {
        flush()
        out.push({ type: "link", href, children: [{ type: "text", text: auto[1]! }] })
        i += auto[0].length
        continue
      }
    }
    if (c === "*" || c === "_") {
      const emphasis = readEmphasis(text, i, inLink)
      if (emphasis !== undefined) {
        flush()
        out.push(emphasis.node)
        i = emphasis.end
        continue
      }
    }
    buffer += c
    i++
  }
  flush()
  return out
}

/** The index of the next run of exactly `length` `char`s at or after `from`, or -1. */
const findRun = (text: string, char: string, length: number, from: number): number => {
  let i = text.indexOf(char, from)
  while (i !== -1) {
    let j = i
    while (text[j] === char) j++
    if (j - i === length) return i
    i = text.indexOf(char, j)
  }
  return -1
}

/** `[label](url)` or `[label](url "title")` starting at `from`. */
const readLink = (
  text: string,
  from: number,
): { readonly label: string; readonly url: string; readonly end: number } | undefined => {
  let depth = 0
  let i = from
  for (; i < text.length; i++) {
    const c = text[i]
    if (c === "\\") i++
    else if (c === "[") depth++
    else if (c === "]" && --depth === 0) break
  }
  if (i >= text.length || text[i + 1] !== "(") return undefined
  const m = /^\(\s*<?([^\s()<>]*)>?(?:\s+"[^"]*")?\s*\)/.exec(text.slice(i + 1))
  if (m === null) return undefined
  return { label: text.slice(from + 1, i), url: m[1] ?? "", end: i + 1 + m[0].length }
}

const readEmphasis = (
  text: string,
  from: number,
  inLink: boolean,
): { readonly node: Inline; readonly end: number } | undefined => {
  const char = text[from]!
  const width = text[from + 1] === char ? 2 : 1
  const before = text[from - 1]
  const after = text[from + width]
  if (after === undefined || /\s/.test(after)) return undefined
  // snake_case and 12_story_x are words, not emphasis.
  if (char === "_" && before !== undefined && wordChar.test(before)) return undefined
  let j = text.indexOf(char, from + width)
  while (j !== -1) {
    let end = j
    while (text[end] === char) end++
    const run = end - j
    const prev = text[j - 1]
    const flanked = prev !== undefined && !/\s/.test(prev)
    const wordAfter = text[end] !== undefined && wordChar.test(text[end]!)
    // A single closes on an odd run (`*a*`, the last of `***`), a double on any run of two or more;
    // `*a **b** c*` therefore skips the inner pair.
    const fits = width === 1 ? run % 2 === 1 : run >= 2
    if (flanked && fits && !(char === "_" && wordAfter)) {
      const close = end - width
      if (close > from + width) {
        const inner = parseInline(text.slice(from + width, close), inLink)
        return {
          node: width === 2 ? { type: "strong", children: inner } : { type: "em", children: inner },
          end,
        }
      }
    }
    j = text.indexOf(char, end)
  }
  return undefined
}
