// test/fakes/anthropic.ts — a fake Anthropic Messages API on 127.0.0.1 that the real Claude Code CLI
// talks to (ANTHROPIC_BASE_URL): scripted turns per session, every request recorded. Used by agent
// runtime tests through test/support/claude.ts. Which requests take scripted turns: anthropicRequests.ts.
import type { Effect, Scope } from "effect"
import { asMessagesRequest, isSideRequest, sessionIdOf } from "./anthropicRequests.js"
import { type ApiErrorSpec, isErrorTurn, type ReplyTurn, type Usage } from "./modelScript.js"
import {
  type Answering,
  type Exchange,
  type FakeModelApi,
  type Protocol,
  scopedFake,
  startFakeModelApi,
} from "./modelServer.js"
import { openEventStream, sendJson } from "./sse.js"

export * from "./anthropicRequests.js"
export { anySession } from "./modelScript.js"
export type { RecordedRequest, Turn } from "./modelScript.js"

export type FakeAnthropic = FakeModelApi

const defaultUsage: Usage = { input_tokens: 10, output_tokens: 5 }
const sideUsage: Usage = { input_tokens: 1, output_tokens: 1 }

const wireUsage = (usage: Usage) => ({
  input_tokens: usage.input_tokens,
  output_tokens: usage.output_tokens,
  cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
  cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
  service_tier: "standard",
})

/** Some value that fits a JSON schema, so structured side calls (titles) get parseable output. */
const sampleOf = (schema: unknown): unknown => {
  if (typeof schema !== "object" || schema === null) return null
  const s = schema as { type?: unknown; properties?: Record<string, unknown>; enum?: ReadonlyArray<unknown> }
  if (s.enum !== undefined && s.enum.length > 0) return s.enum[0]
  switch (s.type) {
    case "object":
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, sampleOf(v)]))
    case "array":
      return []
    case "string":
      return "Fake session"
    case "number":
    case "integer":
      return 0
    case "boolean":
      return false
    default:
      return null
  }
}

type ReplyBlock =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "tool_use"; readonly id: string; readonly name: string; readonly input: unknown }

interface Reply {
  readonly id: string
  readonly model: string
  readonly content: ReadonlyArray<ReplyBlock>
  readonly stopReason: string
  readonly usage: Usage
}

const replyOf = (turn: ReplyTurn, requestIndex: number, model: string): Reply => {
  const toolUses = turn.toolUses ?? []
  const content: Array<ReplyBlock> = [
    ...(turn.text === undefined ? [] : [{ type: "text" as const, text: turn.text }]),
    ...toolUses.map((use, i) => ({
      type: "tool_use" as const,
      id: use.id ?? `toolu_fake${requestIndex}_${i}`,
      name: use.name,
      input: use.input,
    })),
  ]
  return {
    id: `msg_fake${requestIndex}`,
    model,
    content,
    stopReason: turn.stopReason ?? (toolUses.length > 0 ? "tool_use" : "end_turn"),
    usage: turn.usage ?? defaultUsage,
  }
}

const chunks = (text: string, size: number): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size))
  return out.length === 0 ? [""] : out
}

/** Streams a reply the way the API does: start, blocks in pieces, the stop reason with usage, stop. */
const streamReply = (exchange: Exchange, reply: Reply): void => {
  const sse = openEventStream(exchange.res, { "request-id": `req_${reply.id}` })
  sse.event("message_start", {
    type: "message_start",
    message: {
      id: reply.id,
      type: "message",
      role: "assistant",
      model: reply.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...wireUsage(reply.usage), output_tokens: 1 },
    },
  })
  sse.event("ping", { type: "ping" })
  reply.content.forEach((block, index) => {
    if (block.type === "text") {
      sse.event("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "text", text: "" },
      })
      for (const text of chunks(block.text, 40))
        sse.event("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "text_delta", text },
        })
    } else {
      sse.event("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
      })
      for (const partial_json of chunks(JSON.stringify(block.input ?? {}), 40))
        sse.event("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json },
        })
    }
    sse.event("content_block_stop", { type: "content_block_stop", index })
  })
  sse.event("message_delta", {
    type: "message_delta",
    delta: { stop_reason: reply.stopReason, stop_sequence: null },
    usage: wireUsage(reply.usage),
  })
  sse.event("message_stop", { type: "message_stop" })
  sse.end()
}

const sendReply = (exchange: Exchange, reply: Reply): void => {
  if (asMessagesRequest(exchange.body).stream === true) return streamReply(exchange, reply)
  sendJson(
    exchange.res,
    200,
    {
      id: reply.id,
      type: "message",
      role: "assistant",
      model: reply.model,
      content: reply.content,
      stop_reason: reply.stopReason,
      stop_sequence: null,
      usage: wireUsage(reply.usage),
    },
    { "request-id": `req_${reply.id}` },
  )
}

const sendError = (
  exchange: Exchange,
  requestIndex: number,
  status: number,
  type: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void => {
  const requestId = `req_fake${requestIndex}`
  sendJson(
    exchange.res,
    status,
    { type: "error", error: { type, message }, request_id: requestId },
    { "request-id": requestId, ...headers },
  )
}

/** The headers the API sends with an error: retry hints, and the rate-limit state on a 429. */
const errorHeaders = (error: ApiErrorSpec): Record<string, string> => {
  const reset = new Date(Date.now() + (error.retryAfterSecs ?? 60) * 1000).toISOString()
  const limits =
    error.status === 429
      ? Object.fromEntries(
          ["requests", "tokens", "input-tokens", "output-tokens"].flatMap((what) => [
            [`anthropic-ratelimit-${what}-limit`, "50"],
            [`anthropic-ratelimit-${what}-remaining`, "0"],
            [`anthropic-ratelimit-${what}-reset`, reset],
          ]),
        )
      : {}
  return {
    ...limits,
    ...(error.retryAfterSecs === undefined ? {} : { "retry-after": String(error.retryAfterSecs) }),
    ...(error.shouldRetry === undefined ? {} : { "x-should-retry": String(error.shouldRetry) }),
    ...error.headers,
  }
}

const answerMessages = (exchange: Exchange, answering: Answering): void => {
  const request = asMessagesRequest(exchange.body)
  const model = request.model ?? "claude-fake"
  if (answering.kind === "side") {
    const schema = request.output_config?.format?.schema
    const text = schema === undefined ? "OK" : JSON.stringify(sampleOf(schema))
    return sendReply(exchange, replyOf({ text, usage: sideUsage }, answering.requestIndex, model))
  }
  const turn = answering.scripted?.turn
  if (turn === undefined)
    return sendReply(exchange, replyOf({ text: "script exhausted" }, answering.requestIndex, model))
  if (isErrorTurn(turn)) {
    const { error } = turn
    return sendError(
      exchange,
      answering.requestIndex,
      error.status,
      error.type,
      error.message,
      errorHeaders(error),
    )
  }
  sendReply(exchange, replyOf(turn, answering.requestIndex, model))
}

const knownModels = ["claude-opus-4-8", "claude-sonnet-4-6", "claude-haiku-4-5"]

const modelInfo = (id: string) => ({
  type: "model",
  id,
  display_name: id,
  created_at: "2026-01-01T00:00:00Z",
})

const answer = (exchange: Exchange, answering: Answering): void => {
  const { method, path } = exchange
  if (method === "POST" && path === "/v1/messages") return answerMessages(exchange, answering)
  if (method === "POST" && path === "/v1/messages/count_tokens") {
    // About four characters a token, like the real tokenizer on English and code.
    const { messages, system, tools } = asMessagesRequest(exchange.body)
    const size = JSON.stringify([messages ?? [], system ?? [], tools ?? []]).length
    return sendJson(exchange.res, 200, { input_tokens: Math.ceil(size / 4) })
  }
  // Claude Code preconnects with `HEAD /` at start-up; it ignores the answer but a 200 is honest.
  if ((method === "HEAD" || method === "GET") && path === "/") return sendJson(exchange.res, 200, {})
  if (method === "GET" && path === "/v1/models") {
    const data = knownModels.map(modelInfo)
    return sendJson(exchange.res, 200, {
      data,
      has_more: false,
      first_id: data[0]?.id,
      last_id: data.at(-1)?.id,
    })
  }
  const model = /^\/v1\/models\/([^/]+)$/.exec(path)?.[1]
  if (method === "GET" && model !== undefined) return sendJson(exchange.res, 200, modelInfo(model))
  answering.flag(`unknown endpoint: ${method} ${path}`)
  sendError(exchange, answering.requestIndex, 404, "not_found_error", `Not found: ${method} ${path}`)
}

export const anthropicProtocol: Protocol = {
  provider: "anthropic",
  classify: (exchange: Exchange) => ({
    sessionId: sessionIdOf(exchange.headers, exchange.body),
    kind:
      exchange.method === "POST" && exchange.path === "/v1/messages"
        ? isSideRequest(exchange.body)
          ? "side"
          : "main"
        : "other",
  }),
  answer,
}

/** Starts a fake Anthropic API on 127.0.0.1 with an ephemeral port; `close()` it when done. */
export const startFakeAnthropic = (): Promise<FakeAnthropic> => startFakeModelApi(anthropicProtocol)

/** The fake, owned by the current Effect scope. */
export const fakeAnthropic: Effect.Effect<FakeAnthropic, never, Scope.Scope> = scopedFake(startFakeAnthropic)
