// src/domain/bashWrappers.ts — how env, nohup, timeout, sudo, xargs and the shells take their own options
// before the command or script they run, and the refusals bashCommand.ts shares (a word only the shell
// knows, where it decides what runs). Pure; bashCommand uses it.
import { parseShell, type ShellWord } from "./shellWords.js"

export class Unparsable {
  constructor(readonly reason: string) {}
}
export const fail = (reason: string): never => {
  throw new Unparsable(reason)
}

export const shells = new Set(["sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh"])

/** Refuses an unquoted expansion where the number of words decides what runs (`timeout $T sh -c ...`). */
export const noSplitting = (words: ReadonlyArray<ShellWord>, where: string): void => {
  const word = words.find((w) => w.splits === true)
  if (word !== undefined)
    fail(
      `${where}: ${word.text} is an unquoted expansion the shell may make several words of, or none, which decides what runs (quote it)`,
    )
}
export const unknownWord = (word: ShellWord, what: string): never =>
  fail(`${what} ${word.text} is only known when the shell expands it`)
export const runsCommandFor = (word: ShellWord): never =>
  fail(
    `the environment variable ${word.text} of a command is only known by running the command substitution in it`,
  )

/** Runs of options a wrapper takes before its command: flags, and options that consume a value. */
interface WrapperSyntax {
  readonly flags: ReadonlySet<string>
  /** Options whose value is the next word (or glued: `-n5`, `--signal=KILL`). */
  readonly valued: ReadonlySet<string>
  /** Positional words the wrapper itself takes before the command (`timeout DURATION`). */
  readonly positional?: number
}

const syntax = (flags: string, valued: string, positional?: number): WrapperSyntax => ({
  flags: new Set(flags.split(" ").filter((f) => f !== "")),
  valued: new Set(valued.split(" ").filter((f) => f !== "")),
  ...(positional === undefined ? {} : { positional }),
})

export const wrappers: Readonly<Record<string, WrapperSyntax>> = {
  nohup: syntax("", ""),
  command: syntax("-p", ""),
  builtin: syntax("", ""),
  exec: syntax("-c -l", "-a"),
  time: syntax("-p -v -a -q --verbose --append --quiet --portability", "-f -o --format --output"),
  timeout: syntax("--preserve-status --foreground -v --verbose", "-s -k --signal --kill-after", 1),
  nice: syntax("", "-n --adjustment"),
  ionice: syntax("-t --ignore", "-c -n --class --classdata"),
  stdbuf: syntax("", "-i -o -e --input --output --error"),
  setsid: syntax("-c -f -w --ctty --fork --wait", ""),
  sudo: syntax(
    "-A -b -E -H -K -k -n -P -S -s -i --askpass --background --preserve-env --set-home --non-interactive --stdin --shell --login",
    "-u -g -C -D -h -p -r -t -T -U --user --group --close-from --chdir --host --prompt --role --type --command-timeout --other-user",
  ),
  doas: syntax("-n -s", "-u -C"),
  xargs: syntax(
    "-0 -r -t -p -x -o --null --no-run-if-empty --verbose --interactive --exit --open-tty",
    "-a -d -E -e -I -i -L -l -n -P -s --arg-file --delimiter --eof --replace --max-lines --max-args --max-procs --max-chars --process-slot-var",
  ),
}

/** Where a wrapper's command starts in `words` (after the wrapper and its options), and its -I string. */
export const skipOptions = (
  name: string,
  spec: WrapperSyntax,
  words: ReadonlyArray<ShellWord>,
): { readonly start: number; readonly replace?: string } => {
  let i = 1
  let replace: string | undefined
  while (i < words.length) {
    const w = words[i]?.text ?? ""
    if (w === "--") {
      i++
      break
    }
    if (!w.startsWith("-") || w === "-") break
    // nice -5, nice -n 5: a negative number alone is an adjustment.
    if (name === "nice" && /^-[0-9]+$/.test(w)) {
      i++
      continue
    }
    const eq = w.indexOf("=")
    const option = eq > 0 ? w.slice(0, eq) : w
    if (spec.flags.has(w)) {
      i++
      continue
    }
    if (spec.valued.has(option)) {
      const value = eq > 0 ? w.slice(eq + 1) : words[i + 1]?.text
      if (option === "-I" || option === "-i" || option === "--replace") replace = value ?? "{}"
      // xargs -i takes its value glued only (`-i{}`), or none.
      i += eq > 0 || option === "-i" ? 1 : 2
      continue
    }
    // Short options glued with their value: -n5, -sKILL, -I{}.
    const short = w.slice(0, 2)
    if (!w.startsWith("--") && w.length > 2 && spec.valued.has(short)) {
      if (short === "-I" || short === "-i") replace = w.slice(2)
      i++
      continue
    }
    return fail(`${name} ${w} (an option huskies does not know, so the command it runs is unclear)`)
  }
  i += spec.positional ?? 0
  noSplitting(words.slice(1, i), name)
  return replace === undefined ? { start: i } : { start: i, replace }
}

/** `env`'s own options and `NAME=value` words; `-S STRING` splits STRING into more words. */
export const unwrapEnv = (words: ReadonlyArray<ShellWord>): ReadonlyArray<ShellWord> => {
  let i = 1
  while (i < words.length) {
    const word = words[i] ?? fail("env without a word")
    noSplitting([word], "env")
    const w = word.text
    if (w === "--") return words.slice(i + 1)
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) {
      if (word.dynamic === true) runsCommandFor(word)
      i++
    } else if (["-i", "-0", "--null", "--ignore-environment", "-v", "--debug", "-"].includes(w)) i++
    else if (["-u", "-C", "--unset", "--chdir"].includes(w)) i += 2
    else if (/^(-u|-C).|^--(unset|chdir)=/.test(w)) i++
    else if (w === "-S" || w === "--split-string" || w.startsWith("--split-string=") || /^-S./.test(w)) {
      const separate = w === "-S" || w === "--split-string"
      const word = separate ? words[i + 1] : words[i]
      const text = separate ? word?.text : w.replace(/^(-S|--split-string=)/, "")
      const split = word?.literal === true && text !== undefined ? parseShell(text) : undefined
      if (split?._tag !== "Parsed" || split.commands.length !== 1)
        return fail("env -S with a string huskies cannot read")
      const [only] = split.commands
      const env = words[0] ?? { text: "env", literal: true }
      // The split words may hold more of env's own options and NAME=value words.
      return unwrapEnv([
        env,
        ...(only?.assignments ?? []),
        ...(only?.words ?? []),
        ...words.slice(separate ? i + 2 : i + 1),
      ])
    } else if (w.startsWith("-")) return fail(`env ${w} (an option huskies does not know)`)
    else return words.slice(i)
  }
  return []
}

/** A script file that is the standard input itself (`sh /dev/stdin`, `. /dev/fd/0`); it must be known. */
export const readsFromInput = (file: ShellWord): boolean =>
  (file.literal || unknownWord(file, "the script file")) &&
  /^\/(dev\/stdin|dev\/fd\/0|proc\/(self|thread-self|[0-9]+)\/fd\/0)$/.test(file.text.replace(/\/+/g, "/"))

/** A shell's command string (`-c STRING`), or where it reads its commands otherwise (a file, its input). */
export const shellCommand = (
  words: ReadonlyArray<ShellWord>,
): { readonly script: ShellWord } | "file" | "stdin" => {
  let takesString = false
  let readsInput = false
  for (let i = 1; i < words.length; i++) {
    const word = words[i] ?? fail("a shell without a word")
    noSplitting([word], "a shell's options")
    const w = word.text
    // `sh -` is `sh --`.
    if (w === "--" || w === "-") {
      const next = words[i + 1]
      if (takesString) return { script: next ?? fail("a shell -c without a command string") }
      return next === undefined || readsInput || readsFromInput(next) ? "stdin" : "file"
    }
    if (["-o", "+o", "-O", "+O", "--rcfile", "--init-file"].includes(w)) {
      i++
      continue
    }
    if (/^[-+][A-Za-z]+$/.test(w)) {
      if (w.slice(1).includes("c")) takesString = true
      if (w.slice(1).includes("s")) readsInput = true
      if (takesString && readsInput) fail("a shell given both -c and -s")
      continue
    }
    if (w.startsWith("--")) continue
    if (readsInput || (!takesString && readsFromInput(word))) return "stdin"
    return takesString ? { script: word } : "file"
  }
  return takesString ? fail("a shell -c without a command string") : "stdin"
}
