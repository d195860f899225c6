// test/reliability/outsideCheck.test.ts — the outside test's reproductions, replayed against the real
// `huskies serve` from bin/ as an attacker or a careless client would send them: a rebound Host, git
// aliases and -c through run_command, push variants through prompt_permission, a path as an agent
// name, and hundreds of clients that connect and go away. Each one was served before the hardening.
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningServer, startServer } from "../support/cli.js"
import { tempDir } from "../support/tempDir.js"

const gitEnv = {
  GIT_AUTHOR_NAME: "huskies test",
  GIT_AUTHOR_EMAIL: "test@huskies.invalid",
  GIT_COMMITTER_NAME: "huskies test",
  GIT_COMMITTER_EMAIL: "test@huskies.invalid",
}

let server: RunningServer
let client: Client
let root = ""
let remote = ""
let cleanup = () => {}

const connect = async (): Promise<Client> => {
  const c = new Client({ name: "outside-check", version: "1" })
  await c.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)))
  return c
}

const call = async (name: string, args: Record<string, unknown>) => {
  const result = await client.callTool({ name, arguments: args })
  const text = (result.content as ReadonlyArray<{ text?: string }>).map((c) => c.text ?? "").join("\n")
  return {
    isError: result.isError === true,
    text,
    value: result.structuredContent as Record<string, unknown>,
  }
}

const git = (cwd: string, ...args: Array<string>) =>
  execFileSync("git", args, { cwd, env: { ...process.env, ...gitEnv }, stdio: "pipe" })
    .toString()
    .trim()

beforeAll(async () => {
  const temp = tempDir()
  cleanup = temp.cleanup
  root = join(temp.dir, "repo")
  remote = join(temp.dir, "remote.git")
  mkdirSync(root)
  git(temp.dir, "init", "-q", "--bare", remote)
  git(root, "-c", "init.defaultBranch=main", "init", "-q")
  writeFileSync(join(root, ".gitignore"), ".huskies/\n")
  git(root, "add", ".gitignore")
  git(root, "commit", "-q", "-m", "start")
  git(root, "remote", "add", "origin", remote)
  mkdirSync(join(root, ".huskies"))
  writeFileSync(join(root, ".huskies", "project.toml"), `base_branch = "main"\nauto_assign = false\n`)
  server = await startServer(["serve", "--port", "0", root], { env: { ...process.env, ...gitEnv } })
  client = await connect()
}, 60_000)

afterAll(async () => {
  await client?.close().catch(() => undefined)
  await server?.kill("SIGKILL")
  cleanup()
})

describe("the outside test's reproductions, against the real server", () => {
  it("1. a DNS-rebinding page gets 403 for initialize and can file nothing", async () => {
    const port = new URL(server.url).port
    const response = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: {
        host: `evil.example:${port}`,
        origin: "http://evil.example",
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "evil", version: "1" },
        },
      }),
    })
    expect(response.status).toBe(403)
    expect(await response.text()).toContain("allowed_hosts")
    const items = await call("list_items", {})
    expect(items.value["total"]).toBe(0)
  })

  it("3. run_command reaches no shell through a git alias, and -c alias.p=push pushes nothing", async () => {
    const created = await call("create_story", { name: "Alias target" })
    const id = String(created.value["story_id"])
    expect((await call("create_worktree", { story_id: id })).isError).toBe(false)
    const worktree = join(root, ".huskies", "worktrees", id)
    const attempts = [
      ["git", "config", "alias.x", "!id > pwned.txt"],
      ["git", "x"],
      ["git", "-c", "alias.p=push", "p"],
      ["git", "-c", "alias.p=!id > pwned.txt", "p"],
      ["git", "push", "origin", "HEAD"],
    ]
    for (const command of attempts) {
      const result = await call("run_command", { story_id: id, command })
      expect(result.isError, `${JSON.stringify(command)} was run: ${result.text}`).toBe(true)
    }
    expect(existsSync(join(worktree, "pwned.txt"))).toBe(false)
    expect(git(remote, "for-each-ref")).toBe("")
  })

  it("4. prompt_permission denies every variant of git push under the default rules", async () => {
    const variants = [
      "git push",
      "git -C . push",
      "git  push",
      "git\tpush",
      "git send-pack origin main",
      "sh -c 'git pu''sh'",
      "/usr/bin/git push",
      "env git push",
      "GIT_DIR=.git git push",
      "git --git-dir=.git push",
      "git -c alias.p=push p",
      "nohup git push &",
      "true && git push",
      "$(echo git) push",
    ]
    const allowed: Array<string> = []
    for (const command of variants) {
      const result = await call("prompt_permission", { tool_name: "Bash", input: { command } })
      if (!result.text.includes('"deny"')) allowed.push(`${command}: ${result.text}`)
    }
    expect(allowed).toEqual([])
    const harmless = await call("prompt_permission", { tool_name: "Bash", input: { command: "npm test" } })
    expect(harmless.text).toContain('"allow"')
  })

  it("6. an agent name that is a path, or holds a NUL, is refused where it enters", async () => {
    for (const agent of ["../../../bin/sh", "coder\u0000-1"]) {
      const result = await call("create_story", { name: "Pinned", agent })
      expect(result.isError).toBe(true)
      expect(result.text).toContain("agent")
    }
    const log = await call("get_agent_log", { story_id: "1_story_alias_target", agent: "../../etc/passwd" })
    expect(log.isError).toBe(true)
  })

  it("8. 400 clients that connect and leave (most without a DELETE) never lock the next one out", async () => {
    for (let i = 0; i < 400; i++) {
      const c = await connect()
      await c.callTool({ name: "get_version", arguments: {} })
      // A quarter end their session as the protocol says (DELETE); the rest just close their streams.
      if (i % 4 === 0) await (c.transport as StreamableHTTPClientTransport).terminateSession()
      await c.close()
    }
    const late = await connect()
    const version = await late.callTool({ name: "get_version", arguments: {} })
    expect(version.isError).not.toBe(true)
    await late.close()
  }, 120_000)
})
