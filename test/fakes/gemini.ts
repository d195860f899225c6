// test/fakes/gemini.ts — a fake Gemini API (generativelanguage v1beta) on 127.0.0.1 that the real Gemini
// CLI talks to (GOOGLE_GEMINI_BASE_URL, see test/support/gemini.ts): scripted turns streamed as
// `streamGenerateContent?alt=sse`, every request recorded, 429 RESOURCE_EXHAUSTED with a RetryInfo.
// Used by the gemini runtime tests.
//
// Which requests take scripted turns: streaming requests that offer tools (the conversation). The
// CLI's own side calls (non-streaming generateContent with a JSON schema: routing, next-speaker and
// loop checks; countTokens) get a default answer. Gemini CLI 0.61 sends no session id with its
// requests, so every request is session-less: tests script `anySession` on a fake of their own.
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

export type FakeGemini = FakeModelApi

const defaultUsage: Usage = { input_tokens: 10, output_tokens: 5 }

interface Part {
  readonly text?: string
  readonly thought?: boolean
  readonly functionCall?: { readonly name?: string; readonly args?: unknown; readonly id?: string }
  readonly functionResponse?: { readonly name?: string; readonly response?: unknown; readonly id?: string }
}

interface Content {
  readonly role?: string
  readonly parts?: ReadonlyArray<Part>
}

/** The request body, as far as the fake reads it. */
export interface GenerateContentRequest {
  readonly contents?: ReadonlyArray<Content>
  readonly systemInstruction?: Content
  readonly tools?: ReadonlyArray<{
    readonly functionDeclarations?: ReadonlyArray<{ readonly name?: string }>
  }>
  readonly generationConfig?: { readonly responseSchema?: unknown; readonly responseJsonSchema?: unknown }
}

export const asGenerateRequest = (body: unknown): GenerateContentRequest =>
  typeof body === "object" && body !== null ? (body as GenerateContentRequest) : {}

const wireUsage = (usage: Usage) => {
  const cached = usage.cache_read_input_tokens ?? 0
  return {
    promptTokenCount: usage.input_tokens + cached,
    candidatesTokenCount: usage.output_tokens,
    totalTokenCount: usage.input_tokens + cached + usage.output_tokens,
    ...(cached === 0 ? {} : { cachedContentTokenCount: cached }),
  }
}

/** `POST /v1beta/models/<model>:<method>`: the model and the method, or undefined. */
const modelCall = (path: string): { readonly model: string; readonly method: string } | undefined => {
  const match = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):([A-Za-z]+)$/.exec(path)
  return match?.[1] === undefined || match[2] === undefined
    ? undefined
    : { model: match[1], method: match[2] }
}

const chunks = (text: string, size: number): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size))
  return out.length === 0 ? [""] : out
}

/** Streams a reply as the API does: text in pieces, then the function calls, finishReason and usage last. */
const streamReply = (exchange: Exchange, turn: ReplyTurn, model: string, requestIndex: number): void => {
  const sse = openEventStream(exchange.res)
  const responseId = `resp_fake${requestIndex}`
  const chunk = (parts: ReadonlyArray<Part>, last: boolean) =>
    sse.data({
      candidates: [
        {
          content: { parts, role: "model" },
          index: 0,
          ...(last ? { finishReason: turn.stopReason === "max_tokens" ? "MAX_TOKENS" : "STOP" } : {}),
        },
      ],
      usageMetadata: last
        ? wireUsage(turn.usage ?? defaultUsage)
        : { promptTokenCount: (turn.usage ?? defaultUsage).input_tokens, totalTokenCount: 0 },
      modelVersion: model,
      responseId,
    })
  const pieces = turn.text === undefined ? [] : chunks(turn.text, 40)
  const calls: ReadonlyArray<Part> = (turn.toolUses ?? []).map((use) => ({
    functionCall: { name: use.name, args: use.input ?? {}, ...(use.id === undefined ? {} : { id: use.id }) },
  }))
  pieces.forEach((text, i) => chunk([{ text }], calls.length === 0 && i === pieces.length - 1))
  if (calls.length > 0) chunk(calls, true)
  if (pieces.length === 0 && calls.length === 0) chunk([{ text: "" }], true)
  sse.end()
}

/** Some value that fits a JSON schema, so the CLI's structured side calls get parseable output. */
const sampleOf = (schema: unknown): unknown => {
  if (typeof schema !== "object" || schema === null) return null
  const s = schema as { type?: unknown; properties?: Record<string, unknown>; enum?: ReadonlyArray<unknown> }
  if (s.enum !== undefined && s.enum.length > 0) return s.enum[0]
  switch (typeof s.type === "string" ? s.type.toLowerCase() : s.type) {
    case "object":
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, sampleOf(v)]))
    case "array":
      return []
    case "string":
      return "fake"
    case "number":
    case "integer":
      // Scores the CLI validates start at 1 (the router's complexity_score).
      return 1
    case "boolean":
      return false
    default:
      return null
  }
}

const statusNames: Readonly<Record<number, string>> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
}

/**
 * An HTTP error as Google APIs send it: `{error: {code, message, status, details}}`. A 429 carries a
 * QuotaFailure and a RetryInfo whose retryDelay is the spec's retryAfterSecs.
 */
const sendError = (exchange: Exchange, error: ApiErrorSpec): void => {
  const details =
    error.status === 429
      ? [
          {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            violations: [
              {
                quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                quotaValue: "10",
              },
            ],
          },
          ...(error.retryAfterSecs === undefined
            ? []
            : [
                {
                  "@type": "type.googleapis.com/google.rpc.RetryInfo",
                  retryDelay: `${error.retryAfterSecs}s`,
                },
              ]),
        ]
      : []
  sendJson(
    exchange.res,
    error.status,
    {
      error: {
        code: error.status,
        message: error.message,
        status: statusNames[error.status] ?? error.type,
        ...(details.length === 0 ? {} : { details }),
      },
    },
    {
      ...(error.retryAfterSecs === undefined ? {} : { "retry-after": String(error.retryAfterSecs) }),
      ...error.headers,
    },
  )
}

const isSide = (exchange: Exchange): boolean => {
  const call = modelCall(exchange.path)
  if (call?.method !== "streamGenerateContent") return true
  const request = asGenerateRequest(exchange.body)
  if (request.generationConfig?.responseSchema !== undefined) return true
  if (request.generationConfig?.responseJsonSchema !== undefined) return true
  return (request.tools ?? []).every((t) => (t.functionDeclarations ?? []).length === 0)
}

const answer = (exchange: Exchange, answering: Answering): void => {
  const call = exchange.method === "POST" ? modelCall(exchange.path) : undefined
  if (call === undefined) {
    answering.flag(`unknown endpoint: ${exchange.method} ${exchange.path}`)
    return sendError(exchange, { status: 404, type: "NOT_FOUND", message: `Not found: ${exchange.path}` })
  }
  if (call.method === "countTokens") {
    const size = JSON.stringify(asGenerateRequest(exchange.body).contents ?? []).length
    return sendJson(exchange.res, 200, { totalTokens: Math.ceil(size / 4) })
  }
  if (answering.kind === "side") {
    const config = asGenerateRequest(exchange.body).generationConfig
    const schema = config?.responseJsonSchema ?? config?.responseSchema
    const text = schema === undefined ? "OK" : JSON.stringify(sampleOf(schema))
    const reply = {
      candidates: [{ content: { parts: [{ text }], role: "model" }, finishReason: "STOP", index: 0 }],
      usageMetadata: wireUsage({ input_tokens: 1, output_tokens: 1 }),
      modelVersion: call.model,
    }
    if (call.method === "streamGenerateContent") {
      const sse = openEventStream(exchange.res)
      sse.data(reply)
      return sse.end()
    }
    return sendJson(exchange.res, 200, reply)
  }
  const turn = answering.scripted?.turn
  if (turn === undefined)
    return streamReply(exchange, { text: "script exhausted" }, call.model, answering.requestIndex)
  if (isErrorTurn(turn)) return sendError(exchange, turn.error)
  streamReply(exchange, turn, call.model, answering.requestIndex)
}

export const geminiProtocol: Protocol = {
  provider: "gemini",
  classify: (exchange: Exchange) => ({
    sessionId: undefined,
    kind: modelCall(exchange.path) === undefined ? "other" : isSide(exchange) ? "side" : "main",
  }),
  answer,
}

/** Starts a fake Gemini API on 127.0.0.1 with an ephemeral port; `close()` it when done. */
export const startFakeGemini = (): Promise<FakeGemini> => startFakeModelApi(geminiProtocol)

/** The fake, owned by the current Effect scope. */
export const fakeGemini: Effect.Effect<FakeGemini, never, Scope.Scope> = scopedFake(startFakeGemini)

// ---- reading recorded requests, for assertions ----

/** All text of the request's user turns (the prompt), joined by newlines. */
export const userTextOf = (body: unknown): string =>
  (asGenerateRequest(body).contents ?? [])
    .filter((c) => c.role === "user")
    .flatMap((c) => (c.parts ?? []).flatMap((p) => (p.text === undefined ? [] : [p.text])))
    .join("\n")

/** The function responses the request sent back, oldest first. */
export const functionResponsesOf = (
  body: unknown,
): ReadonlyArray<{ readonly name?: string; readonly response?: unknown; readonly id?: string }> =>
  (asGenerateRequest(body).contents ?? []).flatMap((c) =>
    (c.parts ?? []).flatMap((p) => (p.functionResponse === undefined ? [] : [p.functionResponse])),
  )

/** Names of the functions the request offered the model. */
export const toolNamesOf = (body: unknown): ReadonlyArray<string> =>
  (asGenerateRequest(body).tools ?? []).flatMap((t) =>
    (t.functionDeclarations ?? []).flatMap((f) => (f.name === undefined ? [] : [f.name])),
  )
