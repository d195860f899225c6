// test/transports/mcp/fuzz.test.ts — /mcp under random and malformed input, against the real server
// in-process on 127.0.0.1 (fast-check generates, raw node:http sends, ~3000 requests in all).
//
// Input classes covered:
// - bodies: garbage bytes, text that is not JSON (random, truncated JSON), JSON that is not JSON-RPC,
//   JSON-RPC with wrong types (id as object/array/bool/float/null, method as number/null, params as
//   string/number/array, jsonrpc other than "2.0"), batches (mixed, empty, 101 messages), deep
//   nesting (up to 100k levels), oversized strings (1 MiB in a message, 5 MiB bodies), unknown
//   methods, notifications, client-sent responses, a second initialize, cancellations;
// - headers: missing/odd content-type and accept, missing/unknown/foreign/random session ids, odd
//   protocol versions, odd Host, random extra headers, chunked or sized bodies;
// - methods: POST, GET (an event stream when the session is valid), DELETE, HEAD, PUT, OPTIONS,
//   TRACE; paths with query strings;
// - in a live session: tools/call with listed and random tool names (incl. "__proto__",
//   "constructor"), arguments that are random JSON values, objects with the tool's own fields given
//   wrong or right types, extra keys and prototype keys (__proto__, constructor, prototype), ids of
//   existing items, progress tokens; requests sent 4 at a time, so ids collide across requests.
// Tools not in `runnable` (ones that may block, start agents, run tests or delete) are only sent
// arguments with an unknown key, which strict decoding always refuses before the tool runs.
//
// Checked: every answer has an expected status and is JSON-RPC 2.0 (a JSON error object, or an event
// stream whose events are JSON-RPC and answer every request sent), or is empty where HTTP says so
// (202, DELETE, HEAD); no request waits past `requestTimeoutMs`; /health answers 200 after every
// batch; afterwards dump_state shows no projection errors, every item (and every one the fuzz
// created) reads with status, and exactly `maxSessions` new sessions fit (none leaked).
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import fc from "fast-check"
import { mkdirSync } from "node:fs"
import { Agent, request as httpRequest } from "node:http"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { type TestServer, withServer } from "../../support/server.js"

const requestTimeoutMs = 10_000
/** McpEndpoint's default bound on open sessions. */
const maxSessions = 256
const accepts = "application/json, text/event-stream"
const protocolVersion = "2025-06-18"
/** Tools whose real run is harmless here: they read, or write only the Store of the temp project. */
const runnable = new Set([
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

interface Sent {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body?: string | Uint8Array
  /** Write the body in pieces (chunked) instead of in one go with a Content-Length. */
  readonly chunked?: boolean
}

interface Received {
  readonly status: number
  readonly contentType: string
  readonly body: string
  readonly sessionId: string | undefined
  /** A GET event stream, left open by the server: only its headers were read. */
  readonly openStream: boolean
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 })

const send = (url: string, sent: Sent): Promise<Received> =>
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

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v)

/** A JSON-RPC 2.0 response (result or error{code,message}) or, in a stream, a server notification. */
const jsonRpcProblem = (v: unknown, inStream: boolean): string | undefined => {
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

const sseMessages = (body: string): Array<unknown> =>
  body
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => JSON.parse(line.slice("data:".length)) as unknown)

/** Ids of the requests in a body, if it is JSON: the stream must answer each of them. */
const requestIdsOf = (body: Sent["body"]): Array<unknown> => {
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

const okStatuses: Record<string, ReadonlyArray<number>> = {
  POST: [200, 202, 400, 404, 406, 409, 413, 415],
  GET: [200, 400, 404, 406, 409],
  DELETE: [200, 400, 404],
}

/** Why `got` is not a well-formed answer to `sent`, or undefined if it is. */
const problemWith = (sent: Sent, got: Received): string | undefined => {
  const allowed = okStatuses[sent.method] ?? [405]
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

interface Fuzzing {
  readonly url: string
  /** Live sessions requests may name; topped up after every batch. */
  readonly sessions: Array<string>
  /** Sessions the fuzz opened by chance (a random initialize that was valid); closed per batch. */
  readonly strays: Set<string>
  /** Ids of items the fuzz filed. */
  readonly created: Array<string>
}

const json = (v: unknown) => JSON.stringify(v)

const initializeBody = (id: unknown = 1) =>
  json({
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: { protocolVersion, capabilities: {}, clientInfo: { name: "fuzz", version: "1.0.0" } },
  })

const baseHeaders = (session?: string): Record<string, string> => ({
  "content-type": "application/json",
  accept: accepts,
  ...(session === undefined ? {} : { "mcp-session-id": session, "mcp-protocol-version": protocolVersion }),
})

const openSession = async (url: string): Promise<string> => {
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

const closeSession = async (url: string, id: string) => {
  const closed = await send(url, { method: "DELETE", path: "/mcp", headers: baseHeaders(id) })
  expect([200, 404]).toContain(closed.status)
}

/** A generated request, still naming sessions and items symbolically (they exist only at run time). */
interface Planned {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly session: "none" | "live" | "other" | { readonly random: string }
  readonly body: string | Uint8Array | undefined
  readonly chunked: boolean
}

const idMarker = /"\$ITEM(\d+)"/g

const materialize = (f: Fuzzing, p: Planned, salt: number): Sent => {
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
const runBatch = async (f: Fuzzing, batch: ReadonlyArray<Planned>) => {
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

const describeSent = (s: Sent) => {
  const body =
    typeof s.body === "string" ? s.body.slice(0, 200) : s.body === undefined ? "" : `<${s.body.length} bytes>`
  return `${s.method} ${s.path} ${json(s.headers)} ${body}`
}

/** Remembers what the answer created: items filed, sessions opened by a chance initialize. */
const record = (f: Fuzzing, sent: Sent, got: Received) => {
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

const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,40}$/)
const headerName = fc.stringMatching(/^x-[a-z0-9-]{1,20}$/)

const goodHeaders = {
  "content-type": "application/json",
  accept: accepts,
  "mcp-protocol-version": protocolVersion,
}

/** Bent headers: each one missing, odd or right. */
const bentHeadersArb = fc.record({
  "content-type": fc.option(
    fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "text/plain",
      "application/jsonx",
      "multipart/form-data; boundary=x",
      ";;",
    ),
    { nil: undefined, freq: 4 },
  ),
  accept: fc.option(
    fc.constantFrom(
      accepts,
      "application/json",
      "text/event-stream",
      "*/*",
      "text/html",
      "application/json,text/event-stream;q=0",
    ),
    {
      nil: undefined,
      freq: 4,
    },
  ),
  "mcp-protocol-version": fc.option(
    fc.constantFrom(protocolVersion, "2025-03-26", "2024-11-05", "1999-01-01", "latest"),
    { nil: undefined, freq: 2 },
  ),
  host: fc.option(fc.constantFrom("localhost", "a b", "[::1", "example.com:99999", "évil"), {
    nil: undefined,
    freq: 8,
  }),
  extra: fc.dictionary(headerName, headerValue, { maxKeys: 2 }),
})

const flatten = (h: { extra: Record<string, string> } & Record<string, unknown>): Record<string, string> => {
  const { extra, ...rest } = h
  const out: Record<string, string> = { ...extra }
  for (const [k, v] of Object.entries(rest)) if (typeof v === "string") out[k] = v
  return out
}

/** Mostly right, so that bodies get past the header checks to the JSON-RPC layer. */
const headersArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(goodHeaders) },
  { weight: 2, arbitrary: bentHeadersArb.map(flatten) },
)

const sessionArb: fc.Arbitrary<Planned["session"]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant("none" as const) },
  { weight: 6, arbitrary: fc.constant("live" as const) },
  { weight: 1, arbitrary: fc.constant("other" as const) },
  { weight: 1, arbitrary: fc.oneof(fc.uuid(), headerValue).map((random) => ({ random })) },
)

const weird = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
)

const methods = [
  "initialize",
  "ping",
  "tools/list",
  "tools/call",
  "resources/list",
  "prompts/get",
  "logging/setLevel",
  "completion/complete",
  "notifications/initialized",
  "notifications/cancelled",
  "notifications/progress",
]

/** One JSON-RPC-shaped message with any field missing, right or of the wrong type. */
const messageFields = {
  jsonrpc: fc.oneof({ weight: 8, arbitrary: fc.constant("2.0") }, { weight: 1, arbitrary: weird }),
  id: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 20 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    { weight: 2, arbitrary: weird },
  ),
  method: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...methods) },
    { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 1, arbitrary: weird },
  ),
  params: fc.oneof(
    {
      weight: 3,
      arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ name: fc.string({ maxLength: 12 }), arguments: fc.jsonValue({ maxDepth: 2 }) }),
    },
    { weight: 1, arbitrary: weird },
  ),
  result: fc.jsonValue({ maxDepth: 1 }),
  error: fc.oneof(fc.record({ code: fc.integer(), message: fc.string() }), weird),
}

/** One JSON-RPC-shaped message: usually a request with some field wrong, else any mix of fields. */
const messageArb = fc.oneof(
  { weight: 3, arbitrary: fc.record(messageFields, { requiredKeys: ["jsonrpc", "id", "method"] }) },
  { weight: 1, arbitrary: fc.record(messageFields, { requiredKeys: [] }) },
)

const nested = (depth: number, open: string, close: string) => open.repeat(depth) + "1" + close.repeat(depth)

const bodyArb: fc.Arbitrary<string | Uint8Array | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: messageArb.map((m) => json(m).slice(0, -3)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json) },
  { weight: 8, arbitrary: messageArb.map(json) },
  { weight: 3, arbitrary: fc.array(messageArb, { maxLength: 6 }).map(json) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "[]",
      "{}",
      "null",
      '""',
      "0",
      json(Array.from({ length: 101 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "ping" }))),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 10, max: 100_000 })
      .chain((d) => fc.constantFrom(nested(d, "[", "]"), nested(d, '{"a":', "}"))),
  },
  {
    weight: 1,
    arbitrary: fc.constant(
      json({ jsonrpc: "2.0", id: 1, method: "ping", params: { big: "x".repeat(1 << 20) } }),
    ),
  },
  { weight: 2, arbitrary: fc.constant(initializeBody()) },
  { weight: 1, arbitrary: fc.constant(undefined) },
)

/** Protocol-level requests: any method, headers and body. */
const plannedArb: fc.Arbitrary<Planned> = fc.record({
  method: fc.oneof(
    { weight: 10, arbitrary: fc.constant("POST") },
    { weight: 2, arbitrary: fc.constantFrom("GET", "DELETE") },
    { weight: 1, arbitrary: fc.constantFrom("HEAD", "PUT", "OPTIONS", "TRACE", "PATCH") },
  ),
  path: fc.constantFrom("/mcp", "/mcp", "/mcp", "/mcp?x=1", "/mcp?%zz", "/mcp?session=1&&"),
  headers: headersArb,
  session: sessionArb,
  body: bodyArb,
  chunked: fc.boolean(),
})

interface ListedTool {
  readonly name: string
  readonly description?: string | undefined
  readonly inputSchema: {
    readonly properties?: Record<string, { readonly type?: unknown }> | undefined
    readonly required?: ReadonlyArray<string> | undefined
  }
}

/** A value of the JSON Schema type `prop` declares, mostly: sometimes an existing item's id. */
const valueFor = (prop: { readonly type?: unknown } | undefined): fc.Arbitrary<string> => {
  const itemId = fc.nat({ max: 50 }).map((n) => `"$ITEM${n}"`)
  switch (prop?.type) {
    case "string":
      return fc.oneof(itemId, fc.string({ maxLength: 40 }).map(json), fc.constant(json("x".repeat(100_000))))
    case "integer":
    case "number":
      return fc.oneof(fc.integer({ min: -5, max: 2000 }), fc.double()).map(json)
    case "boolean":
      return fc.boolean().map(json)
    case "array":
      return fc
        .array(fc.oneof(itemId, fc.string({ maxLength: 20 }).map(json)), { maxLength: 4 })
        .map((xs) => `[${xs.join(",")}]`)
    default:
      return fc.jsonValue({ maxDepth: 2 }).map(json)
  }
}

/** Object text built by hand, so keys like "__proto__" stay plain keys. */
const objectText = (entries: ReadonlyArray<readonly [string, string]>) =>
  `{${entries.map(([k, v]) => `${json(k)}:${v}`).join(",")}}`

const protoKeys = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"]

const argumentsFor = (tool: ListedTool | undefined): fc.Arbitrary<string> => {
  const props = tool?.inputSchema.properties ?? {}
  const names = Object.keys(props)
  const field = fc.constantFrom(...(names.length > 0 ? names : ["x"]))
  const required = tool?.inputSchema.required ?? []
  // The required fields and some optional ones, each of its declared type.
  const rightTypes = fc
    .subarray(names.filter((n) => !required.includes(n)))
    .chain((optional) =>
      fc
        .tuple(...[...required, ...optional].map((k) => valueFor(props[k]).map((v) => [k, v] as const)))
        .map(objectText),
    )
  const wrongTypes = fc
    .array(fc.tuple(field, fc.jsonValue({ maxDepth: 2 }).map(json)), { maxLength: 4 })
    .map(objectText)
  const extraKeys = fc
    .tuple(
      rightTypes,
      fc.constantFrom(...protoKeys, "summary", "__fuzz_extra__"),
      fc.jsonValue({ maxDepth: 2 }).map(json),
    )
    .map(([obj, k, v]) => (obj === "{}" ? `{${json(k)}:${v}}` : `${obj.slice(0, -1)},${json(k)}:${v}}`))
  const deep = fc
    .integer({ min: 10, max: 5000 })
    .map((d) => objectText([[names[0] ?? "x", nested(d, "[", "]")]]))
  const safe = tool !== undefined && runnable.has(tool.name)
  const generated = safe
    ? fc.oneof(
        { weight: 5, arbitrary: rightTypes },
        { weight: 3, arbitrary: wrongTypes },
        { weight: 3, arbitrary: extraKeys },
        { weight: 1, arbitrary: deep },
        { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }).map(json) },
      )
    : fc.oneof(wrongTypes, rightTypes)
  // A tool that may block or reach outside the temp project is only ever refused by decoding.
  return safe
    ? generated
    : generated.map((obj) =>
        obj.startsWith("{") && obj !== "{}"
          ? `${obj.slice(0, -1)},"__fuzz_refused__":1}`
          : '{"__fuzz_refused__":1}',
      )
}

/** tools/call (mostly) in a live session with correct headers, sometimes bent. */
const toolCallArb = (tools: ReadonlyArray<ListedTool>): fc.Arbitrary<Planned> => {
  const byName = new Map(tools.map((t) => [t.name, t]))
  const name = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...tools.map((t) => t.name)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "__proto__",
        "constructor",
        "toString",
        "",
        "STATUS",
        "status ",
        "no_such_tool",
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  )
  const call = fc
    .record({
      name,
      id: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.string({ maxLength: 6 })),
      progress: fc.boolean(),
    })
    .chain(({ name, id, progress }) =>
      argumentsFor(byName.get(name)).map((args) => {
        const meta = progress ? `,"_meta":{"progressToken":${json(id)}}` : ""
        return `{"jsonrpc":"2.0","id":${json(id)},"method":"tools/call","params":{"name":${json(name)},"arguments":${args}${meta}}}`
      }),
    )
  const body = fc.oneof(
    { weight: 10, arbitrary: call },
    { weight: 2, arbitrary: fc.array(call, { minLength: 1, maxLength: 4 }).map((xs) => `[${xs.join(",")}]`) },
    // Cancelling a request that is still running leaves its stream open without a response (the
    // spec's rule: the client that cancelled stops waiting), so cancellations name ids no call uses.
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1000, max: 1030 })
        .map((id) => json({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id } })),
    },
    { weight: 1, arbitrary: fc.constant(json({ jsonrpc: "2.0", id: "list", method: "tools/list" })) },
    { weight: 1, arbitrary: bodyArb },
  )
  return fc.record({
    method: fc.oneof(
      { weight: 20, arbitrary: fc.constant("POST") },
      { weight: 1, arbitrary: fc.constantFrom("GET", "PUT") },
    ),
    path: fc.constant("/mcp"),
    headers: fc.oneof(
      { weight: 8, arbitrary: fc.constant(goodHeaders) },
      { weight: 1, arbitrary: bentHeadersArb.map(flatten) },
    ),
    session: fc.oneof(
      { weight: 12, arbitrary: fc.constant("live" as const) },
      { weight: 1, arbitrary: sessionArb },
    ),
    body,
    chunked: fc.boolean(),
  })
}

// ---- the checks afterwards ------------------------------------------------------------------

/** An SDK client; `close` ends its session on the server too (the SDK's own close leaves it open). */
const connect = async (url: string) => {
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
const checkStore = async (url: string, created: ReadonlyArray<string>) => {
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

/** With the fuzz's sessions closed, exactly `maxSessions` fit again: nothing leaked into the map. */
const checkSessionsBounded = async (f: Fuzzing) => {
  for (const id of f.sessions) await closeSession(f.url, id)
  const opened: Array<string> = []
  try {
    for (;;) {
      const init = await send(f.url, {
        method: "POST",
        path: "/mcp",
        headers: baseHeaders(),
        body: initializeBody(),
      })
      if (init.status === 503) {
        expect(jsonRpcProblem(JSON.parse(init.body), false)).toBeUndefined()
        break
      }
      expect(init.status).toBe(200)
      if (init.sessionId !== undefined) opened.push(init.sessionId)
      if (opened.length > maxSessions) break
    }
    expect(opened.length).toBe(maxSessions)
  } finally {
    for (const id of opened) await closeSession(f.url, id)
  }
}

const fuzzing = async (server: TestServer): Promise<Fuzzing> => ({
  url: server.url,
  sessions: [await openSession(server.url), await openSession(server.url), await openSession(server.url)],
  strays: new Set(),
  created: [],
})

const listTools = async (url: string): Promise<ReadonlyArray<ListedTool>> => {
  const client = await connect(url)
  try {
    return (await client.listTools()).tools
  } finally {
    await client.close()
  }
}

const batch = (arb: fc.Arbitrary<Planned>) => fc.array(arb, { minLength: 15, maxLength: 25 })

describe("/mcp under random and malformed input", () => {
  it("answers every protocol-level request with well-formed JSON-RPC and stays healthy", async () => {
    await withServer(async (server) => {
      const f = await fuzzing(server)
      await fc.assert(
        fc.asyncProperty(batch(plannedArb), (planned) => runBatch(f, planned)),
        { numRuns: 50, endOnFailure: true },
      )
      await checkStore(server.url, f.created)
      await checkSessionsBounded(f)
    })
  }, 120_000)

  it("answers random tools/call traffic in live sessions and leaves the Store readable", async () => {
    await withServer(async (server) => {
      const f = await fuzzing(server)
      const tools = await listTools(server.url)
      // Items to aim ids at, one of them with a worktree directory so status takes its slower path.
      const client = await connect(server.url)
      for (const name of ["seed one", "seed two"]) {
        const created = await client.callTool({ name: "create_story", arguments: { name } })
        f.created.push((created.structuredContent as { story_id: string }).story_id)
      }
      await client.close()
      mkdirSync(join(server.root, ".huskies", "worktrees", f.created[0] ?? "none"), { recursive: true })
      await fc.assert(
        fc.asyncProperty(batch(toolCallArb(tools)), (planned) => runBatch(f, planned)),
        { numRuns: 60, endOnFailure: true },
      )
      expect(f.created.length).toBeGreaterThan(2)
      await checkStore(server.url, f.created)
    })
  }, 120_000)

  // Regressions found by the fuzz.
  it("answers methods a web Request cannot carry (TRACE) with a JSON-RPC 405, not an empty 500", async () => {
    await withServer(async ({ url }) => {
      for (const method of ["TRACE", "OPTIONS", "PUT", "HEAD"]) {
        const sent: Sent = { method, path: "/mcp", headers: baseHeaders() }
        const got = await send(url, sent)
        expect(got.status).toBe(405)
        expect(problemWith(sent, got)).toBeUndefined()
      }
    })
  })

  it("refuses a request id still in flight in the session instead of leaving a request hanging", async () => {
    await withServer(async ({ url, root }) => {
      const session = await openSession(url)
      const client = await connect(url)
      const created = await client.callTool({ name: "create_story", arguments: { name: "slow status" } })
      await client.close()
      const id = (created.structuredContent as { story_id: string }).story_id
      // A worktree directory makes status run git: the first call is still running when the rest arrive.
      mkdirSync(join(root, ".huskies", "worktrees", id), { recursive: true })
      const body = json({
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name: "status", arguments: { story_id: id } },
      })
      const sent: Sent = { method: "POST", path: "/mcp", headers: baseHeaders(session), body }
      const answers = await Promise.all(Array.from({ length: 6 }, () => send(url, sent)))
      for (const got of answers) {
        expect([200, 409]).toContain(got.status)
        expect(problemWith(sent, got)).toBeUndefined()
      }
      expect(answers.some((a) => a.status === 200)).toBe(true)
      // Once answered, the id is free again.
      expect((await send(url, sent)).status).toBe(200)
      const twice: Sent = { ...sent, body: `[${body},${body}]` }
      const dup = await send(url, twice)
      expect(dup.status).toBe(409)
      expect(problemWith(twice, dup)).toBeUndefined()
    })
  })

  it("shuts down promptly while a client holds its event stream open", async () => {
    let held: Promise<number> | undefined
    const started = Date.now()
    await withServer(async ({ url }) => {
      const session = await openSession(url)
      const base = new URL(url)
      // The standalone GET stream an MCP client keeps open for as long as it is connected.
      held = new Promise((resolve, reject) => {
        const req = httpRequest({
          host: base.hostname,
          port: base.port,
          path: "/mcp",
          headers: { accept: "text/event-stream", "mcp-session-id": session },
          agent: false,
        })
        req.on("response", (res) => {
          res.resume()
          res.on("close", () => resolve(res.statusCode ?? 0))
        })
        req.on("error", reject)
        req.end()
      })
      // Headers arrive at once, before any event: the client knows the stream is open.
      await new Promise((r) => setTimeout(r, 200))
    })
    // Before: shutdown waited for the client to leave (forever for a live one).
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(await held).toBe(200)
  })

  it("refuses a body over 4 MiB with a JSON-RPC 413 and keeps serving", async () => {
    await withServer(async ({ url }) => {
      const session = await openSession(url)
      for (const chunked of [false, true]) {
        const sent: Sent = {
          method: "POST",
          path: "/mcp",
          headers: baseHeaders(session),
          body: "x".repeat(5 << 20),
          chunked,
        }
        const got = await send(url, sent)
        expect(got.status).toBe(413)
        expect(problemWith(sent, got)).toBeUndefined()
      }
      expect((await send(url, { method: "GET", path: "/health", headers: {} })).status).toBe(200)
    })
  })
})
