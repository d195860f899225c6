// src/actors/chatAgents.ts — the chat assistant's conversations: one per room/thread, each running one turn
// at a time (messages that arrive meanwhile make its next turn), at most [concurrency] max_chat chat agents
// at once over all of them, each resuming its session from the ChatSessions store. Built by serve; the
// chat doors hand it the messages and a way to post the answer (src/transports/chat/assistant).
import { Clock, Context, Effect, Layer, Option, Queue, Ref, Scope } from "effect"
import { createHash } from "node:crypto"
import { appendFile } from "node:fs/promises"
import { join } from "node:path"
import {
  type ConversationPlace,
  conversationKey,
  type QueuedMessage,
  turnText,
} from "../domain/chatAssistant.js"
import { type AgentConfig, defaultMaxChat, renderTemplate } from "../domain/Config.js"
import { type ChatSession, ChatSessions, ChatSessionsLive } from "../layers/ChatSessions.js"
import { HuskiesConfig } from "../layers/HuskiesConfig.js"
import { withComponent } from "../layers/Logs.js"
import { ensurePrivateDirAsync } from "../layers/recordFiles.js"
import { privateWrite } from "../layers/privateFiles.js"
import { ServerUrl } from "../layers/ServerUrl.js"
import { processEnv } from "./agentFiles.js"
import { chatScope, launchDir, runChatTurn } from "./chatAgentTurn.js"

/** Posts a text in the conversation's room/thread (the door splits it to the platform's limit). */
export type PostAnswer = (text: string) => Effect.Effect<void>

export interface ChatAssistantShape {
  /** Queues a person's message; it is answered in the conversation's next turn, through `post`. */
  readonly tell: (place: ConversationPlace, message: QueuedMessage, post: PostAnswer) => Effect.Effect<void>
}

export class ChatAssistant extends Context.Tag("huskies/ChatAssistant")<
  ChatAssistant,
  ChatAssistantShape
>() {}

export interface ChatAssistantOptions {
  readonly root: string
  /** Variables on top of the server's: serve's agent environment, with the agents' own token. */
  readonly agentEnv?: Readonly<Record<string, string>> | undefined
}

/** A short id safe in file names and variables: `c-` and 24 hex digits of the conversation key's hash. */
export const conversationId = (key: string): string =>
  `c-${createHash("sha256").update(key).digest("hex").slice(0, 24)}`

export const historyPath = (root: string, key: string) =>
  join(launchDir(root, conversationId(key)), "history.jsonl")

const noAgentText =
  'No chat agent is configured: add an [[agent]] with stage = "chat" to .huskies/agents.toml (see docs/chat.md).'

/** The agent that answers (the first with stage = "chat"), or why none can. */
export const chatAgentOf = (agents: ReadonlyArray<AgentConfig>): AgentConfig | string =>
  agents.find((a) => a.stage === "chat") ?? noAgentText

interface Waiting {
  readonly messages: ReadonlyArray<QueuedMessage>
  readonly post: PostAnswer
}

/** The assistant, its conversations living as long as the caller's scope. */
export const makeChatAssistant = (
  options: ChatAssistantOptions,
): Effect.Effect<ChatAssistantShape, never, HuskiesConfig | ServerUrl | ChatSessions | Scope.Scope> =>
  Effect.gen(function* () {
    const config = yield* HuskiesConfig
    const serverUrl = yield* ServerUrl
    const sessions = yield* ChatSessions
    const scope = yield* Effect.scope
    // How many turns run now, against max_chat as the config says at each start (it is reloaded live).
    const running = yield* Ref.make(0)
    const freed = yield* Queue.sliding<void>(1)
    const withSlot = <A, E, R>(body: Effect.Effect<A, E, R>) =>
      Effect.acquireUseRelease(
        Effect.gen(function* () {
          for (;;) {
            const cap = Option.match(yield* config.current, {
              onNone: () => defaultMaxChat,
              onSome: (c) => c.project.concurrency.maxChat ?? defaultMaxChat,
            })
            if (yield* Ref.modify(running, (n) => (n < cap ? [true, n + 1] : [false, n]))) return
            yield* Queue.take(freed)
          }
        }),
        () => body,
        () =>
          Effect.zipRight(
            Ref.update(running, (n) => n - 1),
            Queue.offer(freed, undefined),
          ),
      )
    // A conversation is in the map exactly while its worker runs: what it holds waits for the next turn.
    const waiting = yield* Ref.make(new Map<string, Waiting>())
    const root = options.root

    const remember = (key: string, entry: Readonly<Record<string, unknown>>) => {
      const path = historyPath(root, key)
      return Effect.tryPromise(() =>
        ensurePrivateDirAsync(join(path, "..")).then(() =>
          appendFile(path, `${JSON.stringify(entry)}\n`, privateWrite),
        ),
      ).pipe(
        // The history helps runtimes that keep none; losing a line loses context, not the answer.
        Effect.catchAll((e) => Effect.logWarning(`chat history not kept: ${String(e.error)}`)),
      )
    }

    const turn = (key: string, batch: Waiting) =>
      Effect.gen(function* () {
        const loaded = yield* config.get.pipe(Effect.either)
        if (loaded._tag === "Left")
          return yield* batch.post(`The assistant cannot run: ${loaded.left.message}`)
        const agent = chatAgentOf(loaded.right.agents)
        if (typeof agent === "string") return yield* batch.post(agent)
        const known: ChatSession | undefined = yield* sessions
          .get(key)
          .pipe(
            Effect.catchAll((e) =>
              Effect.as(Effect.logWarning(`${e.message}: the conversation starts anew`), undefined),
            ),
          )
        const session = known?.agent === agent.name ? known : undefined
        const id = conversationId(key)
        for (const m of batch.messages)
          yield* remember(key, { at: m.at, role: "user", name: m.userName, text: m.text })
        const result = yield* runChatTurn({
          root,
          agent,
          mcpUrl: yield* serverUrl.mcpUrl,
          env: { ...processEnv(), ...options.agentEnv },
          conversationId: id,
          historyPath: historyPath(root, key),
          prompt: session === undefined ? renderTemplate(agent.prompt, { story_id: chatScope }) : "",
          message: turnText(batch.messages),
          ...(session?.sessionId === undefined ? {} : { resumeSessionId: session.sessionId }),
        }).pipe(Effect.either)
        if (result._tag === "Left")
          return yield* batch.post(`The assistant could not answer: ${result.left.message}.`)
        const answer = result.right
        const now = yield* Clock.currentTimeMillis
        const sessionId = answer.sessionId ?? session?.sessionId
        const kept: ChatSession = {
          agent: agent.name,
          turns: (session?.turns ?? 0) + 1,
          ...(sessionId === undefined ? {} : { sessionId }),
        }
        // A turn without an answer changes nothing (a rate limit keeps the session for the next message), but
        // a resume that failed outright (an expired or foreign session) is forgotten: the next one starts anew.
        const unanswered = answer.outcome !== "succeeded" && answer.answer === ""
        const update = !unanswered
          ? sessions.set(key, kept, now)
          : answer.outcome === "failed" && session?.sessionId !== undefined
            ? sessions.forget(key)
            : Effect.void
        yield* update.pipe(
          Effect.catchAll((e) => Effect.logWarning(`${e.message}: the next turn may not resume`)),
        )
        yield* remember(key, { at: now, role: "assistant", name: agent.name, text: answer.answer })
        yield* Effect.logInfo(`chat turn ${answer.outcome} in ${key}: ${answer.reason}`)
        if (answer.answer !== "") return yield* batch.post(answer.answer)
        yield* batch.post(`The assistant could not answer (${answer.reason}).`)
      })

    const worker = (key: string): Effect.Effect<void> =>
      Effect.gen(function* () {
        for (;;) {
          const batch = yield* Ref.modify(waiting, (map) => {
            const next = new Map(map)
            const entry = map.get(key)
            if (entry === undefined || entry.messages.length === 0) {
              next.delete(key)
              return [undefined, next]
            }
            next.set(key, { messages: [], post: entry.post })
            return [entry, next]
          })
          if (batch === undefined) return
          yield* withSlot(turn(key, batch)).pipe(
            Effect.catchAllCause((cause) => Effect.logError(`chat turn in ${key} failed`, cause)),
          )
        }
      }).pipe(withComponent("chat-assistant"))

    const tell = (place: ConversationPlace, message: QueuedMessage, post: PostAnswer) =>
      Effect.gen(function* () {
        const key = conversationKey(place)
        const start = yield* Ref.modify(waiting, (map) => {
          const next = new Map(map)
          const entry = map.get(key)
          next.set(key, { messages: [...(entry?.messages ?? []), message], post })
          return [entry === undefined, next]
        })
        if (start) yield* Effect.forkIn(worker(key), scope)
      })

    return { tell }
  })

/**
 * The assistant as serve runs it, its conversations in `.huskies/assistant.db`, opened by the first message
 * (a server whose chat never talks to it writes nothing). A store that cannot open leaves the assistant
 * answering why, never the server without its pipeline or its chat commands.
 */
export const ChatAssistantLive = (
  options: ChatAssistantOptions,
): Layer.Layer<ChatAssistant, never, HuskiesConfig | ServerUrl> =>
  Layer.scoped(
    ChatAssistant,
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const services = yield* Effect.context<HuskiesConfig | ServerUrl>()
      const opened = yield* Effect.cached(
        Effect.gen(function* () {
          const store = yield* Effect.either(
            Layer.build(ChatSessionsLive(join(options.root, ".huskies", "assistant.db"))),
          )
          if (store._tag === "Left") {
            const why = `The assistant is unavailable: ${store.left.message}.`
            yield* Effect.logError(why).pipe(withComponent("chat-assistant"))
            return { tell: (_place, _message, post) => post(why) } satisfies ChatAssistantShape
          }
          return yield* Effect.provide(makeChatAssistant(options), store.right)
        }).pipe(Effect.provide(services), Scope.extend(scope)),
      )
      return { tell: (place, message, post) => Effect.flatMap(opened, (a) => a.tell(place, message, post)) }
    }),
  )
