// src/domain/shellWords.ts — a POSIX shell command line split into simple commands and their words, the
// way sh would (quotes, escapes, operators, redirections, comments, `VAR=x` prefixes). What it cannot
// follow ($(...), backticks, here-documents, eval...) is "unparsable", never a guess. Pure; bashCommand uses it.

export interface ShellWord {
  /** The word after quote removal; `$NAME` and glob characters are kept as written. */
  readonly text: string
  /** False when the shell would expand part of it (a variable, a glob, braces): its value is not known here. */
  readonly literal: boolean
}

export interface SimpleCommand {
  /** `NAME=value` words before the command: variables for this command only. */
  readonly assignments: ReadonlyArray<ShellWord>
  /** The command and its arguments, without redirections. */
  readonly words: ReadonlyArray<ShellWord>
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
  | { readonly kind: "word"; readonly word: ShellWord; readonly raw: string }
  | { readonly kind: "control"; readonly op: string }
  | { readonly kind: "redirect"; readonly op: string }

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
  "<<": "a here-document",
  "<<-": "a here-document",
  ";;": "a case statement",
  ";&": "a case statement",
  "((": "an arithmetic command",
  "<(": "process substitution",
  ">(": "process substitution",
}
const redirections = new Set(["<", ">", ">>", ">|", "<>", "<&", ">&", "&>", "&>>", "<<<"])
const wordEnd = new Set([" ", "\t", "\n", ";", "&", "|", "(", ")", "<", ">"])

interface Dollar {
  readonly text: string
  readonly next: number
  readonly expansion: boolean
}

/** `$...` at `i`: a parameter expansion kept as written, or a plain `$`; substitutions are refused. */
const readDollar = (src: string, i: number, inDoubleQuotes: boolean): Dollar => {
  const d = src[i + 1] ?? ""
  if (d === "(") return fail("command substitution $(...)")
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

const lex = (src: string): ReadonlyArray<Token> => {
  const tokens: Array<Token> = []
  let i = 0
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
      tokens.push(redirections.has(op) ? { kind: "redirect", op } : { kind: "control", op })
      i += op.length
      continue
    }
    const start = i
    let text = ""
    let literal = true
    let quoted = false
    let bracket = false
    let brace = false
    while (i < src.length && !wordEnd.has(src[i] ?? "")) {
      const ch = src[i] ?? ""
      if (ch === "\\") {
        if (i + 1 >= src.length) return fail("a backslash at the very end")
        if (src[i + 1] !== "\n") text += src[i + 1]
        quoted = true
        i += 2
      } else if (ch === "'") {
        const end = src.indexOf("'", i + 1)
        if (end < 0) return fail("an unbalanced single quote")
        text += src.slice(i + 1, end)
        quoted = true
        i = end + 1
      } else if (ch === '"') {
        quoted = true
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
          } else if (q === "`") {
            return fail("command substitution with backticks")
          } else if (q === "$") {
            const dollar = readDollar(src, i, true)
            text += dollar.text
            if (dollar.expansion) literal = false
            i = dollar.next
          } else {
            text += q
            i++
          }
        }
      } else if (ch === "`") {
        return fail("command substitution with backticks")
      } else if (ch === "$") {
        const dollar = readDollar(src, i, false)
        text += dollar.text
        if (dollar.expansion) literal = false
        i = dollar.next
      } else {
        if (ch === "*" || ch === "?") literal = false
        if (ch === "[") bracket = true
        if (ch === "]" && bracket) literal = false
        if (ch === "{") brace = true
        if (ch === "}" && brace) literal = false
        text += ch
        i++
      }
    }
    const raw = src.slice(start, i)
    // `2>file`: the digits name a file descriptor, they are not a word.
    if (!quoted && /^[0-9]+$/.test(raw) && (src[i] === "<" || src[i] === ">")) continue
    tokens.push({ kind: "word", word: { text, literal }, raw })
  }
  return tokens
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
  let depth = 0
  let redirect: string | undefined
  // After `for NAME in ...` the words up to the separator are the loop's list, not a command.
  let skippingLoopList = false
  const flush = () => {
    if (words.length > 0 || assignments.length > 0) commands.push({ assignments, words })
    assignments = []
    words = []
  }
  for (const token of tokens) {
    if (token.kind === "redirect") {
      if (redirect !== undefined) return fail(`a ${redirect} redirection without a target`)
      redirect = token.op
      continue
    }
    if (token.kind === "word") {
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
    return { _tag: "Parsed", commands: parseTokens(lex(source)) }
  } catch (error) {
    if (error instanceof Unparsable) return { _tag: "Unparsable", reason: error.reason }
    throw error
  }
}

/** `word` quoted so that the shell reads it back as exactly this one word. */
export const quoteWord = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`
