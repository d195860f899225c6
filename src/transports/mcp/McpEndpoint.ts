// src/transports/mcp/McpEndpoint.ts — `/mcp` over Streamable HTTP: every client session gets its own
// SDK Server and transport (never shared: a shared one leaks responses across clients), and every
// tool call runs through the one tool registry on the server's Effect runtime.
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { Context, Effect, Layer, Runtime } from "effect"
import { randomUUID } from "node:crypto"
import { buildInfo } from "../../layers/BuildInfo.js"
import type { Registry, ToolContext } from "../tools/Tool.js"

export interface McpEndpointShape {
  /**
   * Answers one HTTP request. `body` is a POST's body when the caller already read it (the HTTP
   * route does, enforcing the size limit); otherwise it is read from `request`.
   */
  readonly handle: (request: Request, body?: string) => Promise<Response>
  readonly sessionCount: () => number
}

export class McpEndpoint extends Context.Tag("huskies/McpEndpoint")<McpEndpoint, McpEndpointShape>() {}

export interface McpOptions {
  /** Open sessions at most; past it, new clients are refused until idle ones expire. */
  readonly maxSessions?: number
  /** A session with no request for this long is closed. */
  readonly idleMillis?: number
}

interface Session {
  readonly transport: WebStandardStreamableHTTPServerTransport
  /** Ids of this session's requests still waiting for their response. */
  readonly inFlight: Set<RequestId>
  lastSeen: number
}

type RequestId = string | number

const jsonRpcError = (status: number, code: number, message: string): Response =>
  new Response(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }), {
    status,
    headers: { "content-type": "application/json" },
  })

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The ids of the requests (not notifications or responses) in a JSON-RPC message or batch. */
const requestIds = (body: unknown): Array<RequestId> =>
  (Array.isArray(body) ? body : [body]).flatMap((m: unknown) =>
    isObject(m) &&
    typeof m["method"] === "string" &&
    (typeof m["id"] === "string" || typeof m["id"] === "number")
      ? [m["id"]]
      : [],
  )

export const makeMcpEndpoint = <R>(registry: Registry<R>, options: McpOptions = {}) =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<R>()
    const run = Runtime.runPromise(runtime)
    const maxSessions = options.maxSessions ?? 256
    const idleMillis = options.idleMillis ?? 30 * 60_000
    // Read the Clock service once: running an effect per request just to read the time costs more.
    const clock = yield* Effect.clock
    const now = () => clock.unsafeCurrentTimeMillis()
    // Owned by this endpoint alone; JavaScript runs each callback to completion, so map updates
    // from concurrent requests never interleave.
    const sessions = new Map<string, Session>()
    const hasOutputSchema = new Set(
      registry.list.filter((t) => t.outputSchema !== undefined).map((t) => t.name),
    )

    const newServer = () => {
      const server = new Server(
        { name: "huskies", version: buildInfo().version },
        {
          capabilities: { tools: {} },
          instructions:
            "huskies manages work items (stories, bugs, spikes, refactors) through Backlog -> Coding -> QA -> Merge -> Done. Tools that block say so in their description and return the full result: never poll.",
        },
      )
      server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...registry.list] }))
      server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
        const token = request.params._meta?.progressToken
        const context: ToolContext = {
          progress: (progress, total, message) =>
            token === undefined
              ? Effect.void
              : Effect.promise(() =>
                  extra
                    .sendNotification({
                      method: "notifications/progress",
                      params: {
                        progressToken: token,
                        progress,
                        ...(total === undefined ? {} : { total }),
                        ...(message === undefined ? {} : { message }),
                      },
                    })
                    // A client that went away cannot be told; the tool keeps running regardless.
                    .catch(() => undefined),
                ),
        }
        const outcome = await run(
          registry.call(request.params.name, request.params.arguments ?? {}, context),
          {
            signal: extra.signal,
          },
        )
        if (outcome._tag === "Err")
          return { content: [{ type: "text", text: outcome.message }], isError: true }
        return {
          content: [{ type: "text", text: outcome.text }],
          ...(hasOutputSchema.has(request.params.name) && isObject(outcome.value)
            ? { structuredContent: outcome.value }
            : {}),
        }
      })
      return server
    }

    const closeSession = (id: string) => {
      const session = sessions.get(id)
      sessions.delete(id)
      return session?.transport.close() ?? Promise.resolve()
    }

    const sweep = async () => {
      const cutoff = now() - idleMillis
      for (const [id, session] of sessions) if (session.lastSeen < cutoff) await closeSession(id)
    }

    const openSession = async (): Promise<Session> => {
      const inFlight = new Set<RequestId>()
      const transport: WebStandardStreamableHTTPServerTransport =
        new WebStandardStreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            sessions.set(id, session)
          },
          onsessionclosed: (id) => {
            sessions.delete(id)
          },
        })
      const session: Session = { transport, inFlight, lastSeen: now() }
      // Every response the server sends passes here: its id is free again.
      const send = transport.send.bind(transport)
      transport.send = (message, options) => {
        if ("id" in message && message.id !== undefined && ("result" in message || "error" in message)) {
          inFlight.delete(message.id)
        }
        return send(message, options)
      }
      await newServer().connect(transport)
      return session
    }

    /**
     * Passes a request on to its session's transport. A POST's body is parsed once, here, and handed
     * over parsed; a body that is not JSON goes over as text, so the transport answers it as it always
     * has (406/415 before the parse error).
     */
    const forward = async (session: Session, request: Request, body: string | undefined) => {
      if (request.method !== "POST") return session.transport.handleRequest(request)
      const text = body ?? (await request.text())
      let parsedBody: unknown
      try {
        parsedBody = JSON.parse(text)
      } catch {
        const { url, method, headers } = request
        return session.transport.handleRequest(new Request(url, { method, headers, body: text }))
      }
      // The transport routes a response to the stream waiting on its id: a second request with the
      // same id, while the first still runs, would take the first one's response and leave the first
      // HTTP request hanging for good. Refuse it instead.
      const ids = requestIds(parsedBody)
      const clash = ids.find((id, i) => session.inFlight.has(id) || ids.indexOf(id) !== i)
      if (clash !== undefined) {
        return jsonRpcError(
          409,
          -32600,
          `Invalid Request: id ${JSON.stringify(clash)} is already taken by a request still running in this session or in this batch; give every request its own id`,
        )
      }
      for (const id of ids) session.inFlight.add(id)
      let response: Response | undefined
      try {
        response = await session.transport.handleRequest(request, { parsedBody })
        return response
      } finally {
        // Refused before it was dispatched (400, 404, 406...): no response will come for these ids.
        if (response?.status !== 200) for (const id of ids) session.inFlight.delete(id)
      }
    }

    const handle = async (request: Request, body?: string): Promise<Response> => {
      const id = request.headers.get("mcp-session-id")
      if (id !== null) {
        const session = sessions.get(id)
        if (session === undefined) {
          return jsonRpcError(
            404,
            -32001,
            "Session not found: it expired or was closed; send initialize to start a new one",
          )
        }
        session.lastSeen = now()
        return forward(session, request, body)
      }
      if (request.method !== "POST") {
        return jsonRpcError(
          400,
          -32000,
          "Bad Request: no mcp-session-id header; POST an initialize request first",
        )
      }
      await sweep()
      if (sessions.size >= maxSessions) {
        return jsonRpcError(
          503,
          -32000,
          `Too many open MCP sessions (${maxSessions}); close unused clients and retry`,
        )
      }
      const session = await openSession()
      const { transport } = session
      const response = await forward(session, request, body)
      // Anything but a successful initialize leaves no session behind.
      if (transport.sessionId === undefined || !sessions.has(transport.sessionId)) await transport.close()
      return response
    }

    yield* Effect.addFinalizer(() =>
      Effect.promise(() => Promise.all([...sessions.keys()].map(closeSession))).pipe(Effect.asVoid),
    )
    return { handle, sessionCount: () => sessions.size } satisfies McpEndpointShape
  })

export const McpEndpointLive = <R>(registry: Registry<R>, options: McpOptions = {}) =>
  Layer.scoped(McpEndpoint, makeMcpEndpoint(registry, options))
