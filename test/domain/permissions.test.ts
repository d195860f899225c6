// test/domain/permissions.test.ts — the [permissions] policy: deny rules win, then ask, then allow rules, then the
// default; patterns match the Bash command or the file path, `*` anywhere. Bash commands are parsed, so
// the default push rule catches every way of writing a push, and what cannot be parsed is never allowed.
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import * as fc from "fast-check"
import { Permissions } from "../../src/domain/Config.js"
import { decidePermission, type PermissionPolicy } from "../../src/domain/permissions.js"
import { quoteWord } from "../../src/domain/shellWords.js"

const policy: PermissionPolicy = {
  default: "deny",
  allow: ["Write", "Bash(npm *)", "Bash(git *)", "mcp__huskies__*", "Edit(src/*)"],
  deny: ["Bash(*git push*)", "Edit(*.env)"],
}

describe("decidePermission", () => {
  it.each([
    ["Write", { file_path: "a.txt" }, "allow", "Write"],
    ["Bash", { command: "npm test" }, "allow", "Bash(npm *)"],
    ["Bash", { command: "git commit -m x" }, "allow", "Bash(git *)"],
    ["Bash", { command: "git push origin main" }, "deny", "Bash(*git push*)"],
    ["Bash", { command: "npm test && git push" }, "deny", "Bash(*git push*)"],
    ["Bash", { command: "curl example.com" }, "deny", undefined],
    ["mcp__huskies__run_tests", { story_id: "1_story_a" }, "allow", "mcp__huskies__*"],
    ["Edit", { file_path: "src/main.ts" }, "allow", "Edit(src/*)"],
    ["Edit", { file_path: "src/.env" }, "deny", "Edit(*.env)"],
    ["WebFetch", { url: "https://example.com" }, "deny", undefined],
  ] as const)("%s %j is %s (rule %s)", (tool, input, behavior, rule) => {
    const decision = decidePermission(policy, tool, input)
    expect(decision.behavior).toBe(behavior)
    expect(decision.rule).toBe(rule)
    if (decision.behavior === "deny")
      expect(decision.message).toContain("[permissions] of .huskies/project.toml")
  })

  it("with the default allow, anything no deny rule names is allowed", () => {
    const open: PermissionPolicy = { default: "allow", allow: [], deny: ["Bash(*git push*)"] }
    expect(decidePermission(open, "WebFetch", { url: "https://example.com" })).toEqual({ behavior: "allow" })
    expect(decidePermission(open, "Bash", { command: "git push" }).behavior).toBe("deny")
  })

  it("ask rules come after deny rules and before allow rules; the default may be ask", () => {
    const asking: PermissionPolicy = {
      default: "ask",
      allow: ["Bash(npm *)", "Write"],
      deny: ["Bash(*git push*)"],
      ask: ["Bash(npm publish*)", "Write(*.lock)"],
    }
    const decide = (tool: string, input: Record<string, unknown>) => decidePermission(asking, tool, input)
    expect(decide("Bash", { command: "npm test" })).toEqual({ behavior: "allow", rule: "Bash(npm *)" })
    expect(decide("Bash", { command: "npm publish" })).toEqual({
      behavior: "ask",
      rule: "Bash(npm publish*)",
    })
    // One command of the line that a person must see is enough to ask, as with deny rules.
    expect(decide("Bash", { command: "npm test && npm publish --tag x" }).behavior).toBe("ask")
    expect(decide("Bash", { command: "npm publish && git push" }).behavior).toBe("deny")
    expect(decide("Write", { file_path: "package.lock" })).toEqual({ behavior: "ask", rule: "Write(*.lock)" })
    expect(decide("Write", { file_path: "a.ts" })).toEqual({ behavior: "allow", rule: "Write" })
    expect(decide("WebFetch", { url: "https://example.com" })).toEqual({ behavior: "ask" })
    expect(decide("Bash", { command: "curl x" })).toEqual({ behavior: "ask" })
    // An agent never answers a decision, whatever the rules allow.
    const open: PermissionPolicy = { default: "allow", allow: ["mcp__*"], deny: [] }
    const answering = decidePermission(open, "mcp__huskies__answer_decision", { decision_id: "dec-1" })
    expect(answering.behavior).toBe("deny")
    expect(decidePermission(open, "mcp__huskies__list_decisions", {}).behavior).toBe("allow")
    // What cannot be parsed is refused, not put to a person who could not tell what it runs either.
    expect(decide("Bash", { command: 'eval "$X"' }).behavior).toBe("deny")
  })

  it("patterns are matched literally except for *", () => {
    const strict: PermissionPolicy = {
      default: "deny",
      allow: ["Bash(ls (a).txt)", "Bash(echo $HOME)"],
      deny: [],
    }
    expect(decidePermission(strict, "Bash", { command: "ls '(a).txt'" }).behavior).toBe("allow")
    expect(decidePermission(strict, "Bash", { command: "ls 'xa).txt'" }).behavior).toBe("deny")
    expect(decidePermission(strict, "Bash", { command: "echo $HOME" }).behavior).toBe("allow")
  })
})

describe("decidePermission with the default [permissions] rules", () => {
  const defaults: PermissionPolicy = Schema.decodeUnknownSync(Permissions)({})

  it.each([
    "git push",
    "git push origin main",
    "git -C . push",
    "git  push",
    "git\tpush",
    "git send-pack origin HEAD:main",
    "sh -c 'git pu''sh'",
    "/usr/bin/git push",
    "env git push",
    "GIT_DIR=.git git push",
    "git --git-dir=.git push",
    "git -c alias.p=push p",
    "git -c alias.p='!git push' p",
    "git -c alias.P='-C . push' p origin",
    "nohup git push &",
    "true && git push",
    "npm test; git push --force",
    "bash -lc 'cd sub && git push'",
    "timeout 60 git push",
    "sudo -u me git push",
    "env -i PATH=/usr/bin git push",
    "xargs git push < refs.txt",
    "find . -maxdepth 0 -exec git push \\;",
    "git-push origin",
    "git http-push https://example.com/repo.git",
    "watch -n 5 git push",
    "command git push",
    "exec git push",
    "time git push",
    'echo "$(git push)"',
    "echo \"$(git pu''sh)\"",
    'echo "$(echo "$(git pu\'\'sh)")"',
    "echo `git pu''sh`",
    "x=$(git pu''sh)",
    "git commit -m \"$(git pu''sh origin main)\"",
    "echo x > \"$(git pu''sh)\"",
    "for b in $(git pu''sh); do echo $b; done",
    "sh <<'EOF'\ngit push\nEOF",
    "sh <<'EOF'\ngit pu''sh\nEOF",
    "bash -c \"$(cat <<'EOF'\ngit push\nEOF\n)\"",
    "`git push`",
    "bash -s <<-EOF\n\tgit pu''sh\n\tEOF",
    "nohup sh <<\\EOF\nnpm test && git pu''sh\nEOF",
    "sudo -s <<'EOF'\ngit pu''sh\nEOF",
    "sh /dev/stdin <<'EOF'\ngit pu''sh\nEOF",
    "source /dev/fd/0 <<'EOF'\ngit pu''sh\nEOF",
    ". //dev//stdin <<'EOF'\ngit pu''sh\nEOF",
    "bash -O extglob - /proc/self/fd/0 <<'EOF'\ngit pu''sh\nEOF",
  ])("%j is denied by Bash(*git push*)", (command) => {
    const decision = decidePermission(defaults, "Bash", { command })
    expect(decision).toMatchObject({ behavior: "deny", rule: "Bash(*git push*)" })
  })

  /** Any way of writing a push: wrapped, spaced, optioned, after other commands. */
  const space = fc.constantFrom(" ", "  ", "\t", " \\\n ")
  const globalOption = fc.constantFrom(
    ["-C", "."],
    ["--no-pager"],
    ["-c", "color.ui=never"],
    ["--git-dir=.git"],
    ["--work-tree", "."],
    ["--namespace", "x"],
    ["--literal-pathspecs"],
  )
  type Wrap = (inner: ReadonlyArray<string>) => ReadonlyArray<string>
  const shellString: Wrap = (inner) => ["sh", "-c", inner.map(quoteWord).join(" ")]
  const wrapper = fc.constantFrom<Wrap>(
    (inner) => ["env", "A=1", ...inner],
    (inner) => ["nohup", ...inner],
    (inner) => ["timeout", "-s", "KILL", "30", ...inner],
    (inner) => ["nice", "-n", "5", ...inner],
    (inner) => ["command", ...inner],
    (inner) => ["/usr/bin/sudo", "-u", "me", ...inner],
    (inner) => ["time", ...inner],
    (inner) => ["xargs", "-0", ...inner],
    shellString,
    (inner) => ["bash", "-lc", inner.map(quoteWord).join(" ")],
  )
  const pushLine = fc
    .tuple(
      fc.array(globalOption, { maxLength: 3 }),
      fc.array(wrapper, { maxLength: 3 }),
      fc.constantFrom("git", "/usr/bin/git"),
      fc.constantFrom("push", "send-pack"),
      space,
      fc.constantFrom("", "true && ", "npm test; ", "cd sub || "),
    )
    .map(([globals, wrappers, git, sub, gap, before]) => {
      const words = wrappers.reduce<ReadonlyArray<string>>(
        (inner, wrap) => wrap(inner),
        [git, ...globals.flat(), sub, "origin"],
      )
      return `${before}${words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : quoteWord(w))).join(gap)}`
    })

  it("denies a push however it is wrapped, spaced or optioned", () => {
    fc.assert(
      fc.property(pushLine, (command) => {
        expect(decidePermission(defaults, "Bash", { command })).toMatchObject({
          behavior: "deny",
          rule: "Bash(*git push*)",
        })
      }),
    )
  })

  it.each([
    ["$(echo git) push", "only known when the shell expands it"],
    ["`echo git` push", "only known when the shell expands it"],
    ["git $(echo push)", "only known when the shell expands it"],
    ["git `echo pu``echo sh`", "only known when the shell expands it"],
    ["env $(echo git) push", "may make several words"],
    ['env "$(echo git)" push', "only known when the shell expands it"],
    ['env GIT_SSH_COMMAND="$(cat cmd.txt)" git fetch', "only known by running"],
    ["GIT_PAGER=\"$(printf 'git pu%s' sh)\" git log", "only known by running"],
    ["git -c core.pager=\"$(printf 'git pu%s' sh)\" log", "only known when the shell expands it"],
    ['git -c "alias.c=$(echo push)" c', "only known when the shell expands it"],
    ["git -C $(echo .) status", "may make several words"],
    ["timeout $(echo 5) sh -c 'echo'", "may make several words"],
    ["sh $X -c 'echo'", "may make several words"],
    ["git -C * status", "may make several words"],
    ["find . $(echo -name x) -print", "may make several words"],
    ['sh -c "$(cat cmd.txt)"', "only known when the shell expands it"],
    ["bash -c \"$(cat <<'EOF'\ngit pu''sh\nEOF\n)\"", "only known when the shell expands it"],
    ['xargs sh -c "$(cat cmd.txt)" < args', "only known when the shell expands it"],
    ['find . -exec "$(echo git)" push \\;', "only known when the shell expands it"],
    ["git commit -m \"$(cat <<'EOF'\nx\nEOF)\"", "without its end line"],
    ["sudo -s < script.sh", "reading commands from its input"],
    ["su - other <<< 'git pu''sh'", "reading commands from its input"],
    ['echo "$((1 + 2))"', "arithmetic"],
    ['echo "$[1 + 2]"', "arithmetic"],
    ["cat <<EOF\n$(git pu''sh)\nEOF", "here-document"],
    ["cat <<EOF\nno end", "without its end line"],
    ["bash <<EOF\ngit pu''sh $HOME\nEOF", "only known when the shell expands it"],
    ["sh <<'EOF' < other.sh\nnpm test\nEOF", "reading commands from its input"],
    ["echo 'git pu''sh' | sh -", "reading commands from its input"],
    ["echo 'git pu''sh' | bash -O extglob", "reading commands from its input"],
    ["echo 'git pu''sh' | source /dev/stdin", "reading commands from its input"],
    ['source "$(mktemp)"', "only known when the shell expands it"],
    ["F=/dev/stdin; sh \"$F\" <<'EOF'\ngit pu''sh\nEOF", "only known when the shell expands it"],
    ["command let 'x=1'", "let"],
    ["eval 'git pu''sh'", "eval"],
    ["$GIT push", "only known when the shell expands it"],
    ["git $SUBCOMMAND", "only known when the shell expands it"],
    ['sh -c "$CMD"', "only known when the shell expands it"],
    ["echo 'git pu''sh' | sh", "reading commands from its input"],
    ["echo push | xargs git", "not known here"],
    ["git 'push", "unbalanced single quote"],
    ["git --some-new-option x push", "not an option git knows"],
    ["git p origin", "may be an alias"],
    ["GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.p GIT_CONFIG_VALUE_0=push git p", "may be an alias"],
  ])("%j cannot be parsed, so it is denied (%s)", (command, reason) => {
    const decision = decidePermission(defaults, "Bash", { command })
    expect(decision.behavior).toBe("deny")
    if (decision.behavior === "deny") {
      expect(decision.message).toContain("could not parse")
      expect(decision.message).toContain(reason)
      expect(decision.message).toContain("simpler form")
    }
  })

  it.each([
    "git status",
    "git -C sub log --oneline",
    "git commit -m 'push the button'",
    "npm test && git add -A && git commit -m wip",
    "grep -rn push docs",
    "git log --grep=push",
    "git -c color.ui=never diff",
    "git lfs ls-files",
    "git-absorb --and-rebase",
    "for f in *.ts; do git add $f; done",
    "[ -f x ] && echo ok",
    "find . -name '*.ts' -exec git add {} +",
    // How Claude Code commits: the message from a quoted here-document, through $(cat ...).
    "git commit -m \"$(cat <<'EOF'\nFix the thing\n\nMore text.\nEOF\n)\"",
    "git add -A && git commit -m \"$(cat <<'EOF'\nFix the thing\n\nCo-Authored-By: A Person <a@example.com>\nEOF\n)\"",
    'git commit -m "$(cat <<"EOF"\n  Indented $HOME `stays`\nEOF\n)"',
    'git commit -m "$(cat <<-\\EOF\n\tTabbed\n\tEOF\n)"',
    "git commit -F - <<'EOF'\nFix the thing\n\nCo-Authored-By: A Person <a@example.com>\nEOF",
    "git commit -F - <<EOF\nPlain text, nothing expanded\nEOF",
    "git commit -m \"$(printf 'Fix %s\\n\\nMore' thing)\"",
    "git commit -m \"`printf 'Fix it'`\"",
    'echo "$(git rev-parse HEAD)" > head.txt',
    'x=$(git status --short) && echo "$x"',
    "git log -1 --format=%H $(git merge-base HEAD main)",
    "sh <<'EOF'\nnpm test\nEOF",
  ])("%j is allowed", (command) => {
    // (The raw line is matched too, so `echo git push` stays denied, as before.)
    expect(decidePermission(defaults, "Bash", { command })).toEqual({ behavior: "allow" })
  })

  it("a push inside a substitution, or in a here-document a shell runs, is never allowed", () => {
    // Split so that the line as written never shows `git push`: only the parsed commands can.
    const push = fc.oneof(pushLine, fc.constantFrom("git pu''sh", "git 'pu'sh origin", "env git pu\\sh"))
    type Wrap = (inner: string) => string
    // Backticks do not nest without backslashes, which are refused: they only wrap a line without them.
    const backticks: Wrap = (inner) => (inner.includes("`") ? inner : `echo \`${inner}\``)
    const wrap = fc.constantFrom<Wrap>(
      backticks,
      (inner) => `echo "$(${inner})"`,
      (inner) => `echo $(${inner})`,
      (inner) => `git commit -m "$(${inner})"`,
      (inner) => `x=$(${inner})`,
      (inner) => `npm test "$(${inner})"`,
      (inner) => `$(${inner})`,
      (inner) => `sh <<'EOF'\n${inner}\nEOF`,
      (inner) => `bash <<EOF\n${inner}\nEOF`,
      (inner) => `sh -c "$(cat <<'EOF'\n${inner}\nEOF\n)"`,
      (inner) => `cat <<'EOF' | sh\n${inner}\nEOF`,
    )
    const open: PermissionPolicy = {
      default: "allow",
      allow: ["Bash(npm *)", "Bash(echo *)"],
      deny: defaults.deny,
    }
    fc.assert(
      fc.property(push, fc.array(wrap, { minLength: 1, maxLength: 3 }), (inner, wraps) => {
        const command = wraps.reduce<string>((line, w) => w(line), inner)
        expect(decidePermission(defaults, "Bash", { command }).behavior).toBe("deny")
        expect(decidePermission(open, "Bash", { command }).behavior).toBe("deny")
      }),
    )
  })

  it("any commit message in a quoted here-document is allowed, the way Claude Code commits", () => {
    const line = fc.string({ unit: "binary", maxLength: 30 }).filter((l) => !l.includes("\n") && l !== "EOF")
    fc.assert(
      fc.property(fc.array(line, { maxLength: 6 }), fc.boolean(), (lines, viaStdin) => {
        const body = lines.join("\n")
        fc.pre(!/git\s+push/.test(body))
        const command = viaStdin
          ? `git commit -F - <<'EOF'\n${body}\nEOF`
          : `git add -A && git commit -m "$(cat <<'EOF'\n${body}\nEOF\n)"`
        expect(decidePermission(defaults, "Bash", { command })).toEqual({ behavior: "allow" })
      }),
    )
  })

  it("commands inside a substitution must be allowed too", () => {
    const npmOnly: PermissionPolicy = { default: "deny", allow: ["Bash(npm *)"], deny: [] }
    expect(decidePermission(npmOnly, "Bash", { command: 'npm test "$(curl x)"' }).behavior).toBe("deny")
    expect(decidePermission(npmOnly, "Bash", { command: 'npm test "$(npm bin)"' }).behavior).toBe("allow")
  })

  it("the unparsable rule holds whatever the rules allow", () => {
    const open: PermissionPolicy = { default: "allow", allow: ["Bash"], deny: [] }
    expect(decidePermission(open, "Bash", { command: "$(echo git) push" }).behavior).toBe("deny")
    expect(decidePermission(open, "Bash", { command: "git push" })).toEqual({
      behavior: "allow",
      rule: "Bash",
    })
  })

  it("an allow rule must match every command the line runs", () => {
    const npmOnly: PermissionPolicy = { default: "deny", allow: ["Bash(npm *)"], deny: [] }
    expect(decidePermission(npmOnly, "Bash", { command: "npm test && npm run lint" })).toEqual({
      behavior: "allow",
      rule: "Bash(npm *)",
    })
    expect(decidePermission(npmOnly, "Bash", { command: "npm  test" }).behavior).toBe("allow")
    expect(decidePermission(npmOnly, "Bash", { command: "npm test; curl example.com" }).behavior).toBe("deny")
    expect(decidePermission(npmOnly, "Bash", { command: "sh -c 'npm test'" }).behavior).toBe("allow")
    expect(decidePermission(npmOnly, "Bash", { command: "sh -c 'npm test; rm -rf x'" }).behavior).toBe("deny")
    expect(decidePermission(npmOnly, "Bash", { command: "bash <<'EOF'\nnpm test\nEOF" }).behavior).toBe(
      "allow",
    )
    expect(
      decidePermission(npmOnly, "Bash", { command: "bash <<'EOF'\nnpm test\nrm -rf x\nEOF" }).behavior,
    ).toBe("deny")
  })

  it("user rules match each command's normalised text as well as the raw line", () => {
    const custom: PermissionPolicy = { default: "allow", allow: [], deny: ["Bash(rm -rf *)", "Bash(curl *)"] }
    expect(decidePermission(custom, "Bash", { command: "rm  -rf   build" }).behavior).toBe("deny")
    expect(decidePermission(custom, "Bash", { command: "make && /usr/bin/curl x" }).behavior).toBe("deny")
    expect(decidePermission(custom, "Bash", { command: "echo rm -rf x" }).behavior).toBe("allow")
  })
})
