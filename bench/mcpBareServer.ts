// bench/mcpBareServer.ts — the baseline for bench/mcpLatency.ts: the MCP SDK alone (its `Server`
// and `StreamableHTTPServerTransport`, one per session) on plain node:http, with a cheap tool and a
// `status`-like tool that returns a recorded huskies status. Run as its own process.
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { randomUUID } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"

// argv: <project root> <file holding the item records to serve, as JSON { id: statusObject }>
const [root = ".", itemsFile] = process.argv.slice(2)
const items = new Map<string, Record<string, unknown>>(
  Object.entries(
    itemsFile === undefined
      ? {}
      : (JSON.parse(readFileSync(itemsFile, "utf8")) as Record<string, Record<string, unknown>>),
  ),
)
const nodeId = `node-${randomUUID()}`

type ToolResult = { content: Array<{ type: "text"; text: string }>; isError?: boolean }

const ok = (value: Record<string, unknown>) => ({
  content: [{ type: "text" as const, text: JSON.stringify(value, null, 2) }],
  structuredContent: value,
})
const fail = (text: string): ToolResult => ({ content: [{ type: "text", text }], isError: true })

/** Arguments must be an object holding exactly `allowed` keys: what huskies' strict decode checks. */
const checkArgs = (args: Record<string, unknown>, allowed: ReadonlyArray<string>) =>
  Object.keys(args).every((k) => allowed.includes(k))

const tools = {
  get_version: (args: Record<string, unknown>) =>
    checkArgs(args, []) ? ok({ version: "0.1.0", commit: "bench", node_id: nodeId }) : fail("bad args"),
  status: (args: Record<string, unknown>) => {
    const id = args["story_id"]
    if (!checkArgs(args, ["story_id"]) || typeof id !== "string") return fail("bad args")
    const item = items.get(id)
    if (item === undefined) return fail(`no work item ${id}`)
    // Same reads as huskies' status: the stored record, and whether a worktree exists on disk.
    const worktree = existsSync(join(root, ".huskies", "worktrees", id)) ? { path: id } : null
    return ok({ ...item, worktree })
  },
} as const

const newServer = () => {
  const server = new Server({ name: "bare", version: "0.1.0" }, { capabilities: { tools: {} } })
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: Object.keys(tools).map((name) => ({ name, inputSchema: { type: "object" as const } })),
  }))
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const name = request.params.name
    const args = request.params.arguments ?? {}
    return name === "get_version" || name === "status" ? tools[name](args) : fail(`unknown tool ${name}`)
  })
  return server
}

const sessions = new Map<string, StreamableHTTPServerTransport>()

const http = createServer((req, res) => {
  void (async () => {
    if (req.url !== "/mcp") {
      res.writeHead(404).end()
      return
    }
    const header = req.headers["mcp-session-id"]
    const id = Array.isArray(header) ? header[0] : header
    const existing = id === undefined ? undefined : sessions.get(id)
    if (existing !== undefined) return existing.handleRequest(req, res)
    if (id !== undefined) {
      res.writeHead(404, { "content-type": "application/json" })
      res.end(
        JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }),
      )
      return
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => void sessions.set(sid, transport),
      onsessionclosed: (sid) => void sessions.delete(sid),
    })
    await newServer().connect(transport)
    await transport.handleRequest(req, res)
  })().catch((e: unknown) => {
    if (!res.headersSent) res.writeHead(500)
    res.end(String(e))
  })
})

http.listen(0, "127.0.0.1", () => {
  const { port } = http.address() as AddressInfo
  process.stdout.write(`bare MCP listening on http://127.0.0.1:${port}\n`)
})
process.on("SIGTERM", () => process.exit(0))
