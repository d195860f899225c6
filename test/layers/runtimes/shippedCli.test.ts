// test/layers/runtimes/shippedCli.test.ts — how a runtime's program is found: the user's PATH first, then
// the CLI installed with huskies (found from huskies' own location, not from PATH), else a clear refusal.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { chmodSync, mkdirSync, realpathSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { resolveProgram } from "../../../src/actors/agentFiles.js"
import { shippedCli, shippedPackages } from "../../../src/layers/runtimes/shippedCli.js"
import { withTempDir } from "../../support/tempDir.js"

const repoRoot = realpathSync(new URL("../../..", import.meta.url).pathname)
const script = (path: string, text: string) => {
  writeFileSync(path, text)
  chmodSync(path, 0o755)
}

describe("shippedCli", () => {
  it("finds each CLI runtime in huskies' own node_modules, whatever PATH says", () => {
    for (const [runtime, { program }] of Object.entries(shippedPackages)) {
      expect(shippedCli(runtime as keyof typeof shippedPackages)).toBe(
        join(repoRoot, "node_modules", ".bin", program),
      )
    }
    expect(shippedCli("command")).toBeUndefined()
  })

  it("takes the .bin link beside the package, else the package's own bin file, and nothing without it", () =>
    withTempDir((dir) => {
      const from = (root: string) => pathToFileURL(join(root, "app", "main.js")).href
      const install = (root: string) => {
        const pkg = join(root, "node_modules", "@anthropic-ai", "claude-code")
        mkdirSync(join(pkg, "bin"), { recursive: true })
        writeFileSync(join(pkg, "package.json"), JSON.stringify({ bin: { claude: "bin/claude.exe" } }))
        script(join(pkg, "bin", "claude.exe"), "#!/bin/sh\n")
        return pkg
      }
      // A `claude` in a .bin with no Claude Code package beside it belongs to something else.
      const linked = join(dir, "linked")
      mkdirSync(join(linked, "node_modules", ".bin"), { recursive: true })
      script(join(linked, "node_modules", ".bin", "claude"), "#!/bin/sh\n")
      expect(shippedCli("claude-code", from(linked))).toBeUndefined()
      install(linked)
      expect(shippedCli("claude-code", from(linked))).toBe(join(linked, "node_modules", ".bin", "claude"))
      // Installed without bin links (npm --no-bin-links): the package's own file.
      const unlinked = join(dir, "unlinked")
      const pkg = install(unlinked)
      expect(shippedCli("claude-code", from(unlinked))).toBe(join(pkg, "bin", "claude.exe"))
      expect(shippedCli("codex", from(unlinked))).toBeUndefined()
    }))
})

describe("resolveProgram", () => {
  it("takes the user's PATH first, then huskies' own CLI, else says what is missing", () =>
    withTempDir((dir) => {
      const userBin = join(dir, "user-bin")
      mkdirSync(userBin)
      const shipped = join(repoRoot, "node_modules", ".bin", "claude")
      const noClaude = { PATH: "/usr/bin:/bin" }
      expect(resolveProgram("claude", dir, noClaude, shipped)).toEqual(
        Either.right({ command: shipped, args: [] }),
      )
      script(join(userBin, "claude"), "#!/bin/sh\n")
      expect(resolveProgram("claude", dir, { PATH: `${userBin}:/usr/bin` }, shipped)).toEqual(
        Either.right({ command: "claude", args: [] }),
      )
      expect(resolveProgram("claude", dir, noClaude)).toEqual(
        Either.left(
          "the program claude is not an executable file on its PATH (check that it is installed, or fix the agent's command in agents.toml)",
        ),
      )
      const gone = join(dir, "gone", "claude")
      expect(Either.getLeft(resolveProgram("claude", dir, noClaude, gone))).toEqual(
        expect.objectContaining({ value: expect.stringContaining(`nor at ${gone}`) }),
      )
    }))

  it("runs a Node script of huskies' own on huskies' node, so node need not be on PATH", () =>
    withTempDir((dir) => {
      const gemini = join(dir, "gemini.js")
      script(gemini, "#!/usr/bin/env node\nconsole.log(1)\n")
      expect(resolveProgram("gemini", dir, { PATH: "" }, gemini)).toEqual(
        Either.right({ command: process.execPath, args: [gemini] }),
      )
    }))
})
