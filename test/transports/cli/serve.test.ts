// test/transports/cli/serve.test.ts — the real `huskies serve` process: /health answers, the node id
// survives a kill -9 and restart, and an uninitialised project gets a clear error.
import { describe, expect, it } from "vitest"
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { runCli, type RunningServer, startServer } from "../../support/cli.js"
import { emptyProject, useCleanups } from "../../support/cleanups.js"
import { tempDir } from "../../support/tempDir.js"

const defer = useCleanups()

const project = () => emptyProject(defer)

const serve = async (args: ReadonlyArray<string>): Promise<RunningServer> => {
  const server = await startServer(args)
  defer(() => server.kill("SIGKILL"))
  return server
}

describe("huskies init + serve, as a new user runs them", () => {
  it("init scaffolds a git repo, serve reads its project.toml and answers /health", async () => {
    const { dir, cleanup } = tempDir()
    defer(cleanup)
    execFileSync("git", ["-c", "init.defaultBranch=main", "init", "-q", dir])
    writeFileSync(join(dir, "package.json"), JSON.stringify({ scripts: { test: "node -e 0" } }))
    const init = await runCli(["init", dir])
    expect(init.code).toBe(0)
    expect(init.stdout).toContain("created  .huskies/project.toml")
    expect(init.stdout).toContain("test command: npm test")
    const toml = readFileSync(join(dir, ".huskies", "project.toml"), "utf8")
    // An unknown key is refused with the file, the key and the fix.
    writeFileSync(join(dir, ".huskies", "project.toml"), `${toml}\nbogus_key = 1\n`)
    const refused = await runCli(["serve", dir])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("project.toml")
    expect(refused.stderr).toContain("bogus_key")
    writeFileSync(join(dir, ".huskies", "project.toml"), toml.replace(/port = \d+/, "port = 0"))
    const server = await serve([dir])
    const body = (await (await fetch(`${server.url}/health`)).json()) as Record<string, unknown>
    expect(body["projectRoot"]).toBe(dir)
    expect(body["status"]).toBe("ok")
  })
})

describe("huskies serve", () => {
  it("answers /health with version, commit, node id, project root and uptime", async () => {
    const dir = project()
    const server = await serve(["serve", "--port", "0", dir])
    const res = await fetch(`${server.url}/health`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body["status"]).toBe("ok")
    expect(body["version"]).toMatch(/^\d+\.\d+\.\d+/)
    expect(body["commit"]).toMatch(/^([0-9a-f]{40}(-dirty)?|unknown)$/)
    expect(body["nodeId"]).toMatch(/^node-/)
    expect(body["projectRoot"]).toBe(dir)
    expect(typeof body["uptimeSeconds"]).toBe("number")
    expect(server.output()).toMatch(/INFO +\[server\] serving/)
    const missing = await fetch(`${server.url}/nope`)
    expect(missing.status).toBe(404)
  })

  it("keeps its node id across kill -9 and restart; `huskies <path>` also serves", async () => {
    const dir = project()
    const first = await serve(["--port", "0", dir])
    const before = (await (await fetch(`${first.url}/health`)).json()) as Record<string, unknown>
    await first.kill("SIGKILL")
    const second = await serve(["serve", "--port", "0", dir])
    const after = (await (await fetch(`${second.url}/health`)).json()) as Record<string, unknown>
    expect(after["nodeId"]).toBe(before["nodeId"])
  })

  it("refuses a directory without .huskies/ and says to run init", async () => {
    const { dir, cleanup } = tempDir()
    defer(cleanup)
    const result = await runCli(["serve", dir])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain("run `huskies init")
    expect(result.stderr).not.toContain("    at ")
  })

  it("prints its version", async () => {
    const result = await runCli(["--version"])
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })
})
