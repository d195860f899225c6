// src/domain/shellLexer.ts — a shell command line read into tokens the way sh reads it: words with their
// quotes removed (and whether the shell would expand them), operators, redirections, here-documents, and
// the tokens of each $(...) and backtick substitution. Pure; shellWords.ts parses the tokens.
import {
  type HereDocument,
  type PendingHereDocument,
  pendingHereDocument,
  readHereDocument,
} from "./shellHeredoc.js"
import type { ShellWord } from "./shellWords.js"

export class Unparsable {
  constructor(readonly reason: string) {}
}
export const fail = (reason: string): never => {
  throw new Unparsable(reason)
}

export type Token =
  | {
      readonly kind: "word"
      readonly word: ShellWord
      readonly raw: string
      /** The tokens of each substitution in it: commands that run before the one it belongs to. */
      readonly inner: ReadonlyArray<ReadonlyArray<Token>>
    }
  | { readonly kind: "control"; readonly op: string }
  | { readonly kind: "redirect"; readonly op: string; readonly fd: string | undefined }
  | { readonly kind: "heredoc"; readonly fd: string | undefined; readonly document: HereDocument }

// Longest first, so `&&` is not read as `&` `&`.
const operators = [
  "&>>",
  "<<<",
  "<<-",
  "&&",
  "||",
  ";;",
  ";&",
  "|&",
  "((",
  "<<",
  ">>",
  ">|",
  "<>",
  "<&",
  ">&",
  "&>",
  "<(",
  ">(",
  ";",
  "&",
  "|",
  "(",
  ")",
  "<",
  ">",
]
const refused: Readonly<Record<string, string>> = {
  ";;": "a case statement",
  ";&": "a case statement",
  "((": "an arithmetic command",
  "<(": "process substitution",
  ">(": "process substitution",
}
const redirections = new Set(["<", ">", ">>", ">|", "<>", "<&", ">&", "&>", "&>>", "<<<"])
/** Redirections that give a command's standard input when no descriptor is named. */
export const inputs = new Set(["<", "<>", "<&", "<<<"])
const wordEnd = new Set([" ", "\t", "\n", ";", "&", "|", "(", ")", "<", ">"])

/** How deep `$(...)` may nest in `$(...)`. */
const maxNesting = 16

interface Dollar {
  readonly text: string
  readonly next: number
  readonly expansion: boolean
  readonly inner?: ReadonlyArray<Token>
}

/** `$...` at `i`: a parameter expansion or a command substitution, kept as written, or a plain `$`. */
const readDollar = (src: string, i: number, inDoubleQuotes: boolean, nesting: number): Dollar => {
  const d = src[i + 1] ?? ""
  // Arithmetic evaluates variables' values as expressions, and `a[$(cmd)]` in one runs cmd.
  if (d === "(" && src[i + 2] === "(") return fail("arithmetic expansion $((...))")
  if (d === "[") return fail("arithmetic expansion $[...]")
  if (d === "(") {
    const lexed = lex(src, i + 2, nesting + 1)
    return {
      text: src.slice(i, lexed.next),
      next: lexed.next,
      expansion: true,
      inner: lexed.tokens,
    }
  }
  if (!inDoubleQuotes && (d === "'" || d === '"')) return fail(`${d === "'" ? "$'...'" : '$"..."'} quoting`)
  if (d === "{") {
    const end = src.indexOf("}", i + 2)
    if (end < 0) return fail("an unclosed ${")
    if (/[$`'"\\{]/.test(src.slice(i + 2, end))) return fail("a ${...} expansion with quotes or nesting")
    return { text: src.slice(i, end + 1), next: end + 1, expansion: true }
  }
  const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i + 1))
  if (name !== null) return { text: `$${name[0]}`, next: i + 1 + name[0].length, expansion: true }
  if (/^[0-9@*#?$!-]$/.test(d)) return { text: `$${d}`, next: i + 2, expansion: true }
  return { text: "$", next: i + 1, expansion: false }
}

/** Commands inside backticks; a backslash there has rules of its own, so it is refused (`$(...)` has none). */
const readBackticks = (src: string, i: number, nesting: number): Dollar => {
  const end = src.indexOf("`", i + 1)
  if (end < 0) return fail("an unclosed backtick")
  const body = src.slice(i + 1, end)
  if (body.includes("\\")) return fail("a backslash inside backticks (write $(...) instead)")
  const lexed = lex(body, 0, nesting + 1, true)
  return { text: src.slice(i, end + 1), next: end + 1, expansion: true, inner: lexed.tokens }
}

interface Word {
  readonly word: ShellWord
  readonly raw: string
  readonly next: number
  readonly inner: ReadonlyArray<ReadonlyArray<Token>>
}

/** The word starting at `i`, read up to the first unquoted blank or operator. */
const readWord = (src: string, start: number, nesting: number): Word => {
  let i = start
  let text = ""
  let literal = true
  let dynamic = false
  let splits = false
  let bracket = false
  let brace = false
  let braceAt = 0
  const inner: Array<ReadonlyArray<Token>> = []
  const expand = (dollar: Dollar, inDoubleQuotes: boolean) => {
    text += dollar.text
    if (dollar.expansion) {
      literal = false
      if (!inDoubleQuotes) splits = true
    }
    if (dollar.inner !== undefined) {
      dynamic = true
      inner.push(dollar.inner)
    }
    i = dollar.next
  }
  while (i < src.length && !wordEnd.has(src[i] ?? "")) {
    const ch = src[i] ?? ""
    if (ch === "\\") {
      if (i + 1 >= src.length) return fail("a backslash at the very end")
      if (src[i + 1] !== "\n") text += src[i + 1]
      i += 2
    } else if (ch === "'") {
      const end = src.indexOf("'", i + 1)
      if (end < 0) return fail("an unbalanced single quote")
      text += src.slice(i + 1, end)
      i = end + 1
    } else if (ch === '"') {
      i++
      for (;;) {
        if (i >= src.length) return fail("an unbalanced double quote")
        const q = src[i] ?? ""
        if (q === '"') {
          i++
          break
        }
        if (q === "\\") {
          const next = src[i + 1] ?? ""
          if (next === "\n") i += 2
          else if ('$`"\\'.includes(next) && next !== "") {
            text += next
            i += 2
          } else {
            text += "\\"
            i++
          }
        } else if (q === "`") expand(readBackticks(src, i, nesting), true)
        else if (q === "$") expand(readDollar(src, i, true, nesting), true)
        else {
          text += q
          i++
        }
      }
    } else if (ch === "`") expand(readBackticks(src, i, nesting), false)
    else if (ch === "$") expand(readDollar(src, i, false, nesting), false)
    else {
      if (ch === "[") bracket = true
      if (ch === "{" && !brace) braceAt = text.length
      if (ch === "{") brace = true
      if (ch === "}" && brace) literal = false
      // Globs and braces make as many words as there are matching files or alternatives (`{}` is none).
      const alternatives = ch === "}" && brace && /,|\.\./.test(text.slice(braceAt))
      if (ch === "*" || ch === "?" || (ch === "]" && bracket) || alternatives) {
        literal = false
        splits = true
      }
      text += ch
      i++
    }
  }
  const word: ShellWord = {
    text,
    literal,
    ...(dynamic ? { dynamic: true as const } : {}),
    ...(splits ? { splits: true as const } : {}),
  }
  return { word, raw: src.slice(start, i), next: i, inner }
}

interface Lexed {
  readonly tokens: ReadonlyArray<Token>
  /** Where reading stopped: after the `)` that closed a substitution, or the end. */
  readonly next: number
}

/**
 * The tokens of `src` from `start`. Inside `$(` (nesting > 0, not `whole`) reading stops at the `)` that
 * closes it; here-document bodies are read at the end of the line that started them.
 */
export const lex = (src: string, start: number, nesting: number, whole = nesting === 0): Lexed => {
  if (nesting > maxNesting) return fail("command substitutions nested too deeply")
  const tokens: Array<Token> = []
  const pending: Array<{ readonly doc: PendingHereDocument; readonly at: number; readonly fd?: string }> = []
  let parens = 0
  let fd: string | undefined
  let i = start
  while (i < src.length) {
    const c = src[i] ?? ""
    if (c === " " || c === "\t") {
      i++
      continue
    }
    if (c === "\\" && src[i + 1] === "\n") {
      i += 2
      continue
    }
    if (c === "\n") {
      tokens.push({ kind: "control", op: "\n" })
      i++
      for (const { doc, at, fd: docFd } of pending.splice(0)) {
        const read = readHereDocument(src, i, doc, fail)
        tokens[at] = { kind: "heredoc", fd: docFd, document: read.document }
        i = read.next
      }
      continue
    }
    if (c === "#") {
      while (i < src.length && src[i] !== "\n") i++
      continue
    }
    const op = operators.find((o) => src.startsWith(o, i))
    if (op !== undefined) {
      const why = refused[op]
      if (why !== undefined) return fail(why)
      i += op.length
      if (op === ")" && !whole && parens === 0) {
        if (pending.length > 0) return fail("a here-document that does not end before its $(...) does")
        return { tokens, next: i }
      }
      if (op === "(") parens++
      if (op === ")") parens--
      if (op === "<<" || op === "<<-") {
        while (src[i] === " " || src[i] === "\t") i++
        const delimiter = readWord(src, i, nesting)
        pending.push({
          doc: pendingHereDocument(op, delimiter.raw, delimiter.word.text, fail),
          at: tokens.length,
          ...(fd === undefined ? {} : { fd }),
        })
        // A placeholder until the body is read, at the end of this line.
        tokens.push({ kind: "heredoc", fd, document: { body: "", literal: true } })
        i = delimiter.next
      } else tokens.push(redirections.has(op) ? { kind: "redirect", op, fd } : { kind: "control", op })
      fd = undefined
      continue
    }
    const read = readWord(src, i, nesting)
    // A body starts after the line's end; a word that runs over lines would move it.
    if (pending.length > 0 && read.raw.includes("\n"))
      return fail("a here-document on a line that goes on over several lines")
    i = read.next
    // `2>file`: the digits name a file descriptor, they are not a word.
    if (/^[0-9]+$/.test(read.raw) && (src[i] === "<" || src[i] === ">")) {
      fd = read.raw
      continue
    }
    fd = undefined
    tokens.push({ kind: "word", word: read.word, raw: read.raw, inner: read.inner })
  }
  if (!whole) return fail("an unclosed $(")
  if (pending[0] !== undefined)
    return fail(`a here-document without its end line ${pending[0].doc.delimiter}`)
  return { tokens, next: i }
}
