// test/transports/cli/mcpConfig.test.ts — `huskies mcp-config`: prints the client config for the
// project's port, and --write merges it into .mcp.json without touching other servers.
import { afterEach, describe, expect, it } from "vitest"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { runCli } from "../../support/cli.js"
import { tempDir } from "../../support/tempDir.js"

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

const project = (projectToml = "") => {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  mkdirSync(join(dir, ".huskies"))
  writeFileSync(join(dir, ".huskies", "project.toml"), projectToml)
  return dir
}

describe("huskies mcp-config", () => {
  it("prints the .mcp.json for the project's configured port", async () => {
    const dir = project("[server]\nport = 4123\n")
    const result = await runCli(["mcp-config", dir])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({
      mcpServers: { huskies: { type: "http", url: "http://127.0.0.1:4123/mcp" } },
    })
  })

  it("--write merges the huskies entry and keeps the user's other servers", async () => {
    const dir = project()
    writeFileSync(
      join(dir, ".mcp.json"),
      JSON.stringify({ mcpServers: { other: { type: "stdio", command: "x" } }, note: "mine" }),
    )
    const result = await runCli(["mcp-config", "--write", "--port", "3555", dir])
    expect(result.code).toBe(0)
    expect(JSON.parse(readFileSync(join(dir, ".mcp.json"), "utf8"))).toEqual({
      note: "mine",
      mcpServers: {
        other: { type: "stdio", command: "x" },
        huskies: { type: "http", url: "http://127.0.0.1:3555/mcp" },
      },
    })
  })

  it("refuses to overwrite a .mcp.json that is not JSON, naming the file", async () => {
    const dir = project()
    writeFileSync(join(dir, ".mcp.json"), "{ not json")
    const result = await runCli(["mcp-config", "--write", dir])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(".mcp.json")
    expect(result.stderr).toContain("not valid JSON")
    expect(readFileSync(join(dir, ".mcp.json"), "utf8")).toBe("{ not json")
  })
})
