// src/domain/shellWords.ts — a POSIX shell command line split into simple commands and their words, the
// way sh would (quotes, escapes, operators, redirections, comments, `VAR=x` prefixes, here-documents, and
// the commands inside $(...) and backticks). What it cannot follow (eval, $((...)), <(...), case...) is
// "unparsable", never a guess. Tokens come from shellLexer.ts. Pure; bashCommand uses it.
import type { HereDocument } from "./shellHeredoc.js"
import { fail, inputs, lex, type Token, Unparsable } from "./shellLexer.js"

export type { HereDocument } from "./shellHeredoc.js"

export interface ShellWord {
  /** The word after quote removal; `$NAME`, `$(...)` and glob characters are kept as written. */
  readonly text: string
  /** False when the shell would expand part of it (a variable, a substitution, a glob, braces): its value is not known here. */
  readonly literal: boolean
  /** Set when a command substitution gives part of it: only running that command tells its value. */
  readonly dynamic?: true
  /** Set when an expansion outside double quotes (a variable, a substitution, a glob, braces) may make several words of it, or none. */
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
      for (const substitution of token.inner) commands.push(...parseTokens(substitution))
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
