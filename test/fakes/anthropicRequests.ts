// test/fakes/anthropicRequests.ts — reading Anthropic Messages requests as Claude Code sends them:
// whose session a request is, whether it is a side call, and what it carried (prompt, tool results),
// for the fake (anthropic.ts) and for tests' assertions on recorded requests.
//
// Which requests consume the script: Claude Code identifies its session on every request, in the
// `x-claude-code-session-id` header and in `metadata.user_id` (a JSON string with `session_id`);
// `claude --session-id <uuid>` lets a test choose it. Besides the conversation it sends its own side
// calls through the same endpoint, which must not take scripted turns. The rule (isSideRequest):
//   - `max_tokens` <= 1: probes (the quota check sends "quota", --model validation sends "Hi");
//   - `output_config.format` set: structured side calls (the session title is a json_schema call);
//   - no `tools`: one-shot housekeeping prompts (titles, summaries, topic detection).
// Everything else is the conversation, including subagents of the Task/Agent tool (they share the
// session id and take turns in order). A CLI started with `--tools ""` would look like side calls.
import type { RecordedRequest } from "./modelScript.js"

/** A content block of a message in a request (only the fields tests look at are typed). */
export interface ContentBlock {
  readonly type: string
  readonly text?: string
  readonly id?: string
  readonly name?: string
  readonly input?: unknown
  readonly tool_use_id?: string
  readonly content?: string | ReadonlyArray<ContentBlock>
  readonly is_error?: boolean
}

export interface RequestMessage {
  readonly role: string
  readonly content: string | ReadonlyArray<ContentBlock>
}

/** The Messages API request body, as far as the fake reads it; anything else is tolerated. */
export interface MessagesRequest {
  readonly model?: string
  readonly messages?: ReadonlyArray<RequestMessage>
  readonly system?: string | ReadonlyArray<ContentBlock>
  readonly tools?: ReadonlyArray<{ readonly name?: string }>
  readonly max_tokens?: number
  readonly stream?: boolean
  readonly metadata?: { readonly user_id?: string }
  readonly output_config?: { readonly format?: { readonly type?: string; readonly schema?: unknown } }
}

export const asMessagesRequest = (body: unknown): MessagesRequest =>
  typeof body === "object" && body !== null ? (body as MessagesRequest) : {}

/** The session a request belongs to: the header, else `metadata.user_id`'s `session_id`. */
export const sessionIdOf = (headers: Readonly<Record<string, string>>, body: unknown): string | undefined => {
  const header = headers["x-claude-code-session-id"]
  if (header !== undefined && header !== "") return header
  const userId = asMessagesRequest(body).metadata?.user_id
  if (userId === undefined) return undefined
  try {
    const parsed = JSON.parse(userId) as { session_id?: unknown }
    return typeof parsed.session_id === "string" ? parsed.session_id : undefined
  } catch {
    // Older CLIs sent `user_<hash>_account__session_<uuid>`.
    return /_session_([0-9a-f-]{36})$/.exec(userId)?.[1]
  }
}

/** Whether a Messages request is the CLI's own side call rather than the conversation (rule above). */
export const isSideRequest = (body: unknown): boolean => {
  const request = asMessagesRequest(body)
  if (request.max_tokens !== undefined && request.max_tokens <= 1) return true
  if (request.output_config?.format !== undefined) return true
  return request.tools === undefined || request.tools.length === 0
}

// ---- reading recorded requests, for assertions ----

const blocksOf = (message: RequestMessage): ReadonlyArray<ContentBlock> =>
  typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content

/** The conversation a request carried (system messages mid-conversation included). */
export const messagesOf = (request: RecordedRequest): ReadonlyArray<RequestMessage> =>
  asMessagesRequest(request.body).messages ?? []

/** Every tool_result block the request carried, oldest first. */
export const toolResultsOf = (request: RecordedRequest): ReadonlyArray<ContentBlock> =>
  messagesOf(request)
    .filter((m) => m.role === "user")
    .flatMap(blocksOf)
    .filter((b) => b.type === "tool_result")

/** The text a tool_result block carries, however it is shaped. */
export const toolResultText = (block: ContentBlock): string =>
  typeof block.content === "string"
    ? block.content
    : (block.content ?? []).map((b) => b.text ?? "").join("\n")

/** All user-authored text of the request (the prompt, system reminders), joined by newlines. */
export const userTextOf = (request: RecordedRequest): string =>
  messagesOf(request)
    .filter((m) => m.role === "user")
    .flatMap(blocksOf)
    .flatMap((b) => (b.type === "text" && b.text !== undefined ? [b.text] : []))
    .join("\n")

/** The system prompt's text, joined by newlines. */
export const systemTextOf = (request: RecordedRequest): string => {
  const system = asMessagesRequest(request.body).system
  if (system === undefined) return ""
  return typeof system === "string" ? system : system.map((b) => b.text ?? "").join("\n")
}

/** Names of the tools the request offered the model (built-ins and `mcp__server__tool`). */
export const toolNamesOf = (request: RecordedRequest): ReadonlyArray<string> =>
  (asMessagesRequest(request.body).tools ?? []).flatMap((t) => (t.name === undefined ? [] : [t.name]))
