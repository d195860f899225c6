// test/domain/permissions.test.ts — the [permissions] policy: deny rules win, then allow rules, then the
// default; patterns match the Bash command or the file path, `*` anywhere.
import { describe, expect, it } from "@effect/vitest"
import { decidePermission, type PermissionPolicy } from "../../src/domain/permissions.js"

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

  it("patterns are matched literally except for *", () => {
    const strict: PermissionPolicy = {
      default: "deny",
      allow: ["Bash(ls (a).txt)", "Bash(echo $HOME)"],
      deny: [],
    }
    expect(decidePermission(strict, "Bash", { command: "ls (a).txt" }).behavior).toBe("allow")
    expect(decidePermission(strict, "Bash", { command: "ls xa).txt" }).behavior).toBe("deny")
    expect(decidePermission(strict, "Bash", { command: "echo $HOME" }).behavior).toBe("allow")
  })
})
