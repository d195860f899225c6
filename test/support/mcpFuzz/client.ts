// test/support/mcpFuzz/client.ts — the fuzz test's side of the wire: raw HTTP requests to /mcp, what a
// well-formed answer is, sessions, batches, and the checks after the fuzz (Store, session bound).
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import fc from "fast-check"
import { Agent, request as httpRequest } from "node:http"
import { expect } from "vitest"
import { defaultSessionLimits } from "../../../src/transports/mcp/sessionLimits.js"
import type { TestServerInfo } from "../server.js"

export const requestTimeoutMs = 10_000
/** McpEndpoint's default bound on open sessions from one address (every test client is 127.0.0.1). */
export const maxSessions = defaultSessionLimits.maxSessionsPerClient
export const accepts = "application/json, text/event-stream"
export const protocolVersion = "2025-06-18"
/** Tools whose real run is harmless here: they read, or write only the Store of the temp project. */
export const runnable = new Set([
  "create_story",
  "create_bug",
  "create_spike",
  "create_refactor",
  "status",
  "get_version",
  "server_logs",
  "dump_state",
  "dump_crdt",
  "list_items",
  "get_pipeline_status",
  "set_dependencies",
  "block_story",
  "unblock_story",
])

// ---- sending raw requests -------------------------------------------------------------------

export interface Sent {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body?: string | Uint8Array
  /** Write the body in pieces (chunked) instead of in one go with a Content-Length. */
  readonly chunked?: boolean
}

export interface Received {
  readonly status: number
  readonly contentType: string
  readonly body: string
  readonly sessionId: string | undefined
  /** A GET event stream, left open by the server: only its headers were read. */
  readonly openStream: boolean
}

export const agent = new Agent({ keepAlive: true, maxSockets: 8 })

export const send = (url: string, sent: Sent): Promise<Received> =>
  new Promise((resolve, reject) => {
    const base = new URL(url)
    const bytes = typeof sent.body === "string" ? Buffer.from(sent.body) : sent.body
    // Framed explicitly: for a GET or DELETE Node would otherwise send a body with no framing at all,
    // which the server's HTTP parser (not /mcp) rightly answers with a bare 400.
    const framing: Record<string, string> =
      bytes === undefined
        ? {}
        : sent.chunked === true
          ? { "transfer-encoding": "chunked" }
          : { "content-length": String(bytes.length) }
    const req = httpRequest({
      host: base.hostname,
      port: base.port,
      path: sent.path,
      method: sent.method,
      headers: { ...sent.headers, ...framing },
      agent,
      setHost: !("host" in sent.headers),
    })
    const timer = setTimeout(() => {
      req.destroy()
      reject(new Error(`no answer within ${requestTimeoutMs} ms`))
    }, requestTimeoutMs)
    req.on("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    req.on("response", (res) => {
      const contentType = String(res.headers["content-type"] ?? "")
      const header = res.headers["mcp-session-id"]
      const sessionId = typeof header === "string" ? header : undefined
      const status = res.statusCode ?? 0
      if (sent.method === "GET" && status === 200 && contentType.startsWith("text/event-stream")) {
        clearTimeout(timer)
        res.destroy()
        return resolve({ status, contentType, body: "", sessionId, openStream: true })
      }
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("error", (error) => {
        clearTimeout(timer)
        reject(error)
      })
      res.on("end", () => {
        clearTimeout(timer)
        resolve({
          status,
          contentType,
          body: Buffer.concat(chunks).toString("utf8"),
          sessionId,
          openStream: false,
        })
      })
    })
    if (bytes !== undefined && sent.chunked === true) {
      const half = Math.floor(bytes.length / 2)
      req.write(bytes.subarray(0, half))
      req.end(bytes.subarray(half))
    } else req.end(bytes)
  })

// ---- checking answers -----------------------------------------------------------------------

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v)

/** A JSON-RPC 2.0 response (result or error{code,message}) or, in a stream, a server notification. */
export const jsonRpcProblem = (v: unknown, inStream: boolean): string | undefined => {
  if (!isObject(v) || v["jsonrpc"] !== "2.0") return "not a JSON-RPC 2.0 object"
  if (inStream && typeof v["method"] === "string" && !("id" in v)) return undefined
  if (!("id" in v)) return "a response without an id"
  if ("result" in v) return "error" in v ? "both result and error" : undefined
  const error = v["error"]
  if (!isObject(error) || typeof error["code"] !== "number" || typeof error["message"] !== "string") {
    return "neither result nor error{code: number, message: string}"
  }
  return undefined
}

export const sseMessages = (body: string): Array<unknown> =>
  body
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => JSON.parse(line.slice("data:".length)) as unknown)

/** Ids of the requests in a body, if it is JSON: the stream must answer each of them. */
export const requestIdsOf = (body: Sent["body"]): Array<unknown> => {
  if (typeof body !== "string") return []
  try {
    const parsed = JSON.parse(body) as unknown
    return (Array.isArray(parsed) ? parsed : [parsed]).flatMap((m: unknown) =>
      isObject(m) && typeof m["method"] === "string" && "id" in m ? [m["id"]] : [],
    )
  } catch {
    return []
  }
}

export const okStatuses: Record<string, ReadonlyArray<number>> = {
  POST: [200, 202, 400, 404, 406, 409, 413, 415],
  GET: [200, 400, 404, 406, 409],
  DELETE: [200, 400, 404],
}

/** Why `got` is not a well-formed answer to `sent`, or undefined if it is. */
export const problemWith = (sent: Sent, got: Received): string | undefined => {
  // A bent Host (none of the fuzz's names this server) is refused by the access guard first.
  const allowed = [
    ...(okStatuses[sent.method] ?? [405]),
    ...(sent.headers["host"] === undefined ? [] : [403]),
  ]
  if (!allowed.includes(got.status)) return `status ${got.status}`
  if (got.openStream) return undefined
  const emptyAllowed =
    sent.method === "HEAD" || got.status === 202 || (sent.method === "DELETE" && got.status === 200)
  if (got.body === "") return emptyAllowed ? undefined : "an empty body"
  if (got.contentType.startsWith("text/event-stream")) {
    let messages: Array<unknown>
    try {
      messages = sseMessages(got.body)
    } catch {
      return "an event whose data is not JSON"
    }
    for (const m of messages) {
      const problem = jsonRpcProblem(m, true)
      if (problem !== undefined) return `an event that is ${problem}`
    }
    const answered = new Set(
      messages.flatMap((m) => (isObject(m) && "id" in m ? [JSON.stringify(m["id"])] : [])),
    )
    const missing = requestIdsOf(sent.body).filter((id) => !answered.has(JSON.stringify(id)))
    return missing.length > 0 ? `no response for request ids ${JSON.stringify(missing)}` : undefined
  }
  if (!got.contentType.startsWith("application/json")) return `content-type "${got.contentType}"`
  try {
    return jsonRpcProblem(JSON.parse(got.body), false)
  } catch {
    return "a body that is not JSON"
  }
}

// ---- the fuzzing session state --------------------------------------------------------------

export interface Fuzzing {
  readonly url: string
  /** Live sessions requests may name; topped up after every batch. */
  readonly sessions: Array<string>
  /** Sessions the fuzz opened by chance (a random initialize that was valid); closed per batch. */
  readonly strays: Set<string>
  /** Ids of items the fuzz filed. */
  readonly created: Array<string>
}

export const json = (v: unknown) => JSON.stringify(v)

export const initializeBody = (id: unknown = 1) =>
  json({
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: { protocolVersion, capabilities: {}, clientInfo: { name: "fuzz", version: "1.0.0" } },
  })

export const baseHeaders = (session?: string): Record<string, string> => ({
  "content-type": "application/json",
  accept: accepts,
  ...(session === undefined ? {} : { "mcp-session-id": session, "mcp-protocol-version": protocolVersion }),
})

export const openSession = async (url: string): Promise<string> => {
  const init = await send(url, {
    method: "POST",
    path: "/mcp",
    headers: baseHeaders(),
    body: initializeBody(),
  })
  expect(init.status).toBe(200)
  const id = init.sessionId
  if (id === undefined) throw new Error("initialize answered without a session id")
  const ready = json({ jsonrpc: "2.0", method: "notifications/initialized" })
  expect(
    (await send(url, { method: "POST", path: "/mcp", headers: baseHeaders(id), body: ready })).status,
  ).toBe(202)
  return id
}

export const closeSession = async (url: string, id: string) => {
  const closed = await send(url, { method: "DELETE", path: "/mcp", headers: baseHeaders(id) })
  expect([200, 404]).toContain(closed.status)
}

/** A generated request, still naming sessions and items symbolically (they exist only at run time). */
export interface Planned {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly session: "none" | "live" | "other" | { readonly random: string }
  readonly body: string | Uint8Array | undefined
  readonly chunked: boolean
}

export const idMarker = /"\$ITEM(\d+)"/g

export const materialize = (f: Fuzzing, p: Planned, salt: number): Sent => {
  const live = f.sessions[salt % f.sessions.length]
  const other = f.sessions[(salt + 1) % f.sessions.length]
  const session =
    p.session === "none"
      ? undefined
      : p.session === "live"
        ? live
        : p.session === "other"
          ? other
          : p.session.random
  const body =
    typeof p.body === "string"
      ? p.body.replace(idMarker, (_, n: string) =>
          json(f.created[Number(n) % Math.max(1, f.created.length)] ?? "1_story_x"),
        )
      : p.body
  return {
    method: p.method,
    path: p.path,
    headers: { ...p.headers, ...(session === undefined ? {} : { "mcp-session-id": session }) },
    ...(body === undefined ? {} : { body }),
    chunked: p.chunked,
  }
}

/** Sends `batch` four at a time, checks every answer, then that /health still answers. */
export const runBatch = async (f: Fuzzing, batch: ReadonlyArray<Planned>) => {
  let next = 0
  const worker = async () => {
    while (next < batch.length) {
      const index = next++
      const planned = batch[index]
      if (planned === undefined) continue
      const sent = materialize(f, planned, index)
      const got = await send(f.url, sent).catch((error: unknown) => {
        throw new Error(`${describeSent(sent)}: ${String(error)}`)
      })
      const problem = problemWith(sent, got)
      if (problem !== undefined) {
        throw new Error(`${describeSent(sent)} got ${problem}: ${got.status} ${got.body.slice(0, 300)}`)
      }
      record(f, sent, got)
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()])
  for (const id of f.strays) await closeSession(f.url, id)
  f.strays.clear()
  for (let i = 0; i < f.sessions.length; i++) {
    const live = await send(f.url, {
      method: "POST",
      path: "/mcp",
      headers: baseHeaders(f.sessions[i]),
      body: json({ jsonrpc: "2.0", id: "alive", method: "ping" }),
    })
    if (live.status !== 200) f.sessions[i] = await openSession(f.url)
  }
  const health = await send(f.url, { method: "GET", path: "/health", headers: {} })
  expect(health.status).toBe(200)
}

export const describeSent = (s: Sent) => {
  const body =
    typeof s.body === "string" ? s.body.slice(0, 200) : s.body === undefined ? "" : `<${s.body.length} bytes>`
  return `${s.method} ${s.path} ${json(s.headers)} ${body}`
}

/** Remembers what the answer created: items filed, sessions opened by a chance initialize. */
export const record = (f: Fuzzing, sent: Sent, got: Received) => {
  if (got.sessionId !== undefined && !f.sessions.includes(got.sessionId) && got.status === 200) {
    f.strays.add(got.sessionId)
  }
  if (!got.contentType.startsWith("text/event-stream")) return
  for (const m of sseMessages(got.body)) {
    const result = isObject(m) ? m["result"] : undefined
    const structured = isObject(result) ? result["structuredContent"] : undefined
    const id = isObject(structured) ? structured["story_id"] : undefined
    if (typeof id === "string" && typeof sent.body === "string" && sent.body.includes('"create_')) {
      if (!f.created.includes(id)) f.created.push(id)
    }
  }
}

// ---- generators -----------------------------------------------------------------------------

/** An SDK client; `close` ends its session on the server too (the SDK's own close leaves it open). */
export const connect = async (url: string) => {
  const client = new Client({ name: "fuzz-check", version: "1.0.0" })
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`))
  await client.connect(transport)
  return {
    callTool: client.callTool.bind(client),
    listTools: client.listTools.bind(client),
    close: async () => {
      await transport.terminateSession()
      await client.close()
    },
  }
}

/** The Store reads back whole: no projection errors, every item (and every one filed) has a status. */
export const checkStore = async (url: string, created: ReadonlyArray<string>) => {
  const client = await connect(url)
  try {
    const dump = await client.callTool({ name: "dump_state", arguments: {} })
    expect(dump.isError).toBeFalsy()
    const state = (
      dump.structuredContent as { state: { items: Record<string, unknown>; projectionErrors: unknown[] } }
    ).state
    expect(state.projectionErrors).toEqual([])
    const ids = Object.keys(state.items)
    for (const id of created) expect(ids).toContain(id)
    for (const id of ids) {
      const status = await client.callTool({ name: "status", arguments: { story_id: id } })
      expect(status.isError, `status ${id}: ${JSON.stringify(status.content)}`).toBeFalsy()
    }
  } finally {
    await client.close()
  }
}

/**
 * With the fuzz's sessions closed, exactly `maxSessions` new ones fit side by side, and one more takes
 * the place of the least recently used of them: a session the fuzz left stuck (a request that never
 * ends holds it) or a slot never given back would make room run out sooner.
 */
export const checkSessionsBounded = async (f: Fuzzing) => {
  for (const id of f.sessions) await closeSession(f.url, id)
  const opened: Array<string> = []
  const ping = async (id: string) =>
    (
      await send(f.url, {
        method: "POST",
        path: "/mcp",
        headers: baseHeaders(id),
        body: json({ jsonrpc: "2.0", id: 1, method: "ping" }),
      })
    ).status
  try {
    for (let i = 0; i < maxSessions; i++) opened.push(await openSession(f.url))
    // In the order opened, so the first is the least recently used again.
    for (const id of opened) expect(await ping(id)).toBe(200)
    const [first, ...rest] = opened
    opened.push(await openSession(f.url))
    expect(await ping(first ?? "")).toBe(404)
    for (const id of rest) expect(await ping(id)).toBe(200)
  } finally {
    for (const id of opened) await closeSession(f.url, id)
  }
}

export const fuzzing = async (server: TestServerInfo): Promise<Fuzzing> => ({
  url: server.url,
  sessions: [await openSession(server.url), await openSession(server.url), await openSession(server.url)],
  strays: new Set(),
  created: [],
})

export const listTools = async (url: string): Promise<ReadonlyArray<ListedTool>> => {
  const client = await connect(url)
  try {
    return (await client.listTools()).tools
  } finally {
    await client.close()
  }
}

export const batch = (arb: fc.Arbitrary<Planned>) => fc.array(arb, { minLength: 15, maxLength: 25 })

export interface ListedTool {
  readonly name: string
  readonly description?: string | undefined
  readonly inputSchema: {
    readonly properties?: Record<string, { readonly type?: unknown }> | undefined
    readonly required?: ReadonlyArray<string> | undefined
  }
}
