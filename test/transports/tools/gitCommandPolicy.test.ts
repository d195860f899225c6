// test/transports/tools/gitCommandPolicy.test.ts — run_command's git plan: the settings that switch off
// hooks and configured programs come first, pager options are dropped, the server's GIT_* variables
// are removed (identity aside), and what git would run as an alias or a push is refused.
import { describe, expect, it } from "@effect/vitest"
import {
  gitEnvironment,
  neutralisingConfig,
  planGit,
} from "../../../src/transports/tools/gitCommandPolicy.js"

const prefix = [...neutralisingConfig.flatMap((setting) => ["-c", setting]), "--no-pager"]

describe("planGit", () => {
  it.each([
    [["status"], [...prefix, "status"], []],
    [["-p", "-C", "src", "log", "-1"], [...prefix, "-C", "src", "log", "-1"], ["src"]],
    [["--namespace", "ns", "--no-pager", "show"], [...prefix, "--namespace=ns", "show"], []],
    [["diff", "--stat"], [...prefix, "diff", "--no-ext-diff", "--stat"], []],
    [["--version"], [...prefix, "version"], []],
    [["config", "--get", "user.name"], [...prefix, "config", "--get", "user.name"], []],
  ] as const)("git %j runs as git %j", (args, expected, directories) => {
    expect(planGit(args)).toEqual({ _tag: "Run", args: expected, directories })
  })

  it("switches off hooks, fsmonitor, pager, editor, ssh, askpass, credential helpers and ext:: remotes", () => {
    expect(neutralisingConfig).toEqual(
      expect.arrayContaining([
        "core.hooksPath=/dev/null",
        "core.fsmonitor=false",
        "core.pager=cat",
        "core.editor=:",
        "sequence.editor=:",
        "core.sshCommand=ssh",
        "core.askPass=",
        "credential.helper=",
        "protocol.ext.allow=never",
      ]),
    )
  })

  it.each([
    [["-c", "alias.p=push", "p"], "git -c is refused"],
    [["p"], "aliases are not run"],
    [["-C", ".", "push"], "git push is refused"],
    [["send-pack", "origin"], "git send-pack is refused"],
    [["config", "user.name", "x"], "not change them"],
    [["config", "--unset", "user.name"], "git config --unset is refused"],
    [["--exec-path=/tmp", "status"], "git --exec-path is refused"],
    [["hook", "run", "pre-commit"], "not one of the git commands"],
    [["branch", "-fD", "main"], "git branch -fD is refused"],
  ] as const)("git %j is refused (%s)", (args, why) => {
    const plan = planGit(args)
    expect(plan._tag).toBe("Refused")
    if (plan._tag === "Refused") expect(plan.message).toContain(why)
  })
})

describe("gitEnvironment", () => {
  it("removes every GIT_* variable but the identity ones, and never prompts", () => {
    expect(
      gitEnvironment({
        PATH: "/usr/bin",
        GIT_DIR: "/elsewhere",
        GIT_CONFIG_COUNT: "1",
        GIT_SSH_COMMAND: "sh -c id",
        GIT_EXEC_PATH: "/tmp",
        GIT_AUTHOR_NAME: "Ada",
        GIT_COMMITTER_EMAIL: "ada@example.com",
      }),
    ).toEqual({
      GIT_DIR: undefined,
      GIT_CONFIG_COUNT: undefined,
      GIT_SSH_COMMAND: undefined,
      GIT_EXEC_PATH: undefined,
      GIT_TERMINAL_PROMPT: "0",
    })
  })
})
