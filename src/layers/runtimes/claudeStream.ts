// src/layers/runtimes/claudeStream.ts — the lines of Claude Code's `--output-format stream-json
// --verbose` output as Schemas (only the fields huskies reads; others are ignored). The shapes were
// read off Claude Code 2.1.197 run against the fake model API (test/support/claude.ts documents them)
// and, for rate_limit_event, off the CLI's own output schema. Decoded by claudeCode.ts.
import { Schema } from "effect"

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
/** A count the CLI may leave out or set to null. */
const count = Schema.optionalWith(Schema.NullOr(Schema.Number), { exact: true })

export const WireUsage = Schema.Struct({
  input_tokens: count,
  output_tokens: count,
  cache_read_input_tokens: count,
  cache_creation_input_tokens: count,
})
export type WireUsage = typeof WireUsage.Type

/** Every line has a type; system lines a subtype. */
export const Envelope = Schema.Struct({
  type: Schema.String,
  subtype: optional(Schema.NullOr(Schema.String)),
})

export const InitLine = Schema.Struct({
  session_id: Schema.String,
  model: optional(Schema.String),
  tools: optional(Schema.Array(Schema.String)),
  mcp_servers: optional(Schema.Array(Schema.Struct({ name: Schema.String, status: Schema.String }))),
})

/** Printed before each retry of a failed API request (CLAUDE_CODE_MAX_RETRIES, default 10). */
export const ApiRetryLine = Schema.Struct({
  attempt: Schema.Number,
  max_retries: Schema.Number,
  retry_delay_ms: Schema.Number,
  error_status: optional(Schema.NullOr(Schema.Number)),
  /** "rate_limit" | "overloaded" | "server_error" | ... */
  error: optional(Schema.NullOr(Schema.String)),
})

const TextBlock = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String })
const ToolUseBlock = Schema.Struct({
  type: Schema.Literal("tool_use"),
  id: Schema.String,
  name: Schema.String,
  input: optional(Schema.Unknown),
})
const ToolResultBlock = Schema.Struct({
  type: Schema.Literal("tool_result"),
  tool_use_id: Schema.String,
  content: optional(
    Schema.NullOr(
      Schema.Union(
        Schema.String,
        Schema.Array(Schema.Struct({ type: Schema.String, text: optional(Schema.String) })),
      ),
    ),
  ),
  is_error: optional(Schema.NullOr(Schema.Boolean)),
})
/** Thinking, images, server tools...: not reported. */
const OtherBlock = Schema.Struct({ type: Schema.String })
export const ContentBlock = Schema.Union(TextBlock, ToolUseBlock, ToolResultBlock, OtherBlock)
export type ContentBlock = typeof ContentBlock.Type

/**
 * One content block per line; a model message with several blocks is several lines with the same
 * message.id. When the CLI gives up on an API error it prints one with model "<synthetic>", the error
 * as text ("API Error: Request rejected (429) · ...") and a top-level `error`: rate_limit, overloaded,
 * server_error, authentication_failed, billing_error, invalid_request, model_not_found, unknown...
 */
export const AssistantLine = Schema.Struct({
  message: Schema.Struct({
    id: optional(Schema.String),
    model: optional(Schema.String),
    content: Schema.Array(ContentBlock),
    usage: optional(Schema.NullOr(WireUsage)),
  }),
  error: optional(Schema.NullOr(Schema.String)),
})

/** Tool results (and a subagent's prompt, as a string or text blocks, which huskies ignores). */
export const UserLine = Schema.Struct({
  message: Schema.Struct({ content: Schema.Union(Schema.String, Schema.Array(ContentBlock)) }),
})

export const ResultLine = Schema.Struct({
  subtype: Schema.String,
  is_error: Schema.Boolean,
  num_turns: optional(Schema.Number),
  total_cost_usd: optional(Schema.NullOr(Schema.Number)),
  usage: optional(Schema.NullOr(WireUsage)),
  api_error_status: optional(Schema.NullOr(Schema.Number)),
  permission_denials: optional(
    Schema.Array(
      Schema.Struct({
        tool_name: Schema.String,
        tool_use_id: Schema.String,
        tool_input: optional(Schema.Unknown),
      }),
    ),
  ),
  result: optional(Schema.NullOr(Schema.String)),
})

/**
 * Subscription (claude.ai) accounts: the unified rate-limit state, sent when it changes. resetsAt is
 * in seconds since the epoch. Not printed for API-key accounts (checked: a 429 with unified headers
 * gives none).
 */
export const RateLimitEventLine = Schema.Struct({
  rate_limit_info: Schema.Struct({
    status: Schema.String,
    resetsAt: optional(Schema.NullOr(Schema.Number)),
    rateLimitType: optional(Schema.NullOr(Schema.String)),
  }),
})

/** Line types that carry nothing huskies reports (partial messages, SDK control traffic...). */
export const ignoredTypes: ReadonlySet<string> = new Set([
  "stream_event",
  "tool_progress",
  "tool_use_summary",
  "auth_status",
  "prompt_suggestion",
  "control_request",
  "control_response",
  "control_cancel_request",
  "keep_alive",
  "files_persisted",
])
