// test/domain/gitArgv.test.ts — git's command line read as git reads it: global options in either form
// set aside from the subcommand, `--help`/`--version` as the subcommands git makes of them, and
// command-line aliases found case-insensitively.
import { describe, expect, it } from "@effect/vitest"
import { commandLineAlias, gitCommands, parseGitArgv } from "../../src/domain/gitArgv.js"

describe("parseGitArgv", () => {
  it.each([
    [["status"], [], "status", []],
    [["-C", ".", "push", "origin"], [{ option: "-C", value: "." }], "push", ["origin"]],
    [
      ["--git-dir=.git", "--work-tree", "x", "log"],
      [
        { option: "--git-dir", value: ".git" },
        { option: "--work-tree", value: "x" },
      ],
      "log",
      [],
    ],
    [["-c", "alias.p=push", "p"], [{ option: "-c", value: "alias.p=push" }], "p", []],
    [
      ["--no-pager", "-p", "--exec-path=/tmp", "diff"],
      [
        { option: "--no-pager", value: undefined },
        { option: "-p", value: undefined },
        { option: "--exec-path", value: "/tmp" },
      ],
      "diff",
      [],
    ],
    [
      ["--config-env=core.editor=ED", "commit"],
      [{ option: "--config-env", value: "core.editor=ED" }],
      "commit",
      [],
    ],
    [["--version"], [], "version", []],
    [["-C", "x", "log", "--help"], [{ option: "-C", value: "x" }], "help", ["log"]],
    [["log", "--", "push"], [], "log", ["--", "push"]],
  ] as const)("git %j", (args, globals, subcommand, rest) => {
    expect(parseGitArgv(args)).toMatchObject({ _tag: "Invocation", globals, subcommand, args: rest })
  })

  it("reports options git does not know and options missing their value", () => {
    expect(parseGitArgv(["--frobnicate", "push"])).toMatchObject({
      _tag: "BadOption",
      option: "--frobnicate",
    })
    expect(parseGitArgv(["-C"])).toMatchObject({ _tag: "BadOption", reason: "-C needs a value" })
    expect(parseGitArgv(["--exec-path"])).toEqual({
      _tag: "NoSubcommand",
      globals: [{ option: "--exec-path", value: undefined }],
    })
  })

  it("finds aliases defined on the command line, the last one winning", () => {
    const parsed = parseGitArgv(["-c", "alias.P=log", "-c", "Alias.p=push", "--config-env=alias.q=X", "p"])
    if (parsed._tag !== "Invocation") throw new Error("expected an invocation")
    expect(commandLineAlias(parsed.globals, "p")).toEqual({ value: "push", fromEnvironment: false })
    expect(commandLineAlias(parsed.globals, "q")).toEqual({ value: undefined, fromEnvironment: true })
    expect(gitCommands.has("push") && gitCommands.has("status") && !gitCommands.has("p")).toBe(true)
  })
})
