// test/transports/mcp/claudeCode.test.ts — the real Claude Code CLI (against the fake model API)
// connected to a real huskies server over /mcp: it sees the huskies tools, a scripted call files a
// work item in the Store, and a bad call gets the field-level error back as its tool result.
import { randomUUID } from "node:crypto"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Redacted } from "effect"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mcpConfig } from "../../../src/layers/runtimes/claudeCode.js"
import {
  type FakeAnthropic,
  startFakeAnthropic,
  toolResultsOf,
  toolResultText,
} from "../../fakes/anthropic.js"
import { runClaude, writeMcpConfig } from "../../support/claude.js"
import { withServer } from "../../support/server.js"

let fake: FakeAnthropic
beforeAll(async () => {
  fake = await startFakeAnthropic()
})
afterAll(async () => {
  await fake.close()
})

const listItems = async (url: string, token?: string) => {
  const client = new Client({ name: "check", version: "1.0.0" })
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` }
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }))
  try {
    const result = await client.callTool({ name: "list_items", arguments: {} })
    return (result.structuredContent as { items: Array<{ id: string; name: string; stage: string }> }).items
  } finally {
    await client.close()
  }
}

describe("Claude Code over /mcp", () => {
  it("lists the huskies tools as connected and files a work item with create_story", async () => {
    await withServer(async ({ url, root }) => {
      const sessionId = randomUUID()
      fake.script(sessionId, [
        {
          toolUses: [
            {
              name: "mcp__huskies__create_story",
              input: {
                name: "Add login",
                user_story: "As a user I want to log in",
                acceptance_criteria: ["can log in"],
                front_matter: { priority: 1, labels: ["auth"] },
              },
            },
          ],
        },
        { text: "Filed it." },
      ])
      const mcpConfig = await writeMcpConfig(root, { huskies: { url: `${url}/mcp` } })
      const run = await runClaude({
        baseUrl: fake.url,
        prompt: "File a story for login.",
        cwd: root,
        sessionId,
        mcpConfig,
        strictMcpConfig: true,
        allowedTools: ["mcp__huskies__create_story"],
      })
      expect(run.exitCode, run.stderr).toBe(0)
      expect(run.init?.mcp_servers).toContainEqual({ name: "huskies", status: "connected" })
      for (const tool of ["create_story", "update_story", "status", "get_pipeline_status", "move_story"]) {
        expect(run.init?.tools).toContain(`mcp__huskies__${tool}`)
      }
      expect(run.result?.is_error).toBe(false)
      const [second] = fake.requestsFor(sessionId, "main").slice(1)
      expect(second).toBeDefined()
      const [toolResult] = toolResultsOf(second!)
      expect(toolResultText(toolResult!)).toContain("1_story_add_login")
      expect(await listItems(url)).toEqual([
        expect.objectContaining({ id: "1_story_add_login", name: "Add login", stage: "Backlog" }),
      ])
    })
  }, 90_000)

  it("reaches a server that needs a token through the .mcp.json huskies writes for its agents", async () => {
    const token = "claude-agent-token-0123456789"
    await withServer(
      async ({ url, root }) => {
        const sessionId = randomUUID()
        fake.script(sessionId, [
          { toolUses: [{ name: "mcp__huskies__create_story", input: { name: "Behind the guard" } }] },
          { text: "Filed it." },
        ])
        // What the claude-code runtime writes into a worktree: the header names HUSKIES_TOKEN only.
        const config = join(root, "agent-mcp.json")
        await writeFile(config, JSON.stringify(mcpConfig(`${url}/mcp`, "HUSKIES_TOKEN")))
        const options = {
          baseUrl: fake.url,
          prompt: "File a story.",
          cwd: root,
          mcpConfig: config,
          strictMcpConfig: true,
          allowedTools: ["mcp__huskies__create_story"],
        }
        const without = await runClaude({ ...options, env: { HUSKIES_TOKEN: undefined } })
        expect(without.init?.mcp_servers).not.toContainEqual({ name: "huskies", status: "connected" })
        const run = await runClaude({ ...options, sessionId, env: { HUSKIES_TOKEN: token } })
        expect(run.exitCode, run.stderr).toBe(0)
        expect(run.init?.mcp_servers).toContainEqual({ name: "huskies", status: "connected" })
        expect(await listItems(url, token)).toEqual([
          expect.objectContaining({ id: "1_story_behind_the_guard", name: "Behind the guard" }),
        ])
      },
      { access: { token: Redacted.make(token) } },
    )
  }, 90_000)

  it("gets the field-level error back as the tool result for a bad call, and nothing is filed", async () => {
    await withServer(async ({ url, root }) => {
      const sessionId = randomUUID()
      fake.script(sessionId, [
        {
          toolUses: [
            {
              name: "mcp__huskies__create_story",
              input: { name: "Typo", descripton: "this text must not be lost" },
            },
          ],
        },
        { text: "I see the error." },
      ])
      const mcpConfig = await writeMcpConfig(root, { huskies: { url: `${url}/mcp` } })
      const run = await runClaude({
        baseUrl: fake.url,
        prompt: "File a story with a description.",
        cwd: root,
        sessionId,
        mcpConfig,
        strictMcpConfig: true,
        allowedTools: ["mcp__huskies__create_story"],
      })
      expect(run.exitCode, run.stderr).toBe(0)
      const [second] = fake.requestsFor(sessionId, "main").slice(1)
      const [toolResult] = toolResultsOf(second!)
      expect(toolResult?.is_error).toBe(true)
      expect(toolResultText(toolResult!)).toContain('unknown parameter "descripton"')
      expect(toolResultText(toolResult!)).toContain("description?: string")
      expect(await listItems(url)).toEqual([])
    })
  }, 90_000)

  it("asks huskies' prompt_permission before running a tool it has no standing permission for", async () => {
    await withServer(async ({ url, root }) => {
      const sessionId = randomUUID()
      fake.script(sessionId, [
        { toolUses: [{ name: "Bash", input: { command: "echo permitted > proof.txt && cat proof.txt" } }] },
        { text: "Done." },
      ])
      const mcpConfig = await writeMcpConfig(root, { huskies: { url: `${url}/mcp` } })
      const run = await runClaude({
        baseUrl: fake.url,
        prompt: "Write the proof file.",
        cwd: root,
        sessionId,
        mcpConfig,
        strictMcpConfig: true,
        extraArgs: ["--permission-prompt-tool", "mcp__huskies__prompt_permission"],
      })
      expect(run.exitCode, run.stderr).toBe(0)
      expect(run.result?.permission_denials).toEqual([])
      const [second] = fake.requestsFor(sessionId, "main").slice(1)
      const [toolResult] = toolResultsOf(second!)
      expect(toolResult?.is_error, toolResultText(toolResult!)).toBeFalsy()
      expect(toolResultText(toolResult!)).toContain("permitted")
    })
  }, 90_000)
})
