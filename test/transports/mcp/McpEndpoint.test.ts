// test/transports/mcp/McpEndpoint.test.ts — /mcp with the MCP SDK's own client over real HTTP:
// tools are listed, calls reach the Store, bad calls return the field-level error as the tool
// result, and concurrent clients never see each other's responses. One server serves the file's tests.
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { TestServer, testServer } from "../../support/server.js"

const connect = async (url: string, name = "test-client") => {
  const client = new Client({ name, version: "1.0.0" })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)))
  return client
}

const text = (result: unknown): string => {
  const content = (result as { content: Array<{ type: string; text: string }> }).content
  return content.map((c) => c.text).join("\n")
}

/** Runs a promise-based check against the file's server. */
const onServer = (body: (url: string) => Promise<void>) =>
  Effect.flatMap(TestServer, ({ url }) => Effect.promise(() => body(url)))

// One server for the file: each test makes its own clients and items, and reads only what it made.
layer(testServer(), { excludeTestServices: true })("/mcp", (it) => {
  it.effect("lists the tools and files an item that status then shows", () =>
    onServer(async (url) => {
      const client = await connect(url)
      try {
        const { tools } = await client.listTools()
        const names = tools.map((t) => t.name)
        for (const expected of [
          "create_story",
          "create_bug",
          "create_spike",
          "create_refactor",
          "status",
          "get_version",
        ]) {
          expect(names).toContain(expected)
        }
        const created = await client.callTool({
          name: "create_story",
          arguments: {
            name: "Add login",
            acceptance_criteria: ["can log in"],
            front_matter: { priority: 1 },
          },
        })
        expect(created.isError).toBeFalsy()
        expect(created.structuredContent).toMatchObject({ stage: "Backlog" })
        const id = (created.structuredContent as { story_id: string }).story_id
        expect(id).toMatch(/^\d+_story_add_login$/)
        const status = await client.callTool({ name: "status", arguments: { story_id: id } })
        expect(status.structuredContent).toMatchObject({ name: "Add login", stage: { _tag: "Backlog" } })
        expect(text(status)).toContain("priority: 1")
      } finally {
        await client.close()
      }
    }),
  )

  it.effect("answers a bad call with the field-level error as the tool result", () =>
    onServer(async (url) => {
      const client = await connect(url)
      try {
        const result = await client.callTool({
          name: "create_story",
          arguments: { name: "x", description: 42 },
        })
        expect(result.isError).toBe(true)
        expect(text(result)).toContain('parameter "description"')
        const unknown = await client.callTool({
          name: "create_story",
          arguments: { name: "x", summary: "lost?" },
        })
        expect(unknown.isError).toBe(true)
        expect(text(unknown)).toContain('unknown parameter "summary"')
        const noTool = await client.callTool({ name: "no_such_tool", arguments: {} })
        expect(noTool.isError).toBe(true)
        expect(text(noTool)).toContain("available tools")
      } finally {
        await client.close()
      }
    }),
  )

  it.effect("keeps concurrent clients' responses apart (one server and transport per session)", () =>
    onServer(async (url) => {
      const clients = await Promise.all(Array.from({ length: 6 }, (_, i) => connect(url, `client-${i}`)))
      try {
        const results = await Promise.all(
          clients.flatMap((client, i) =>
            Array.from({ length: 5 }, (_, j) =>
              client
                .callTool({ name: "create_bug", arguments: { name: `client ${i} bug ${j}` } })
                .then((r) => ({ i, j, r })),
            ),
          ),
        )
        for (const { i, j, r } of results) {
          expect(r.isError).toBeFalsy()
          expect(String((r.structuredContent as { story_id: string }).story_id)).toMatch(
            new RegExp(`_bug_client_${i}_bug_${j}$`),
          )
        }
        const ids = new Set(results.map(({ r }) => (r.structuredContent as { story_id: string }).story_id))
        expect(ids.size).toBe(30)
      } finally {
        await Promise.all(clients.map((c) => c.close()))
      }
    }),
  )

  it.effect("refuses requests for unknown sessions and non-initialize requests without one", () =>
    onServer(async (url) => {
      const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" }
      const listBody = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
      const unknown = await fetch(`${url}/mcp`, {
        method: "POST",
        headers: { ...headers, "mcp-session-id": "not-a-session" },
        body: listBody,
      })
      expect(unknown.status).toBe(404)
      expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain("initialize")
      const noSession = await fetch(`${url}/mcp`, { method: "POST", headers, body: listBody })
      expect(noSession.status).toBe(400)
      const body = (await noSession.json()) as { jsonrpc: string; error: { code: number } }
      expect(body.jsonrpc).toBe("2.0")
      expect(typeof body.error.code).toBe("number")
      const get = await fetch(`${url}/mcp`, { headers: { accept: "text/event-stream" } })
      expect(get.status).toBe(400)
    }),
  )
})
