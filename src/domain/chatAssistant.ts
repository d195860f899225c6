// src/domain/chatAssistant.ts — the chat assistant's pure rules: which chat message goes to the chat agent
// (mention, ambient room, ops role), how a conversation is named, how queued messages make one turn and
// how a long answer is cut to a platform's limit. Used by the assistant (src/transports/chat/assistant).
import { type PlatformConfig, roleOf } from "./BotConfig.js"

/** What the door does with a message that is not a command. */
export type AssistantRoute =
  | { readonly _tag: "Ignore" }
  /** The person may not use the assistant here: told so politely, nothing runs. */
  | { readonly _tag: "Refuse" }
  | { readonly _tag: "Ask" }

const ignore: AssistantRoute = { _tag: "Ignore" }

/**
 * A message that mentions the bot (or any message in an ambient room) goes to the assistant when the
 * person has the ops role there. In an ambient room talk not addressed to the bot from someone without
 * the ops role is left alone: the room's other conversations are none of the bot's business.
 */
export const assistantRoute = (
  config: PlatformConfig,
  message: {
    readonly room: string
    readonly user: string
    readonly mentioned: boolean
    readonly text: string
  },
): AssistantRoute => {
  if (config.assistant === "off" || message.text.trim() === "") return ignore
  const ambient =
    config.assistant === "ambient" || config.room.some((r) => r.id === message.room && r.ambient)
  if (!message.mentioned && !ambient) return ignore
  if (roleOf(config, message.room, message.user) === "ops") return { _tag: "Ask" }
  return message.mentioned ? { _tag: "Refuse" } : ignore
}

export const assistantRefusal =
  "Sorry, only people with the ops role here may talk to the assistant: ask an admin to add you to the ops users in .huskies/bot.toml."

/** One conversation per room, or per thread where the message is in one. */
export interface ConversationPlace {
  readonly platform: string
  readonly room: string
  readonly thread?: string | undefined
}

/** The conversation's key in the session store: readable, unique per platform, room and thread. */
export const conversationKey = (place: ConversationPlace): string =>
  `${place.platform}:${place.room}${place.thread === undefined ? "" : `:${place.thread}`}`

/** A person's message waiting for the next turn. */
export interface QueuedMessage {
  readonly userName: string
  readonly text: string
  readonly at: number
}

/** The messages that arrived since the last turn, as the agent reads them: one line per person's message. */
export const turnText = (messages: ReadonlyArray<QueuedMessage>): string =>
  messages.map((m) => `${m.userName}: ${m.text.trim()}`).join("\n\n")

/**
 * The longest message each platform takes (characters): Slack's section block (3,000), Discord's message
 * (2,000), WhatsApp's text body (4,096); Matrix has no text limit below its 64 KiB event, 16,000 keeps a
 * message readable.
 */
export const messageLimits: Readonly<Record<string, number>> = {
  slack: 3000,
  discord: 2000,
  matrix: 16000,
  whatsapp: 4096,
}

/**
 * Cuts `text` into parts of at most `limit` characters, at a paragraph break where there is one in the
 * second half of the part, else at a line break, else at a space, else anywhere. Nothing is lost but
 * the whitespace at a cut.
 */
export const splitMessage = (text: string, limit: number): ReadonlyArray<string> => {
  const parts: Array<string> = []
  let rest = text.trim()
  while (rest.length > limit) {
    const window = rest.slice(0, limit)
    const cutAt = (separator: string) => {
      const at = window.lastIndexOf(separator)
      return at >= limit / 2 ? at : -1
    }
    const at = [cutAt("\n\n"), cutAt("\n"), cutAt(" ")].find((i) => i > 0) ?? limit
    parts.push(rest.slice(0, at).trimEnd())
    rest = rest.slice(at).trimStart()
  }
  if (rest !== "") parts.push(rest)
  return parts
}

/**
 * What a new conversation starts with when the chat agent's [[agent]] sets no `prompt`; the people's
 * messages follow it. Later turns resume the session and carry only the new messages.
 */
export const chatAgentPrompt = `You are huskies' assistant in a team chat. People with the ops role talk to you here about the
project and its pipeline (Backlog, Coding, QA, Merge, Done). You run in the project's root with huskies'
MCP tools: use them to look things up (get_pipeline_status, status, get_token_usage...) and, when someone
asks for it, to file or change work (create_story, move_story, start_agent...). Never edit the project's
files or run git yourself: work on code goes through the pipeline's coder agents. Answer briefly, in plain
text with a little markdown; each message below is "<platform>:<person>: <text>".`
