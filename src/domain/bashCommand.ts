// src/domain/bashCommand.ts — what a Bash command line would run: each simple command (those in $(...)
// too) with its wrappers unwrapped (env, nohup, timeout, sudo, xargs, sh -c '...', sh <<EOF, /usr/bin/...)
// and git's global options and command-line aliases normalised, as texts the [permissions] rules match.
// A word only running the line would tell may be an argument, never what decides the program. Pure.
import { commandLineAlias, gitCommands, parseGitArgv, pushCommands } from "./gitArgv.js"
import {
  fail,
  noSplitting,
  readsFromInput,
  runsCommandFor,
  shellCommand,
  shells,
  skipOptions,
  Unparsable,
  unknownWord,
  unwrapEnv,
  wrappers,
} from "./bashWrappers.js"
import { type HereDocument, parseShell, quoteWord, type ShellWord } from "./shellWords.js"

/** One program the command line runs, as texts a rule may match: as written, then each unwrapped form. */
export interface RunCommand {
  readonly texts: ReadonlyArray<string>
}

export type BashAnalysis =
  | {
      readonly _tag: "Commands"
      readonly commands: ReadonlyArray<RunCommand>
      /** Shells and string-taking wrappers that ran the commands (`sh -c '...'`), as written. */
      readonly wrappers: ReadonlyArray<string>
    }
  | { readonly _tag: "Unparsable"; readonly reason: string }

const maxDepth = 8
const textOf = (words: ReadonlyArray<ShellWord>) => words.map((w) => w.text).join(" ")
const baseName = (program: string) => program.slice(program.lastIndexOf("/") + 1)

interface Collector {
  readonly commands: Array<RunCommand>
  readonly wrappers: Array<string>
}

const analyseLine = (line: string, depth: number, out: Collector): void => {
  if (depth > maxDepth) fail("commands nested too deeply")
  const parsed = parseShell(line)
  if (parsed._tag === "Unparsable") fail(parsed.reason)
  else
    for (const command of parsed.commands) {
      const texts = command.assignments.length > 0 ? [textOf([...command.assignments, ...command.words])] : []
      // `x=$(cmd)` alone only sets a variable; `GIT_PAGER=$(cmd) git log` would run what cmd prints.
      const dynamic = command.assignments.find((a) => a.dynamic === true)
      if (dynamic !== undefined && command.words.length > 0) runsCommandFor(dynamic)
      analyseWords(command.words, texts, depth, out, false, command.stdin)
    }
}

/** A string a wrapper runs as shell code: it must be known, and its commands are analysed in turn. */
const analyseScript = (script: ShellWord, written: string, depth: number, out: Collector): void => {
  if (!script.literal) fail(`${written} runs a string that is only known when the shell expands it`)
  out.wrappers.push(written)
  analyseLine(script.text, depth + 1, out)
}

/**
 * Adds what `words` runs to `out`. `outer` holds the texts of the wrappers around it; `openArgs` means more
 * arguments follow that are not known here (xargs appends its input); `stdin` is the here-document it reads.
 */
const analyseWords = (
  words: ReadonlyArray<ShellWord>,
  outer: ReadonlyArray<string>,
  depth: number,
  out: Collector,
  openArgs: boolean,
  stdin?: HereDocument,
): void => {
  if (depth > maxDepth) fail("commands nested too deeply")
  const [program] = words
  if (program === undefined) return
  if (!program.literal) unknownWord(program, "the command name")
  const name = baseName(program.text)
  const normalised = [{ text: name, literal: true }, ...words.slice(1)]
  const texts = [...new Set([...outer, textOf(words), textOf(normalised)])]
  // Wrappers pass their input on to the command they run (xargs and find do not: their own input, /dev/null).
  const inner = (rest: ReadonlyArray<ShellWord>, open = openArgs, input = stdin) => {
    if (rest.length === 0) out.commands.push({ texts })
    else analyseWords(rest, texts, depth + 1, out, open, input)
  }
  /** A shell reading its commands from its input: a known here-document is analysed as its script. */
  const readsInput = (): void => {
    // Like `sh -c '...'`: the commands it runs are what an allow rule must cover; deny rules see it too.
    out.wrappers.push(...texts)
    if (stdin === undefined) fail("a shell reading commands from its input")
    else analyseScript({ text: stdin.body, literal: stdin.literal }, `${textOf(normalised)} <<`, depth, out)
  }
  if (name === "eval") fail("eval")
  if (name === "let") fail("let (arithmetic)")
  // `. FILE` runs FILE in this shell: like `sh FILE`, unless FILE is the input (a here-document, a pipe).
  if (name === "." || name === "source") {
    const file = words[1]
    if (file !== undefined && readsFromInput(file)) return readsInput()
  }
  if (name === "env") return inner(unwrapEnv(words))
  if (name === "command" && words.some((w, i) => i > 0 && (w.text === "-v" || w.text === "-V"))) {
    out.commands.push({ texts })
    return
  }
  const wrapper = wrappers[name]
  if (wrapper !== undefined) {
    const { start, replace } = skipOptions(name, wrapper, words)
    const rest = words.slice(start)
    if (name === "xargs") {
      if (replace !== undefined && rest.some((w) => w.text.includes(replace)))
        fail("xargs -I puts its input into the command, which is not known here")
      return inner(rest.length === 0 ? [{ text: "echo", literal: true }] : rest, true, undefined)
    }
    // `sudo -s` / `sudo -i` without a command run a shell, which reads its commands from its input.
    const shellFlags = ["-s", "-i", "--shell", "--login"]
    if (
      (name === "sudo" || name === "doas") &&
      rest.length === 0 &&
      words.some((w) => shellFlags.includes(w.text))
    )
      return readsInput()
    return inner(rest)
  }
  if (name === "busybox") return inner(words.slice(1))
  if (shells.has(name)) {
    const how = shellCommand(words)
    // `sh -c 'npm test'` runs npm test: an allow rule for npm covers it; deny rules see the shell too.
    if (how === "file") return void out.commands.push({ texts })
    if (how === "stdin") return readsInput()
    out.wrappers.push(...texts)
    return analyseScript(how.script, textOf(normalised), depth, out)
  }
  if (name === "su" && !words.some((w) => /^(-c|--command)(=|$)/.test(w.text))) {
    noSplitting(words, "su")
    return readsInput()
  }
  if (name === "su" || name === "watch" || name === "trap")
    return analyseStringRunner(name, words, texts, depth, out)
  if (name === "find") return analyseFind(words, texts, depth, out)
  if (name === "git" || name.startsWith("git-")) return analyseGit(words, texts, depth, out, openArgs)
  out.commands.push({ texts })
}

/** `su -c STRING`, `watch CMD...` (run by sh -c) and `trap STRING SIGNAL...` run shell code they are given. */
const analyseStringRunner = (
  name: string,
  words: ReadonlyArray<ShellWord>,
  texts: ReadonlyArray<string>,
  depth: number,
  out: Collector,
): void => {
  out.commands.push({ texts })
  const written = textOf(words)
  if (name === "su") {
    const at = words.findIndex((w) => w.text === "-c" || w.text === "--command")
    const glued = words.find((w) => w.text.startsWith("--command="))
    if (glued !== undefined) analyseScript({ ...glued, text: glued.text.slice(10) }, written, depth, out)
    else if (at > 0) analyseScript(words[at + 1] ?? fail("su -c without a command"), written, depth, out)
    return
  }
  if (name === "trap") {
    const action = words[1]
    if (action !== undefined && words.length > 2 && !action.text.startsWith("-"))
      analyseScript(action, written, depth, out)
    return
  }
  // watch [options] command...: without -x the words are joined and run by sh -c.
  let i = 1
  let exec = false
  while (i < words.length && (words[i]?.text ?? "").startsWith("-")) {
    const w = words[i]?.text ?? ""
    if (w === "-x" || w === "--exec") exec = true
    i += w === "-n" || w === "--interval" || w === "-q" || w === "--equexit" ? 2 : 1
  }
  const rest = words.slice(i)
  if (exec) return analyseWords(rest, texts, depth + 1, out, false)
  if (rest.some((w) => !w.literal)) fail("watch runs a string that is only known when the shell expands it")
  if (rest.length > 0) analyseScript({ text: textOf(rest), literal: true }, written, depth, out)
}

/** `find ... -exec CMD ... ;` runs CMD for each file found. */
const analyseFind = (
  words: ReadonlyArray<ShellWord>,
  texts: ReadonlyArray<string>,
  depth: number,
  out: Collector,
): void => {
  out.commands.push({ texts })
  noSplitting(words, "find")
  for (let i = 1; i < words.length; i++) {
    if (!["-exec", "-execdir", "-ok", "-okdir"].includes(words[i]?.text ?? "")) continue
    let end = i + 1
    while (end < words.length && words[end]?.text !== ";" && words[end]?.text !== "+") end++
    const run = words.slice(i + 1, end)
    if (run[0]?.text.includes("{}") === true) fail("find -exec runs a command named by the files it finds")
    analyseWords(run, texts, depth + 1, out, false)
    i = end
  }
}

/** git with its global options set aside, aliases from `-c alias.*` resolved, and push's plumbing named as push. */
const analyseGit = (
  words: ReadonlyArray<ShellWord>,
  texts: ReadonlyArray<string>,
  depth: number,
  out: Collector,
  openArgs: boolean,
): void => {
  const program = baseName(words[0]?.text ?? "git")
  // git-push, as found in git's exec-path, is `git push`.
  const dashed = program === "git" ? [] : [program.slice(4)]
  const args = [...dashed, ...words.slice(1).map((w) => w.text)]
  const argv = parseGitArgv(args)
  // An option this reader does not know may take the next word as its value, or be newer than it.
  if (argv._tag === "BadOption") return fail(`git ${argv.option}: ${argv.reason}`)
  const subAt =
    argv._tag === "Invocation" && argv.subcommandIndex >= dashed.length
      ? argv.subcommandIndex - dashed.length + 1
      : words.length
  const subWord = words[subAt]
  // Global options decide what runs: `-c` can define aliases, pagers, ssh commands; an unquoted
  // expansion may bring in more options or the subcommand itself.
  const globalWords = words.slice(1, subAt)
  noSplitting(globalWords, "git's global options")
  globalWords.forEach((w, i) => {
    const valueOf = ["-c", "--config-env"].includes(w.text) ? globalWords[i + 1] : undefined
    if (valueOf !== undefined && !valueOf.literal) unknownWord(valueOf, `the git setting ${w.text}`)
    if (/^--(config-env|exec-path)=/.test(w.text) && !w.literal) unknownWord(w, "the git setting")
  })
  if (argv._tag !== "Invocation") {
    if (openArgs) fail("xargs gives git its subcommand, which is not known here")
    out.commands.push({ texts })
    return
  }
  if (subWord !== undefined && !subWord.literal) unknownWord(subWord, "the git subcommand")
  const canonical = ["git", argv.subcommand, ...argv.args].join(" ")
  const pushed = pushCommands.has(argv.subcommand) ? [["git", "push", ...argv.args].join(" ")] : []
  const own = { texts: [...new Set([...texts, canonical, ...pushed])] }
  if (gitCommands.has(argv.subcommand)) {
    out.commands.push(own)
    return
  }
  const alias = commandLineAlias(argv.globals, argv.subcommand)
  if (alias.fromEnvironment)
    fail(`git --config-env defines the alias ${argv.subcommand} from the environment`)
  if (alias.value === undefined) {
    // `git st` runs an alias from a config file or GIT_CONFIG_* (which could be push) unless a git-st
    // program exists; git-lfs is one so common that it is taken as installed. `git-st` itself is a program.
    if (dashed.length === 0 && argv.subcommand !== "lfs")
      return fail(
        `git ${argv.subcommand} is not one of git's own commands and may be an alias: use the command it stands for`,
      )
    out.commands.push(own)
    return
  }
  const rest = argv.args.map(quoteWord).join(" ")
  // `!cmd` aliases run `cmd "$@"` in a shell; others are more git arguments.
  if (alias.value.startsWith("!")) {
    out.commands.push(own)
    out.wrappers.push(textOf(words))
    return analyseLine(`${alias.value.slice(1)} ${rest}`, depth + 1, out)
  }
  const expanded = parseShell(alias.value)
  const [aliased] = expanded._tag === "Parsed" ? expanded.commands : []
  if (aliased === undefined || expanded._tag !== "Parsed" || expanded.commands.length !== 1)
    return fail(`the git alias ${argv.subcommand} = ${alias.value}`)
  const globals = argv.globals.flatMap((g) => (g.value === undefined ? [g.option] : [g.option, g.value]))
  const literal = (text: string): ShellWord => ({ text, literal: true })
  analyseWords(
    [literal("git"), ...globals.map(literal), ...aliased.words, ...argv.args.map(literal)],
    own.texts,
    depth + 1,
    out,
    openArgs,
  )
}

/** What `command` (a Bash tool call's command line) runs, or why that cannot be known without running it. */
export const analyseBash = (command: string): BashAnalysis => {
  const out: Collector = { commands: [], wrappers: [] }
  try {
    analyseLine(command, 0, out)
    return { _tag: "Commands", commands: out.commands, wrappers: out.wrappers }
  } catch (error) {
    if (error instanceof Unparsable) return { _tag: "Unparsable", reason: error.reason }
    throw error
  }
}
