// test/transports/mcp/claudeDecision.test.ts — the real Claude Code CLI (against the fake model API) asks
// huskies' prompt_permission for a command an ask rule names: its call waits until a person answers with
// answer_decision over /mcp, and the agent's tool runs (allow) or gets the refusal naming who (deny).
import { randomUUID } from "node:crypto"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  type FakeAnthropic,
  startFakeAnthropic,
  toolResultsOf,
  toolResultText,
} from "../../fakes/anthropic.js"
import { runClaude, writeMcpConfig } from "../../support/claude.js"
import { withServer } from "../../support/server.js"
import { eventuallyPromise } from "../../support/waits.js"

let fake: FakeAnthropic
beforeAll(async () => {
  fake = await startFakeAnthropic()
})
afterAll(async () => {
  await fake.close()
})

interface Listed {
  readonly pending: ReadonlyArray<{ readonly decision_id: string; readonly tool_name?: string }>
  readonly recent: ReadonlyArray<{ readonly answer?: { readonly verdict: string; readonly by: string } }>
}

/** A person's MCP client, named as the record will name them. */
const personClient = async (url: string) => {
  const client = new Client({ name: "alice-console", version: "1" })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)))
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name, arguments: args })
    if (result.isError === true) throw new Error(`${name}: ${JSON.stringify(result.content)}`)
    return result.structuredContent as Record<string, unknown>
  }
  return { call, close: () => client.close() }
}

const askedRun = (verdict: "allow" | "deny") =>
  withServer(async ({ url, root }) => {
    await writeFile(join(root, ".huskies", "project.toml"), '[permissions]\nask = ["Bash(echo asked*)"]\n')
    const sessionId = randomUUID()
    fake.script(sessionId, [
      { toolUses: [{ name: "Bash", input: { command: "echo asked > proof.txt && cat proof.txt" } }] },
      { text: "Done." },
    ])
    const mcpConfig = await writeMcpConfig(root, { huskies: { url: `${url}/mcp` } })
    const running = runClaude({
      baseUrl: fake.url,
      prompt: "Write the proof file.",
      cwd: root,
      sessionId,
      mcpConfig,
      strictMcpConfig: true,
      extraArgs: ["--permission-prompt-tool", "mcp__huskies__prompt_permission"],
    })
    const person = await personClient(url)
    try {
      // The CLI is another process: its request shows up in the list, which is polled.
      const pending = await eventuallyPromise("the agent's request to be pending", async () => {
        const listed = (await person.call("list_decisions", {})) as unknown as Listed
        return listed.pending[0]
      })
      expect(pending.tool_name).toBe("Bash")
      await person.call("answer_decision", { decision_id: pending.decision_id, verdict })
      const run = await running
      expect(run.exitCode, run.stderr).toBe(0)
      const listed = (await person.call("list_decisions", {})) as unknown as Listed
      expect(listed.recent[0]?.answer).toMatchObject({ verdict, by: "mcp:alice-console" })
      const [second] = fake.requestsFor(sessionId, "main").slice(1)
      return { run, result: toolResultsOf(second!)[0]! }
    } finally {
      await person.close()
    }
  })

describe("Claude Code asking a person through huskies", () => {
  it("runs the command once a person allows it", async () => {
    const { run, result } = await askedRun("allow")
    expect(run.result?.permission_denials).toEqual([])
    expect(result.is_error, toolResultText(result)).toBeFalsy()
    expect(toolResultText(result)).toContain("asked")
  }, 90_000)

  it("gets the refusal, naming who refused, when a person denies it", async () => {
    const { run, result } = await askedRun("deny")
    expect(run.result?.permission_denials.length).toBe(1)
    expect(toolResultText(result)).toContain("was refused by mcp:alice-console")
  }, 90_000)
})
