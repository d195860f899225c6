// src/transports/http/HttpApp.ts — the server's one HTTP port: /mcp, the other routes, the listener,
// and the address it bound (printed so people and tests can find an ephemeral port).
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Layer, Option, Runtime } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { Duplex } from "node:stream"
import { withComponent } from "../../layers/Logs.js"
import { NodeAdmission } from "../../protocol/nodeHandshake.js"
import { McpEndpoint, type McpEndpointShape } from "../mcp/McpEndpoint.js"
import {
  AccessMisconfigured,
  accessRules,
  type AccessSettings,
  makeAccessGuard,
  type UpgradeRoute,
  upgradeListener,
} from "./AccessGuard.js"
import { health } from "./health.js"
import { defaultWebRoot, makeWebAssets } from "./staticAssets.js"

/** Every route but /mcp, which `serveMcp` answers ahead of it (see `HttpLive`). */
export const router = HttpRouter.empty.pipe(
  HttpRouter.get("/health", health),
  HttpRouter.all(
    "*",
    Effect.succeed(
      HttpServerResponse.unsafeJson(
        { error: "not found: this server answers /health and /mcp" },
        { status: 404 },
      ),
    ),
  ),
)

/** The SDK transport's own bound on a request body (4 MiB): bigger ones are refused with 413. */
const maxBodyBytes = 4 * 1024 * 1024

const isMcpPath = (url: string | undefined): boolean => url === "/mcp" || (url?.startsWith("/mcp?") ?? false)

const sendJsonRpcError = (
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void => {
  const body = JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null })
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    ...headers,
  })
  res.end(body)
}

type BodyRead =
  | { readonly _tag: "Read"; readonly text: string }
  | { readonly _tag: "TooLarge" }
  | { readonly _tag: "Failed"; readonly message: string }

/** The body as text, read once; past `max` bytes reading stops and Node discards the rest. */
const readBody = (req: IncomingMessage, max: number): Promise<BodyRead> =>
  new Promise((resolve) => {
    if (Number(req.headers["content-length"]) > max) return resolve({ _tag: "TooLarge" })
    const chunks: Array<Buffer> = []
    let size = 0
    const finish = (result: BodyRead) => {
      req.off("data", onData)
      req.off("end", onEnd)
      req.off("error", onError)
      resolve(result)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      chunks.push(chunk)
      if (size > max) finish({ _tag: "TooLarge" })
    }
    const onEnd = () => finish({ _tag: "Read", text: Buffer.concat(chunks, size).toString("utf8") })
    const onError = (error: Error) => finish({ _tag: "Failed", message: error.message })
    req.on("data", onData)
    req.on("end", onEnd)
    req.on("error", onError)
  })

/** Resolves once `res` can take more, or is gone. */
const drained = (res: ServerResponse): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      res.off("drain", done)
      res.off("close", done)
      resolve()
    }
    res.on("drain", done)
    res.on("close", done)
  })

/** `read`'s result if it settles before the event loop's next turn, else undefined. */
const readySoon = <A>(read: Promise<A>): Promise<A | undefined> =>
  Promise.race([read, new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))])

/**
 * Writes the endpoint's web Response to the socket. What the transport has ready at once goes out
 * with the headers in one packet, sized (a fast tool's whole answer); otherwise the headers go now
 * (the client learns the stream is open and its header timeout stops running while a tool works)
 * and events follow as the transport writes them. A client that goes away cancels the stream,
 * which is how the transport learns it left.
 */
const sendResponse = async (response: Response, res: ServerResponse): Promise<void> => {
  const headers: Record<string, string> = Object.fromEntries(response.headers)
  if (response.body === null) {
    res.writeHead(response.status, headers)
    res.end()
    return
  }
  const reader = response.body.getReader()
  // Cancelling a stream that already ended does nothing, so both paths below may call it.
  const cancel = () => void reader.cancel().catch(() => undefined)
  let ended = false
  res.on("close", cancel)
  try {
    const ready: Array<Uint8Array> = []
    let read = reader.read()
    for (;;) {
      const chunk = await readySoon(read)
      if (chunk === undefined) break
      if (chunk.done) {
        ended = true
        break
      }
      ready.push(chunk.value)
      read = reader.read()
    }
    if (ended) headers["content-length"] = String(ready.reduce((n, c) => n + c.length, 0))
    res.writeHead(response.status, headers)
    for (const chunk of ready) res.write(chunk)
    if (ended) {
      res.end()
      return
    }
    if (ready.length === 0) res.flushHeaders()
    for (;;) {
      const chunk = await read
      if (chunk.done) {
        ended = true
        res.end()
        return
      }
      if (res.destroyed) return
      if (!res.write(chunk.value)) await drained(res)
      read = reader.read()
    }
  } finally {
    res.off("close", cancel)
    if (!ended) cancel()
  }
}

/**
 * /mcp, answered from Node's request event rather than through the Effect router: the router's
 * per-request fiber, span and response stream cost more than the whole SDK transport (measured:
 * bench/mcpLatency.ts), for a route that is a pass-through to a Promise API anyway. The body is read
 * once here and given to the endpoint as text (the transport would otherwise read a stream of it
 * again); what the transport cannot take itself is answered here, always as a JSON-RPC error:
 * methods a web Request refuses (TRACE), an unusable URL, an oversized or broken body.
 */
const serveMcp =
  (endpoint: McpEndpointShape, logDefect: (message: string, cause: unknown) => void) =>
  async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const method = req.method ?? "GET"
      if (method !== "GET" && method !== "POST" && method !== "DELETE") {
        return sendJsonRpcError(
          res,
          405,
          -32000,
          `Method not allowed: /mcp takes POST, GET and DELETE, not ${method}`,
          { allow: "GET, POST, DELETE" },
        )
      }
      let request: Request
      try {
        const url = new URL(req.url ?? "/mcp", `http://${req.headers.host ?? "localhost"}`)
        request = new Request(url, { method, headers: req.headers as Record<string, string> })
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        return sendJsonRpcError(res, 400, -32700, `could not read the request: ${reason}`)
      }
      let body: string | undefined = undefined
      if (method === "POST") {
        const read = await readBody(req, maxBodyBytes)
        if (read._tag === "TooLarge") {
          return sendJsonRpcError(
            res,
            413,
            -32000,
            `Payload Too Large: Request body must not exceed ${maxBodyBytes} bytes`,
          )
        }
        if (read._tag === "Failed") {
          return sendJsonRpcError(res, 400, -32700, `could not read the request body: ${read.message}`)
        }
        body = read.text
      }
      // The remote address names the client for the per-client session cap.
      await sendResponse(await endpoint.handle(request, body, req.socket.remoteAddress ?? "unknown"), res)
    } catch (error) {
      // A bug in the endpoint or the SDK: the client still gets a JSON-RPC answer, the log the cause.
      logDefect("/mcp request failed", error)
      if (!res.headersSent) {
        sendJsonRpcError(res, 500, -32603, "Internal error: the server failed; server_logs has details")
      } else res.destroy()
    }
  }

export interface ListenOptions {
  readonly port: number
  readonly host: string
  /** Who may call: allowed hosts and the token (required when `host` is not loopback). */
  readonly access?: AccessSettings
  /** WebSocket routes by path, reached only through the access guard. */
  readonly upgrades?: ReadonlyMap<string, UpgradeRoute>
  /** The built web app served at / (default: the package's dist/web). */
  readonly webRoot?: string
}

/**
 * Serves /mcp and the router on one port and reports the bound address through `onListening`. Every
 * request and every WebSocket upgrade passes the access guard first (see AccessGuard.ts).
 */
export const HttpLive = <R>(
  options: ListenOptions,
  onListening: (url: string) => Effect.Effect<void, never, R>,
) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      // Checked before listening: a non-loopback bind without a token must never serve, not even briefly.
      const rules = accessRules(options.host, options.port, options.access ?? {})
      if (rules instanceof AccessMisconfigured) return yield* Effect.die(rules)
      const node = createServer()
      const server = yield* NodeHttpServer.make(() => node, { port: options.port, host: options.host })
      const routed = yield* NodeHttpServer.makeHandler(router)
      const runtime = yield* Effect.runtime<never>()
      const logDefect = (message: string, cause: unknown) =>
        Runtime.runFork(runtime)(Effect.logError(message, cause).pipe(withComponent("http")))
      const mcp = serveMcp(yield* McpEndpoint, logDefect)
      const web = makeWebAssets(options.webRoot ?? defaultWebRoot())
      const address = server.address
      const clock = yield* Effect.clock
      // A server that admits nodes lets their tickets through to /rpc/node (byTicket only reads a map).
      const admission = yield* Effect.serviceOption(NodeAdmission)
      const nodeOfTicket = Option.match(admission, {
        onNone: () => ({}),
        onSome: ({ byTicket }) => ({
          nodeOfTicket: (ticket: string) =>
            Option.getOrUndefined(Runtime.runSync(runtime)(byTicket(ticket)))?.node,
        }),
      })
      const guard = makeAccessGuard(
        { ...rules, port: address._tag === "TcpAddress" ? address.port : options.port },
        { now: () => clock.unsafeCurrentTimeMillis(), logDefect, ...nodeOfTicket },
      )
      const onRequest = (req: IncomingMessage, res: ServerResponse) => {
        const mcpPath = isMcpPath(req.url)
        if (!guard.admit(req, res, mcpPath)) return
        if (mcpPath) void mcp(req, res)
        else if (!web.serve(req, res)) routed(req, res)
      }
      const routeUpgrade = upgradeListener(guard, options.upgrades ?? new Map())
      // Upgraded sockets are no longer the HTTP server's connections: closeAllConnections leaves them
      // open, and close would wait for them, so they are kept here to be cut at shutdown.
      const upgraded = new Set<Duplex>()
      const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        upgraded.add(socket)
        socket.once("close", () => upgraded.delete(socket))
        routeUpgrade(req, socket, head)
      }
      node.on("request", onRequest)
      node.on("upgrade", onUpgrade)
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          node.off("request", onRequest)
          node.off("upgrade", onUpgrade)
        }),
      )
      // On shutdown, stop listening and cut open connections before waiting for them: an MCP
      // client's event stream stays open as long as the client is connected, so a plain close
      // would wait for it forever.
      yield* Effect.addFinalizer(() =>
        Effect.async<void>((resume) => {
          node.close(() => resume(Effect.void))
          node.closeAllConnections()
          for (const socket of upgraded) socket.destroy()
        }),
      )
      yield* onListening(
        address._tag === "TcpAddress"
          ? `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`
          : `unix:${address.path}`,
      )
    }),
  )
