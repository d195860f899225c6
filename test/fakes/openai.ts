// test/fakes/openai.ts — a fake OpenAI Responses API on 127.0.0.1 that the real Codex CLI talks to
// (a `model_providers` entry with `base_url` and `wire_api = "responses"`, see test/support/codex.ts):
// scripted turns per session streamed as Responses SSE, every request recorded, 429s with the
// rate-limit headers. Used by the codex runtime tests.
//
// Whose request: Codex sends its thread id in the `session-id` (and `thread-id`) header of every
// request; `codex exec` makes the id up, so tests script `anySession` on a fake of their own.
import type { Effect, Scope } from "effect"
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

export { anySession } from "./modelScript.js"
export type { RecordedRequest, Turn } from "./modelScript.js"

export type FakeOpenAi = FakeModelApi

const defaultUsage: Usage = { input_tokens: 10, output_tokens: 5 }

/** Responses usage: input_tokens includes the cached part, as the real API counts it. */
const wireUsage = (usage: Usage) => {
  const cached = usage.cache_read_input_tokens ?? 0
  return {
    input_tokens: usage.input_tokens + cached,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.input_tokens + cached + usage.output_tokens,
  }
}

type OutputItem =
  | {
      readonly type: "message"
      readonly id: string
      readonly role: "assistant"
      readonly status: string
      readonly content: ReadonlyArray<{ type: "output_text"; text: string; annotations: [] }>
    }
  | {
      readonly type: "function_call"
      readonly id: string
      readonly call_id: string
      readonly name: string
      readonly namespace?: string
      readonly arguments: string
      readonly status: string
    }

const outputOf = (turn: ReplyTurn, requestIndex: number): ReadonlyArray<OutputItem> => [
  ...(turn.text === undefined
    ? []
    : [
        {
          type: "message" as const,
          id: `msg_fake${requestIndex}`,
          role: "assistant" as const,
          status: "completed",
          content: [{ type: "output_text" as const, text: turn.text, annotations: [] as [] }],
        },
      ]),
  ...(turn.toolUses ?? []).map((use, i) => ({
    type: "function_call" as const,
    id: `fc_fake${requestIndex}_${i}`,
    call_id: use.id ?? `call_fake${requestIndex}_${i}`,
    name: use.name,
    ...(use.namespace === undefined ? {} : { namespace: use.namespace }),
    arguments: typeof use.input === "string" ? use.input : JSON.stringify(use.input ?? {}),
    status: "completed",
  })),
]

const chunks = (text: string, size: number): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size))
  return out.length === 0 ? [""] : out
}

/** Streams a reply as the Responses API does: created, each item added/delta/done, completed. */
const streamReply = (exchange: Exchange, turn: ReplyTurn, requestIndex: number): void => {
  const model = (exchange.body as { model?: string } | undefined)?.model ?? "gpt-fake"
  const sse = openEventStream(exchange.res, { "x-request-id": `req_fake${requestIndex}` })
  let sequence = 0
  const event = (type: string, data: Record<string, unknown>) =>
    sse.event(type, { type, sequence_number: sequence++, ...data })
  const response = {
    id: `resp_fake${requestIndex}`,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status: "in_progress",
    model,
    output: [] as ReadonlyArray<OutputItem>,
    usage: null as unknown,
  }
  event("response.created", { response })
  event("response.in_progress", { response })
  const output = outputOf(turn, requestIndex)
  output.forEach((item, output_index) => {
    if (item.type === "message") {
      const text = item.content[0]?.text ?? ""
      event("response.output_item.added", {
        output_index,
        item: { ...item, status: "in_progress", content: [] },
      })
      const part = { type: "output_text", text: "", annotations: [] }
      event("response.content_part.added", { item_id: item.id, output_index, content_index: 0, part })
      for (const delta of chunks(text, 40))
        event("response.output_text.delta", { item_id: item.id, output_index, content_index: 0, delta })
      event("response.output_text.done", { item_id: item.id, output_index, content_index: 0, text })
      event("response.content_part.done", {
        item_id: item.id,
        output_index,
        content_index: 0,
        part: { ...part, text },
      })
    } else {
      event("response.output_item.added", {
        output_index,
        item: { ...item, arguments: "", status: "in_progress" },
      })
      for (const delta of chunks(item.arguments, 40))
        event("response.function_call_arguments.delta", { item_id: item.id, output_index, delta })
      event("response.function_call_arguments.done", {
        item_id: item.id,
        output_index,
        arguments: item.arguments,
      })
    }
    event("response.output_item.done", { output_index, item })
  })
  event("response.completed", {
    response: { ...response, status: "completed", output, usage: wireUsage(turn.usage ?? defaultUsage) },
  })
  sse.end()
}

const resetText = (secs: number) => `${secs}s`

/** The headers the API sends with an error: retry hints, and the rate-limit state on a 429. */
const errorHeaders = (error: ApiErrorSpec): Record<string, string> => {
  const secs = error.retryAfterSecs ?? 60
  const limits =
    error.status === 429
      ? {
          "x-ratelimit-limit-requests": "500",
          "x-ratelimit-remaining-requests": "0",
          "x-ratelimit-reset-requests": resetText(secs),
          "x-ratelimit-limit-tokens": "30000",
          "x-ratelimit-remaining-tokens": "0",
          "x-ratelimit-reset-tokens": resetText(secs),
        }
      : {}
  return {
    ...limits,
    ...(error.retryAfterSecs === undefined ? {} : { "retry-after": String(error.retryAfterSecs) }),
    ...(error.shouldRetry === undefined ? {} : { "x-should-retry": String(error.shouldRetry) }),
    ...error.headers,
  }
}

/**
 * An HTTP error as OpenAI sends it: `{error: {message, type, param, code}}`. The spec's `type` is
 * the error code ("rate_limit_exceeded", "server_error", "usage_limit_reached"...); a 429's type is
 * "requests" as the real API says, anything else keeps the code as its type.
 */
const sendError = (exchange: Exchange, requestIndex: number, error: ApiErrorSpec): void =>
  sendJson(
    exchange.res,
    error.status,
    {
      error: {
        message: error.message,
        type: error.status === 429 && error.type === "rate_limit_exceeded" ? "requests" : error.type,
        param: null,
        code: error.type,
        // ChatGPT plans' limit: Codex reads when it resets from these and prints "Try again at ...".
        ...(error.type === "usage_limit_reached"
          ? {
              plan_type: "plus",
              resets_at: Math.floor(Date.now() / 1000) + (error.retryAfterSecs ?? 60),
              resets_in_seconds: error.retryAfterSecs ?? 60,
            }
          : {}),
      },
    },
    { "x-request-id": `req_fake${requestIndex}`, ...errorHeaders(error) },
  )

const answer = (exchange: Exchange, answering: Answering): void => {
  const { method, path } = exchange
  if (method === "POST" && path === "/v1/responses") {
    const turn = answering.scripted?.turn
    if (turn === undefined) return streamReply(exchange, { text: "script exhausted" }, answering.requestIndex)
    if (isErrorTurn(turn)) return sendError(exchange, answering.requestIndex, turn.error)
    return streamReply(exchange, turn, answering.requestIndex)
  }
  if (method === "GET" && path === "/v1/models")
    return sendJson(exchange.res, 200, { object: "list", data: [] })
  answering.flag(`unknown endpoint: ${method} ${path}`)
  sendJson(exchange.res, 404, {
    error: {
      message: `Not found: ${method} ${path}`,
      type: "invalid_request_error",
      param: null,
      code: null,
    },
  })
}

export const openAiProtocol: Protocol = {
  provider: "openai",
  classify: (exchange: Exchange) => ({
    sessionId: exchange.headers["session-id"] ?? exchange.headers["thread-id"],
    kind: exchange.method === "POST" && exchange.path === "/v1/responses" ? "main" : "other",
  }),
  answer,
}

/** Starts a fake OpenAI Responses API on 127.0.0.1 with an ephemeral port; `close()` it when done. */
export const startFakeOpenAi = (): Promise<FakeOpenAi> => startFakeModelApi(openAiProtocol)

/** The fake, owned by the current Effect scope. */
export const fakeOpenAi: Effect.Effect<FakeOpenAi, never, Scope.Scope> = scopedFake(startFakeOpenAi)

// ---- reading recorded requests, for assertions ----

interface InputItem {
  readonly type?: string
  readonly role?: string
  readonly content?: ReadonlyArray<{ readonly type?: string; readonly text?: string }> | null
  readonly call_id?: string
  readonly output?: unknown
  readonly name?: string
  readonly tools?: ReadonlyArray<ToolSpec>
}

interface ToolSpec {
  readonly type?: string
  readonly name?: string
  readonly tools?: ReadonlyArray<ToolSpec>
}

const inputOf = (body: unknown): ReadonlyArray<InputItem> =>
  (typeof body === "object" && body !== null ? (body as { input?: ReadonlyArray<InputItem> }).input : []) ??
  []

/** Text of the request's messages with this role ("user", "developer"), joined by newlines. */
export const messageTextOf = (body: unknown, role: string): string =>
  inputOf(body)
    .filter((i) => i.type === "message" && i.role === role)
    .flatMap((i) => (i.content ?? []).flatMap((c) => (c.text === undefined ? [] : [c.text])))
    .join("\n")

/** The outputs the request sent back for function calls, by call id (strings as sent). */
export const functionOutputsOf = (body: unknown): ReadonlyArray<{ callId: string; output: string }> =>
  inputOf(body)
    .filter((i) => i.type === "function_call_output" || i.type === "custom_tool_call_output")
    .map((i) => ({
      callId: i.call_id ?? "",
      output: typeof i.output === "string" ? i.output : JSON.stringify(i.output),
    }))

const namesOf = (tools: ReadonlyArray<ToolSpec>, prefix = ""): ReadonlyArray<string> =>
  tools.flatMap((t) =>
    t.type === "namespace"
      ? namesOf(t.tools ?? [], `${prefix}${t.name ?? ""}`)
      : [`${prefix}${t.name ?? t.type}`],
  )

/** Names of the tools the request offered (namespaced tools joined: `mcp__huskies__status`). */
export const toolNamesOf = (body: unknown): ReadonlyArray<string> => [
  ...namesOf((body as { tools?: ReadonlyArray<ToolSpec> } | undefined)?.tools ?? []),
  ...inputOf(body).flatMap((i) => (i.type === "additional_tools" ? namesOf(i.tools ?? []) : [])),
]
