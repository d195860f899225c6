// test/fakes/modelScript.ts — the provider-neutral model of a fake model API: scripted turns per
// session, and the record of every request. Used by the protocol fakes (anthropic.ts today; OpenAI
// Responses and Gemini later) through modelServer.ts, and by tests that write scripts and assert.

/** Token counts a turn reports; the protocol fakes translate them to their wire names. */
export interface Usage {
  readonly input_tokens: number
  readonly output_tokens: number
  readonly cache_read_input_tokens?: number
  readonly cache_creation_input_tokens?: number
}

/** A call of a tool the agent offered (built-in or MCP); `id` defaults to a fresh unique id. */
export interface ToolUse {
  readonly name: string
  readonly input: unknown
  readonly id?: string
  /** OpenAI Responses only: the namespace of a namespaced tool (Codex offers MCP tools as `mcp__<server>`). */
  readonly namespace?: string
}

/** Why a reply ends. Anthropic's names; other providers map them (end_turn → "stop", ...). */
export type StopReason = "end_turn" | "tool_use" | "max_tokens" | "stop_sequence" | "refusal" | "pause_turn"

/** One model reply: text, then tool calls. The stop reason defaults to tool_use when there are any. */
export interface ReplyTurn {
  readonly text?: string
  readonly toolUses?: ReadonlyArray<ToolUse>
  readonly usage?: Usage
  readonly stopReason?: StopReason
  /** Wait this long before answering (to test timeouts and cancellation). */
  readonly delayMs?: number
}

/** An HTTP error the API answers with instead of a reply, e.g. a 429 rate limit or a 529 overload. */
export interface ApiErrorSpec {
  readonly status: number
  /** Anthropic's error type: rate_limit_error, overloaded_error, api_error, invalid_request_error... */
  readonly type: string
  readonly message: string
  /** Sent as `retry-after` (and used for the rate-limit reset headers). */
  readonly retryAfterSecs?: number
  /** Sent as `x-should-retry`; the CLIs' SDKs obey it over their own status-code rules. */
  readonly shouldRetry?: boolean
  /** Extra response headers, e.g. `anthropic-ratelimit-unified-reset`. */
  readonly headers?: Readonly<Record<string, string>>
}

export interface ErrorTurn {
  readonly error: ApiErrorSpec
  readonly delayMs?: number
}

export type Turn = ReplyTurn | ErrorTurn

export const isErrorTurn = (turn: Turn): turn is ErrorTurn => "error" in turn

/** Script key that answers requests from any session that has no script of its own. */
export const anySession = "*"

/**
 * What a request was for: `main` consumes a scripted turn, `side` is the CLI's own housekeeping
 * (titles, probes) answered with a default, `other` is any non-conversation endpoint.
 */
export type RequestKind = "main" | "side" | "other"

export interface RecordedRequest {
  /** Position among all requests the fake received, from 0. */
  readonly index: number
  readonly provider: string
  readonly method: string
  /** Path without the query string. */
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  /** Request headers, lower-cased names. */
  readonly headers: Readonly<Record<string, string>>
  /** The parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  readonly body: unknown
  readonly sessionId: string | undefined
  readonly kind: RequestKind
  /** For `main` requests: which turn of the session's script answered (0-based), or undefined. */
  readonly turn: number | undefined
}

/** Something a test did not script: a main request after the script ran out, an unknown endpoint. */
export interface Unexpected {
  readonly requestIndex: number
  readonly sessionId: string | undefined
  readonly reason: string
}

/** The scripts of all sessions; each main request takes its session's next turn. */
export class Scripts {
  private readonly queues = new Map<string, { readonly turns: Array<Turn>; taken: number }>()

  /** Appends turns to the session's script (`anySession` for a fallback script). */
  add(sessionId: string, turns: ReadonlyArray<Turn>): void {
    const queue = this.queues.get(sessionId)
    if (queue === undefined) this.queues.set(sessionId, { turns: [...turns], taken: 0 })
    else queue.turns.push(...turns)
  }

  /** The next turn for the session, with its index in the script; undefined once the script ran out. */
  next(sessionId: string | undefined): { readonly turn: Turn; readonly index: number } | undefined {
    const own = sessionId === undefined ? undefined : this.queues.get(sessionId)
    const queue = own ?? this.queues.get(anySession)
    if (queue === undefined || queue.taken >= queue.turns.length) return undefined
    const index = queue.taken++
    const turn = queue.turns[index]
    return turn === undefined ? undefined : { turn, index }
  }

  /** Turns of the session's script not yet answered. */
  remaining(sessionId: string): number {
    const queue = this.queues.get(sessionId)
    return queue === undefined ? 0 : queue.turns.length - queue.taken
  }
}
