// test/support/mcpFuzz/arbitraries.ts — what the fuzz test sends: fast-check generators of headers,
// bodies, JSON-RPC messages and tool calls with wrong, right and hostile arguments.
import fc from "fast-check"

import {
  accepts,
  protocolVersion,
  runnable,
  json,
  initializeBody,
  type Planned,
  type ListedTool,
} from "./client.js"

export const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,40}$/)
export const headerName = fc.stringMatching(/^x-[a-z0-9-]{1,20}$/)

export const goodHeaders = {
  "content-type": "application/json",
  accept: accepts,
  "mcp-protocol-version": protocolVersion,
}

/** Bent headers: each one missing, odd or right. */
export const bentHeadersArb = fc.record({
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

export const flatten = (
  h: { extra: Record<string, string> } & Record<string, unknown>,
): Record<string, string> => {
  const { extra, ...rest } = h
  const out: Record<string, string> = { ...extra }
  for (const [k, v] of Object.entries(rest)) if (typeof v === "string") out[k] = v
  return out
}

/** Mostly right, so that bodies get past the header checks to the JSON-RPC layer. */
export const headersArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(goodHeaders) },
  { weight: 2, arbitrary: bentHeadersArb.map(flatten) },
)

export const sessionArb: fc.Arbitrary<Planned["session"]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant("none" as const) },
  { weight: 6, arbitrary: fc.constant("live" as const) },
  { weight: 1, arbitrary: fc.constant("other" as const) },
  { weight: 1, arbitrary: fc.oneof(fc.uuid(), headerValue).map((random) => ({ random })) },
)

export const weird = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
)

export const methods = [
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
export const messageFields = {
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
export const messageArb = fc.oneof(
  { weight: 3, arbitrary: fc.record(messageFields, { requiredKeys: ["jsonrpc", "id", "method"] }) },
  { weight: 1, arbitrary: fc.record(messageFields, { requiredKeys: [] }) },
)

export const nested = (depth: number, open: string, close: string) =>
  open.repeat(depth) + "1" + close.repeat(depth)

export const bodyArb: fc.Arbitrary<string | Uint8Array | undefined> = fc.oneof(
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
export const plannedArb: fc.Arbitrary<Planned> = fc.record({
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

/** A value of the JSON Schema type `prop` declares, mostly: sometimes an existing item's id. */
export const valueFor = (prop: { readonly type?: unknown } | undefined): fc.Arbitrary<string> => {
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
export const objectText = (entries: ReadonlyArray<readonly [string, string]>) =>
  `{${entries.map(([k, v]) => `${json(k)}:${v}`).join(",")}}`

export const protoKeys = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"]

export const argumentsFor = (tool: ListedTool | undefined): fc.Arbitrary<string> => {
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
export const toolCallArb = (tools: ReadonlyArray<ListedTool>): fc.Arbitrary<Planned> => {
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
