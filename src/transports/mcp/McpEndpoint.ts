// src/transports/mcp/McpEndpoint.ts — `/mcp` over Streamable HTTP: every client session gets its own
// SDK Server and transport (never shared: a shared one leaks responses across clients), and every
// tool call runs through the one tool registry on the server's Effect runtime.
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { Context, Effect, Layer, Runtime } from "effect"
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv"
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js"
import { randomUUID } from "node:crypto"
import { buildInfo } from "../../layers/BuildInfo.js"
import { agentHeader } from "../http/agentToken.js"
import type { Registry, ToolContext } from "../tools/Tool.js"
import {
  admit,
  defaultSessionLimits,
  expiresAt,
  type SessionLimits,
  type SessionState,
} from "./sessionLimits.js"
import {
  asksToInitialize,
  type Body,
  isObject,
  jsonRpcError,
  parseBody,
  type RequestId,
  requestIds,
  watchClose,
} from "./jsonRpcMessages.js"

export interface McpEndpointShape {
  /**
   * Answers one HTTP request. `body` is a POST's body when the caller already read it (the HTTP
   * route does, enforcing the size limit); otherwise it is read from `request`. `client` names who
   * sent it (the remote address), for the per-client session cap.
   */
  readonly handle: (request: Request, body?: string, client?: string) => Promise<Response>
  readonly sessionCount: () => number
}

export class McpEndpoint extends Context.Tag("huskies/McpEndpoint")<McpEndpoint, McpEndpointShape>() {}

/** Session caps and timeouts; see `SessionLimits` for what each bounds. */
export type McpOptions = Partial<SessionLimits>

interface Session extends SessionState {
  id: string
  readonly client: string
  readonly transport: WebStandardStreamableHTTPServerTransport
  /** Ids of this session's requests still waiting for their response. */
  readonly requests: Set<RequestId>
  streams: number
  streamed: boolean
  lastSeen: number
  /** Counted in `opening` until its initialize succeeds or fails. */
  reserved: boolean
  /** The expiry check armed for this session, and when it fires. */
  timer: ReturnType<typeof setTimeout> | undefined
  timerDue: number
}

export const makeMcpEndpoint = <R>(registry: Registry<R>, options: McpOptions = {}) =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<R>()
    const run = Runtime.runPromise(runtime)
    const limits: SessionLimits = { ...defaultSessionLimits, ...options }
    // Read the Clock service once: running an effect per request just to read the time costs more.
    const clock = yield* Effect.clock
    const now = () => clock.unsafeCurrentTimeMillis()
    // Owned by this endpoint alone; JavaScript runs each callback to completion, so map updates
    // from concurrent requests never interleave.
    const sessions = new Map<string, Session>()
    /** Sessions per client: open ones plus those admitted and still initializing. */
    const perClient = new Map<string, number>()
    let opening = 0
    const countClient = (client: string, delta: number) => {
      const n = (perClient.get(client) ?? 0) + delta
      if (n <= 0) perClient.delete(client)
      else perClient.set(client, n)
    }
    const hasOutputSchema = new Set(
      registry.list.filter((t) => t.outputSchema !== undefined).map((t) => t.name),
    )
    // The SDK gives every Server its own Ajv (compiled formats and meta-schemas: most of what a
    // session costs to open, in time and memory) unless one is passed; one serves every session. A
    // server only validates with it to answer an elicitation, so it is built on first use, not at start.
    let ajv: AjvJsonSchemaValidator | undefined
    const jsonSchemaValidator: jsonSchemaValidator = {
      getValidator: (schema) => (ajv ??= new AjvJsonSchemaValidator()).getValidator(schema),
    }

    const newServer = () => {
      const server = new Server(
        { name: "huskies", version: buildInfo().version },
        {
          capabilities: { tools: {} },
          jsonSchemaValidator,
          instructions:
            "huskies manages work items (stories, bugs, spikes, refactors) through Backlog -> Coding -> QA -> Merge -> Done. Tools that block say so in their description and return the full result: never poll.",
        },
      )
      server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...registry.list] }))
      server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
        const token = request.params._meta?.progressToken
        const context: ToolContext = {
          caller: `mcp:${server.getClientVersion()?.name ?? "unknown"}`,
          // Set by the access guard alone (it drops the header from every other request).
          agent: extra.requestInfo?.headers[agentHeader] === "1",
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

    /** Drops `session` from the books (its transport closes itself or is being closed). */
    const forget = (session: Session) => {
      clearTimeout(session.timer)
      session.timer = undefined
      if (sessions.get(session.id) !== session) return
      sessions.delete(session.id)
      countClient(session.client, -1)
    }

    const closeSession = (session: Session) => {
      forget(session)
      return session.transport.close()
    }

    /**
     * Arms the expiry check of a session that has just gone idle. A check armed earlier stays: it
     * fires, finds the session seen since, and re-arms for the rest, so busy sessions pay no timer
     * churn per request.
     */
    const settle = (session: Session) => {
      const due = expiresAt(session, limits)
      if (due === undefined || sessions.get(session.id) !== session) return
      if (session.timer !== undefined && session.timerDue <= due) return
      clearTimeout(session.timer)
      session.timerDue = due
      session.timer = setTimeout(
        () => {
          session.timer = undefined
          const at = expiresAt(session, limits)
          if (at !== undefined && at <= now()) void closeSession(session)
          else settle(session)
        },
        Math.max(0, due - now()),
      )
      // An idle session never keeps the process alive.
      session.timer.unref()
    }

    const openSession = async (client: string, reserved: boolean): Promise<Session> => {
      const transport: WebStandardStreamableHTTPServerTransport =
        new WebStandardStreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            session.id = id
            sessions.set(id, session)
            // The slot reserved for it becomes the session's.
            if (session.reserved) {
              session.reserved = false
              opening--
            } else countClient(client, 1)
          },
          // DELETE: the transport answers it and closes itself (and with it this session's Server).
          onsessionclosed: () => forget(session),
        })
      const requests = new Set<RequestId>()
      const session: Session = {
        id: "",
        client,
        transport,
        requests,
        get inFlight() {
          return requests.size
        },
        streams: 0,
        streamed: false,
        reserved,
        lastSeen: now(),
        timer: undefined,
        timerDue: 0,
      }
      // Every response the server sends passes here: its id is free again.
      const send = transport.send.bind(transport)
      transport.send = (message, options) => {
        if ("id" in message && message.id !== undefined && ("result" in message || "error" in message)) {
          if (requests.delete(message.id) && requests.size === 0) settle(session)
        }
        return send(message, options)
      }
      await newServer().connect(transport)
      return session
    }

    /** A GET: the session's event stream, counted while open so a client that left is noticed. */
    const openStream = async (session: Session, request: Request) => {
      const response = await session.transport.handleRequest(request)
      if (response.status !== 200 || response.body === null) return response
      session.streams++
      session.streamed = true
      const body = watchClose(response.body, () => {
        session.streams--
        session.lastSeen = now()
        settle(session)
      })
      return new Response(body, { status: response.status, headers: response.headers })
    }

    /**
     * Passes a POST on to its session's transport, its body parsed once (here or by the caller);
     * a body that is not JSON goes over as text, so the transport answers it as it always has
     * (406/415 before the parse error).
     */
    const forward = async (session: Session, request: Request, body: Body) => {
      if (body._tag === "Text") {
        const { url, method, headers } = request
        return session.transport.handleRequest(new Request(url, { method, headers, body: body.text }))
      }
      const parsedBody = body.value
      // The transport routes a response to the stream waiting on its id: a second request with the
      // same id, while the first still runs, would take the first one's response and leave the first
      // HTTP request hanging for good. Refuse it instead.
      const ids = requestIds(parsedBody)
      const clash = ids.find((id, i) => session.requests.has(id) || ids.indexOf(id) !== i)
      if (clash !== undefined) {
        return jsonRpcError(
          409,
          -32600,
          `Invalid Request: id ${JSON.stringify(clash)} is already taken by a request still running in this session or in this batch; give every request its own id`,
        )
      }
      for (const id of ids) session.requests.add(id)
      let response: Response | undefined
      try {
        response = await session.transport.handleRequest(request, { parsedBody })
        return response
      } finally {
        // Refused before it was dispatched (400, 404, 406...): no response will come for these ids.
        if (response?.status !== 200) for (const id of ids) session.requests.delete(id)
        if (session.requests.size === 0) settle(session)
      }
    }

    const readBody = async (request: Request, body: string | undefined): Promise<Body> =>
      parseBody(body ?? (await request.text()))

    /** Makes room for a new session of `client`, or says why there is none (see `admit`). */
    const reserve = async (client: string): Promise<Response | undefined> => {
      for (;;) {
        const decision = admit(
          sessions.values(),
          client,
          perClient.get(client) ?? 0,
          sessions.size + opening,
          limits,
        )
        if (decision._tag === "Admit") break
        if (decision._tag === "Refuse") return jsonRpcError(503, -32000, decision.message)
        const evicted = sessions.get(decision.id)
        if (evicted !== undefined) await closeSession(evicted)
      }
      opening++
      countClient(client, 1)
      return undefined
    }

    /** A POST without a session: an initialize opens one, anything else is answered and forgotten. */
    const initialize = async (request: Request, rawBody: string | undefined, client: string) => {
      const body = await readBody(request, rawBody)
      const counted = body._tag === "Json" && asksToInitialize(body.value)
      if (counted) {
        const refused = await reserve(client)
        if (refused !== undefined) return refused
      }
      let session: Session | undefined
      try {
        session = await openSession(client, counted)
        const response = await forward(session, request, body)
        // Anything but a successful initialize leaves no session behind.
        if (sessions.get(session.id) !== session) await session.transport.close()
        return response
      } finally {
        // A reservation its initialize did not take is released.
        if (counted && session?.reserved !== false) {
          opening--
          countClient(client, -1)
        }
      }
    }

    const handle = async (request: Request, body?: string, client = "unknown"): Promise<Response> => {
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
        if (request.method === "GET") return openStream(session, request)
        if (request.method !== "POST") return session.transport.handleRequest(request)
        return forward(session, request, await readBody(request, body))
      }
      if (request.method !== "POST") {
        return jsonRpcError(
          400,
          -32000,
          "Bad Request: no mcp-session-id header; POST an initialize request first",
        )
      }
      return initialize(request, body, client)
    }

    yield* Effect.addFinalizer(() =>
      Effect.promise(() => Promise.all([...sessions.values()].map(closeSession))).pipe(Effect.asVoid),
    )
    return { handle, sessionCount: () => sessions.size } satisfies McpEndpointShape
  })

export const McpEndpointLive = <R>(registry: Registry<R>, options: McpOptions = {}) =>
  Layer.scoped(McpEndpoint, makeMcpEndpoint(registry, options))
