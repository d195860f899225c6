// test/layers/runtimes/support.ts — helpers for the runtime adapter tests: agent configs as agents.toml
// would give them, feeding parsers, running a built launch in a real PTY (node-pty, as AgentActor
// does), and a minimal MCP server that plays huskies' prompt_permission tool.
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { Effect, Schema, type Scope } from "effect"
import { mkdir, writeFile } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { dirname } from "node:path"
import * as pty from "node-pty"
import { AgentConfig } from "../../../src/domain/Config.js"
import type { AgentEvent } from "../../../src/layers/runtimes/agentEvents.js"
import type { BuildInput, LaunchSpec, StreamParser } from "../../../src/layers/runtimes/Runtime.js"

/** An [[agent]] as agents.toml spells it (snake_case), decoded like the config loader does. */
export const agentConfig = (entry: Readonly<Record<string, unknown>> = {}): AgentConfig =>
  Schema.decodeUnknownSync(AgentConfig)({ name: "coder-1", stage: "coder", ...entry })

export const buildInput = (overrides: Partial<BuildInput> = {}): BuildInput => ({
  agent: agentConfig(),
  storyId: "12_story_add_login",
  worktree: "/work/project/.huskies/worktrees/12_story_add_login",
  mcpUrl: "http://localhost:3001/mcp",
  prompt: "Implement story 12_story_add_login.",
  ...overrides,
})

/** Feeds the chunks in order and ends the stream: every event the parser produced. */
export const feed = (parser: StreamParser, chunks: ReadonlyArray<string>): ReadonlyArray<AgentEvent> => [
  ...chunks.flatMap((chunk) => parser.push(chunk)),
  ...parser.end(),
]

export const ofTag = <T extends AgentEvent["_tag"]>(events: ReadonlyArray<AgentEvent>, tag: T) =>
  events.filter((e): e is Extract<AgentEvent, { _tag: T }> => e._tag === tag)

// Variables of the machine (or of a Claude Code session running the tests) that would redirect a
// CLI to a real account, provider or config; as in test/support/claude.ts.
const leaky =
  /^(ANTHROPIC_|CLAUDE_|CLAUDECODE$|AWS_|GOOGLE_|VERTEX_|OTEL_|MCP_|DISABLE_|HTTPS?_PROXY$|NO_PROXY$|HUSKIES_)/i

export interface PtyRun {
  /** Every chunk the terminal produced, in order: what AgentActor's parser is fed. */
  readonly chunks: ReadonlyArray<string>
  readonly exitCode: number
  readonly timedOut: boolean
}

/**
 * Writes the launch's files, then runs `command` (default: the launch's own) with its args in a PTY
 * in `cwd`, with the machine's harmless variables, the launch's env and then `env` (the test's
 * overrides: HOME, the fake API). Kills the process group after `timeoutMs`.
 */
export const runInPty = (
  launch: LaunchSpec,
  options: {
    readonly cwd: string
    readonly env?: Readonly<Record<string, string>>
    readonly command?: string
    readonly timeoutMs?: number
  },
): Effect.Effect<PtyRun> =>
  Effect.promise(async () => {
    for (const file of launch.files) {
      await mkdir(dirname(file.path), { recursive: true })
      await writeFile(file.path, file.content)
    }
    const base = Object.fromEntries(
      Object.entries(process.env).flatMap(([name, value]) =>
        value === undefined || leaky.test(name) ? [] : [[name, value]],
      ),
    )
    return await new Promise<PtyRun>((resolve) => {
      const child = pty.spawn(options.command ?? launch.command, [...launch.args], {
        cwd: options.cwd,
        env: { ...base, ...launch.env, ...options.env },
        cols: 200,
        rows: 50,
      })
      const chunks: Array<string> = []
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        try {
          process.kill(-child.pid, "SIGKILL")
        } catch {
          // The group is already gone.
        }
      }, options.timeoutMs ?? 60_000)
      child.onData((data) => chunks.push(data))
      child.onExit(({ exitCode }) => {
        clearTimeout(timer)
        resolve({ chunks, exitCode, timedOut })
      })
    })
  })

export interface PermissionServer {
  readonly url: string
  /** The prompt_permission calls received: which tool the CLI asked about, with what input. */
  readonly calls: ReadonlyArray<{ readonly tool_name: string; readonly input: unknown }>
}

/**
 * A Streamable HTTP MCP server on 127.0.0.1 named like huskies', with a `status` tool and a
 * prompt_permission tool that allows every request; closed with the scope. The URL says `localhost`, as .mcp.json does.
 */
export const permissionServer: Effect.Effect<PermissionServer, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(async () => {
    const calls: Array<{ tool_name: string; input: unknown }> = []
    const http = createServer((req, res) => {
      void (async () => {
        const server = new Server({ name: "huskies", version: "0.0.0" }, { capabilities: { tools: {} } })
        server.setRequestHandler(ListToolsRequestSchema, () => ({
          tools: [
            { name: "status", description: "The story's state.", inputSchema: { type: "object" as const } },
            {
              name: "prompt_permission",
              description: "Decides whether the agent may use a tool.",
              inputSchema: {
                type: "object" as const,
                properties: {
                  tool_name: { type: "string" },
                  input: { type: "object" },
                  tool_use_id: { type: "string" },
                },
                required: ["tool_name", "input"],
              },
            },
          ],
        }))
        server.setRequestHandler(CallToolRequestSchema, (request) => {
          const args = (request.params.arguments ?? {}) as { tool_name?: string; input?: unknown }
          calls.push({ tool_name: args.tool_name ?? "", input: args.input })
          return {
            content: [
              { type: "text", text: JSON.stringify({ behavior: "allow", updatedInput: args.input ?? {} }) },
            ],
          }
        })
        // Stateless: one server and transport per request, as the SDK's stateless example does.
        const transport = new StreamableHTTPServerTransport({})
        res.on("close", () => {
          void transport.close()
          void server.close()
        })
        await server.connect(transport)
        const body: Array<Buffer> = []
        for await (const chunk of req) body.push(chunk as Buffer)
        const text = Buffer.concat(body).toString("utf8")
        await transport.handleRequest(req, res, text === "" ? undefined : (JSON.parse(text) as unknown))
      })()
    })
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
    const { port } = http.address() as AddressInfo
    return { http, server: { url: `http://localhost:${port}/mcp`, calls } }
  }),
  ({ http }) =>
    Effect.promise(
      () =>
        new Promise<void>((resolve) => {
          http.closeAllConnections()
          http.close(() => resolve())
        }),
    ),
).pipe(Effect.map(({ server }) => server))
