// test/domain/shellWords.test.ts — the shell-words parser: any words, quoted, parse back to themselves;
// operators split simple commands; what sh would expand or run later is reported as unparsable.
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { parseShell, quoteWord, type SimpleCommand } from "../../src/domain/shellWords.js"

const texts = (command: SimpleCommand) => command.words.map((w) => w.text)
const parsedWords = (source: string) => {
  const parsed = parseShell(source)
  if (parsed._tag === "Unparsable") throw new Error(`${source}: ${parsed.reason}`)
  return parsed.commands.map(texts)
}

// Any text without NUL (which no argv can hold); `eval` and `let` as a command name are refused on purpose.
const wordArb = fc.string({ unit: "binary", maxLength: 12 }).filter((w) => !w.includes("\0"))
const wordsArb = fc
  .array(wordArb, { minLength: 1, maxLength: 6 })
  .filter((ws) => ws[0] !== "eval" && ws[0] !== "let")

/** Double quotes, escaping what stays special inside them. */
const doubleQuote = (word: string) => `"${word.replace(/[$`"\\]/g, (c) => `\\${c}`)}"`

describe("parseShell", () => {
  it("reads back any words quoted with single quotes", () =>
    fc.assert(
      fc.property(wordsArb, (words) => {
        expect(parsedWords(words.map(quoteWord).join(" "))).toEqual([words])
      }),
    ))

  it("reads back any words quoted with double quotes or backslashes", () =>
    fc.assert(
      fc.property(wordsArb, fc.boolean(), (words, double) => {
        const quoted = words.map((w) =>
          double || w === "" ? doubleQuote(w) : [...w].map((c) => (c === "\n" ? "'\n'" : `\\${c}`)).join(""),
        )
        expect(parsedWords(quoted.join(" \t "))).toEqual([words])
      }),
    ))

  it("splits command lines at every operator into the same simple commands", () =>
    fc.assert(
      fc.property(
        fc.array(wordsArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.constantFrom(";", "&&", "||", "|", "&", "\n", "|&"), { minLength: 3, maxLength: 3 }),
        (commands, ops) => {
          const line = commands
            .map((ws, i) => `${ws.map(quoteWord).join(" ")}${i < commands.length - 1 ? ops[i % 3] : ""}`)
            .join(" ")
          expect(parsedWords(line)).toEqual(commands)
        },
      ),
    ))

  it("reads the commands inside $(...), however quoted, before the command they are part of", () =>
    fc.assert(
      fc.property(fc.array(wordsArb, { minLength: 1, maxLength: 3 }), fc.boolean(), (commands, quoted) => {
        const inner = commands.map((ws) => ws.map(quoteWord).join(" ")).join("; ")
        const substitution = `$(${inner})`
        const parsed = parsedWords(`echo ${quoted ? `"${substitution}"` : substitution} done`)
        expect(parsed).toEqual([...commands, ["echo", substitution, "done"]])
      }),
    ))

  it.each([
    ["git  push", [["git", "push"]]],
    ["git\tpush origin", [["git", "push", "origin"]]],
    ["git pu''sh", [["git", "push"]]],
    ['git "pu"sh', [["git", "push"]]],
    ["git pu\\\nsh", [["git", "push"]]],
    ["echo a\\ b 'c d' \"e $HOME\"", [["echo", "a b", "c d", "e $HOME"]]],
    ['echo "a\\"b" "\\$x" "\\n"', [["echo", 'a"b', "$x", "\\n"]]],
    ["GIT_DIR=.git FOO='a b' git status", [["git", "status"]]],
    ["npm test > out.txt 2>&1 < /dev/null", [["npm", "test"]]],
    [
      "true && git push || echo no; ls & wc -l",
      [["true"], ["git", "push"], ["echo", "no"], ["ls"], ["wc", "-l"]],
    ],
    ["ls # git push", [["ls"]]],
    ["echo a#b", [["echo", "a#b"]]],
    ["(cd sub && make) | tail -1", [["cd", "sub"], ["make"], ["tail", "-1"]]],
    [
      "if test -f x; then git add x; fi",
      [
        ["test", "-f", "x"],
        ["git", "add", "x"],
      ],
    ],
    ["for f in *.ts; do git add $f; done", [["git", "add", "$f"]]],
    ["while true; do sleep 1; done", [["true"], ["sleep", "1"]]],
    ["! git diff --quiet", [["git", "diff", "--quiet"]]],
    ["{ git status; }", [["git", "status"]]],
    ["echo if then", [["echo", "if", "then"]]],
    ["", []],
    ["FOO=1", [[]]],
  ] as const)("%j is %j", (line, expected) => {
    expect(parsedWords(line)).toEqual(expected)
  })

  it.each([
    [
      "echo $(git status)",
      [
        ["git", "status"],
        ["echo", "$(git status)"],
      ],
    ],
    [
      'echo "a $(git rev-parse HEAD) b"',
      [
        ["git", "rev-parse", "HEAD"],
        ["echo", "a $(git rev-parse HEAD) b"],
      ],
    ],
    ["echo `date`", [["date"], ["echo", "`date`"]]],
    ['echo "$(echo "$(id)")"', [["id"], ["echo", "$(id)"], ["echo", '$(echo "$(id)")']]],
    ["x=$(git push)", [["git", "push"], []]],
    ["echo > $(id)", [["id"], ["echo"]]],
    ["for f in $(ls); do cat $f; done", [["ls"], ["cat", "$f"]]],
    [
      "echo $( (cd a; ls) | wc -l )",
      [["cd", "a"], ["ls"], ["wc", "-l"], ["echo", "$( (cd a; ls) | wc -l )"]],
    ],
    [
      "echo $(echo ')' \")\" \\) # )\n)",
      [
        ["echo", ")", ")", ")"],
        ["echo", "$(echo ')' \")\" \\) # )\n)"],
      ],
    ],
    ["cat <<EOF\ngit push\nEOF", [["cat"]]],
    ["cat <<'EOF' && ls\n$(git push)\nEOF\necho done", [["cat"], ["ls"], ["echo", "done"]]],
    ["cat <<A; cat <<-B\na\nA\n\tb\n\tB\nls", [["cat"], ["cat"], ["ls"]]],
  ] as const)("%j is %j", (line, expected) => {
    expect(parsedWords(line)).toEqual(expected)
  })

  it("marks words a substitution gives as dynamic, and unquoted expansions as splitting", () => {
    const parsed = parseShell('echo "$(id)" $(id) $X "$X" `id` plain *.ts a{b,c} "*" {}')
    const words = parsed._tag === "Parsed" ? parsed.commands.at(-1)?.words : undefined
    expect(words?.map((w) => [w.literal, w.dynamic ?? false, w.splits ?? false])).toEqual([
      [true, false, false],
      [false, true, false],
      [false, true, true],
      [false, false, true],
      [false, false, false],
      [false, true, true],
      [true, false, false],
      [false, false, true],
      [false, false, true],
      [true, false, false],
      [false, false, false],
    ])
  })

  it("gives a command the here-document on its standard input, and nothing else", () => {
    const stdinOf = (line: string) => {
      const parsed = parseShell(line)
      if (parsed._tag === "Unparsable") throw new Error(parsed.reason)
      return parsed.commands.map((c) => c.stdin)
    }
    expect(stdinOf("sh <<'EOF'\necho $HOME `id`\nEOF")).toEqual([
      { body: "echo $HOME `id`\n", literal: true },
    ])
    expect(stdinOf("sh <<EOF\necho $HOME\nEOF")).toEqual([{ body: "echo $HOME\n", literal: false }])
    expect(stdinOf("sh <<EOF\nnpm test\nEOF")).toEqual([{ body: "npm test\n", literal: true }])
    expect(stdinOf("sh <<-\\EOF\n\t\tnpm test\n\tEOF")).toEqual([{ body: "npm test\n", literal: true }])
    expect(stdinOf('sh <<"EOF"\nEOF')).toEqual([{ body: "", literal: true }])
    expect(stdinOf("sh <<EOF < file\nx\nEOF")).toEqual([undefined])
    expect(stdinOf("sh < file <<EOF\nx\nEOF")).toEqual([undefined])
    expect(stdinOf("sh 0<file <<EOF\nx\nEOF")).toEqual([undefined])
    expect(stdinOf("sh <<A <<B\na\nA\nb\nB")).toEqual([undefined])
    expect(stdinOf("sh 3<<EOF\nx\nEOF")).toEqual([undefined])
    expect(stdinOf("sh <<EOF 2>/dev/null | cat\nx\nEOF")).toEqual([{ body: "x\n", literal: true }, undefined])
  })

  it("keeps the assignments before a command apart from its words", () => {
    const parsed = parseShell("A=1 B='x y' git status")
    expect(parsed).toEqual({
      _tag: "Parsed",
      commands: [
        {
          assignments: [
            { text: "A=1", literal: true },
            { text: "B=x y", literal: true },
          ],
          words: [
            { text: "git", literal: true },
            { text: "status", literal: true },
          ],
        },
      ],
    })
  })

  it("marks words the shell would expand", () => {
    const parsed = parseShell("echo $HOME ${X} \"$1\" *.ts a{b,c} [ab] plain '$HOME' \\*")
    expect(parsed._tag === "Parsed" && parsed.commands[0]?.words.map((w) => w.literal)).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
    ])
  })

  it.each([
    ["$(echo git) push", "command name"],
    ["`echo git` push", "command name"],
    ["echo $((1+2))", "arithmetic"],
    ["echo $[1+2]", "arithmetic"],
    ["let x=1+2", "let"],
    ["echo $(id", "unclosed $("],
    ["echo `id", "unclosed backtick"],
    ["echo `echo \\`id\\``", "backslash inside backticks"],
    ["git 'push", "unbalanced single quote"],
    ['git "push', "unbalanced double quote"],
    ["cat <<EOF\n$(git push)\nEOF", "here-document that runs commands"],
    ["cat <<EOF\n`git push`\nEOF", "here-document that runs commands"],
    ["cat <<EOF\n$\\\n(git push)\nEOF", "here-document that runs commands"],
    ["cat <<EOF\nno end line", "without its end line EOF"],
    ["cat <<EOF", "without its end line EOF"],
    ["cat <<$X\nx\n$X", "delimiter"],
    ["cat <<EOF 'a\nb'\nbody\nEOF", "goes on over several lines"],
    ["echo $(cat <<EOF)\nx\nEOF", "does not end before"],
    ["diff <(ls) <(ls a)", "process substitution"],
    ["eval git push", "eval"],
    ["$GIT push", "command name"],
    ["g* push", "command name"],
    ["echo $'\\x41'", "$'...' quoting"],
    ["case x in a) git push;; esac", "case"],
    ["f() { git push; }", "function definition"],
    ["function f { git push; }", "function definition"],
    ["echo >", "without a target"],
    ["(git push", "unbalanced ("],
    ["git push)", "unbalanced )"],
    ["echo ${X:-$(id)}", "${...}"],
    ["echo \\", "backslash at the very end"],
  ] as const)("%j is unparsable (%s)", (line, reason) => {
    const parsed = parseShell(line)
    expect(parsed._tag).toBe("Unparsable")
    if (parsed._tag === "Unparsable") expect(parsed.reason).toContain(reason)
  })
})
