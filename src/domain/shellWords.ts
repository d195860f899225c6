// src/domain/shellWords.ts — a POSIX shell command line split into simple commands and their words, the
// way sh would (quotes, escapes, operators, redirections, comments, `VAR=x` prefixes, here-documents, and
// the commands inside $(...) and backticks). What it cannot follow (eval, $((...)), <(...), case...) is
// "unparsable", never a guess. Pure; bashCommand uses it.
import {
  type HereDocument,
  type PendingHereDocument,
  pendingHereDocument,
  readHereDocument,
} from "./shellHeredoc.js"

export type { HereDocument } from "./shellHeredoc.js"

export interface ShellWord {
  /** The word after quote removal; `$NAME`, `$(...)` and glob characters are kept as written. */
  readonly text: string
  /** False when the shell would expand part of it (a variable, a substitution, a glob, braces): its value is not known here. */
  readonly literal: boolean
  /** Set when a command substitution gives part of it: only running that command tells its value. */
  readonly dynamic?: true
  /** Set when an expansion outside double quotes may make several words of it, or none. */
  readonly splits?: true
}

export interface SimpleCommand {
  /** `NAME=value` words before the command: variables for this command only. */
  readonly assignments: ReadonlyArray<ShellWord>
  /** The command and its arguments, without redirections. */
  readonly words: ReadonlyArray<ShellWord>
  /** The here-document that is its standard input (absent when its input is anything else). */
  readonly stdin?: HereDocument
}

export type ShellParse =
  | { readonly _tag: "Parsed"; readonly commands: ReadonlyArray<SimpleCommand> }
  | { readonly _tag: "Unparsable"; readonly reason: string }

class Unparsable {
  constructor(readonly reason: string) {}
}
const fail = (reason: string): never => {
  throw new Unparsable(reason)
}

type Token =
  | {
      readonly kind: "word"
      readonly word: ShellWord
      readonly raw: string
      /** The commands of the substitutions in it, which run before the command it belongs to. */
      readonly inner: ReadonlyArray<SimpleCommand>
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
const inputs = new Set(["<", "<>", "<&", "<<<"])
const wordEnd = new Set([" ", "\t", "\n", ";", "&", "|", "(", ")", "<", ">"])

/** How deep `$(...)` may nest in `$(...)`. */
const maxNesting = 16

interface Dollar {
  readonly text: string
  readonly next: number
  readonly expansion: boolean
  readonly inner?: ReadonlyArray<SimpleCommand>
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
      inner: parseTokens(lexed.tokens),
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
  return { text: src.slice(i, end + 1), next: end + 1, expansion: true, inner: parseTokens(lexed.tokens) }
}

interface Word {
  readonly word: ShellWord
  readonly raw: string
  readonly next: number
  readonly inner: ReadonlyArray<SimpleCommand>
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
  const inner: Array<SimpleCommand> = []
  const expand = (dollar: Dollar, inDoubleQuotes: boolean) => {
    text += dollar.text
    if (dollar.expansion) {
      literal = false
      if (!inDoubleQuotes) splits = true
    }
    if (dollar.inner !== undefined) {
      dynamic = true
      inner.push(...dollar.inner)
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
      if (ch === "*" || ch === "?") literal = false
      if (ch === "[") bracket = true
      if (ch === "]" && bracket) literal = false
      if (ch === "{") brace = true
      if (ch === "}" && brace) literal = false
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
const lex = (src: string, start: number, nesting: number, whole = nesting === 0): Lexed => {
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

/** Words that open or close a compound command when they stand where a command would. */
const keywords = new Set(["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!"])
const refusedKeywords: Readonly<Record<string, string>> = {
  case: "a case statement",
  select: "a select loop",
  function: "a function definition",
  coproc: "a coprocess",
}

const parseTokens = (tokens: ReadonlyArray<Token>): ReadonlyArray<SimpleCommand> => {
  const commands: Array<SimpleCommand> = []
  let assignments: Array<ShellWord> = []
  let words: Array<ShellWord> = []
  // A here-document, or "other" once anything else (or a second here-document) also redirects input.
  let stdin: HereDocument | "other" | undefined
  let depth = 0
  let redirect: string | undefined
  // After `for NAME in ...` the words up to the separator are the loop's list, not a command.
  let skippingLoopList = false
  const flush = () => {
    if (words.length > 0 || assignments.length > 0)
      commands.push(
        stdin === undefined || stdin === "other" ? { assignments, words } : { assignments, words, stdin },
      )
    assignments = []
    words = []
    stdin = undefined
  }
  for (const token of tokens) {
    if (token.kind === "redirect" || token.kind === "heredoc") {
      if (redirect !== undefined) return fail(`a ${redirect} redirection without a target`)
      const input =
        token.fd === undefined ? token.kind === "heredoc" || inputs.has(token.op) : token.fd === "0"
      if (input) stdin = token.kind === "heredoc" && stdin === undefined ? token.document : "other"
      if (token.kind === "redirect") redirect = token.op
      continue
    }
    if (token.kind === "word") {
      // A substitution runs wherever its word stands, even as a redirection's target or in a loop's list.
      commands.push(...token.inner)
      if (redirect !== undefined) {
        redirect = undefined
        continue
      }
      if (skippingLoopList) continue
      if (words.length === 0) {
        const bare = token.raw === token.word.text
        if (assignments.length === 0 && bare && keywords.has(token.raw)) continue
        if (assignments.length === 0 && bare && token.raw === "for") {
          skippingLoopList = true
          continue
        }
        const why = assignments.length === 0 && bare ? refusedKeywords[token.raw] : undefined
        if (why !== undefined) return fail(why)
        if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(token.raw)) {
          assignments.push(token.word)
          continue
        }
        if (!token.word.literal)
          return fail(`the command name ${token.raw} is only known when the shell expands it`)
        if (token.word.text === "eval") return fail("eval")
        // `let` evaluates arithmetic, which can run commands held in variables.
        if (token.word.text === "let") return fail("let (arithmetic)")
      }
      words.push(token.word)
      continue
    }
    if (redirect !== undefined) return fail(`a ${redirect} redirection without a target`)
    if (token.op === "(") {
      if (words.length > 0 || assignments.length > 0) return fail("a function definition or an array")
      depth++
      continue
    }
    if (token.op === ")") {
      if (depth === 0) return fail("an unbalanced )")
      depth--
    }
    skippingLoopList = false
    flush()
  }
  if (redirect !== undefined) return fail(`a ${redirect} redirection without a target`)
  if (depth > 0) return fail("an unbalanced (")
  if (skippingLoopList) return fail("a for loop without a body")
  flush()
  return commands
}

/** The simple commands of a shell command line, in order, or why they cannot be known without running it. */
export const parseShell = (source: string): ShellParse => {
  try {
    return { _tag: "Parsed", commands: parseTokens(lex(source, 0, 0).tokens) }
  } catch (error) {
    if (error instanceof Unparsable) return { _tag: "Unparsable", reason: error.reason }
    throw error
  }
}

/** `word` quoted so that the shell reads it back as exactly this one word. */
export const quoteWord = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`
