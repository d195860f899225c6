// src/transports/chat/assistant/toAssistant.ts — the chat door's way to the assistant: a message that is no
// command goes to the chat agent when it mentions the bot (or the room is ambient) and the person has the
// ops role; its answer is posted back in the same room/thread, cut to the platform's limit. Called by
// the door (door/Door.ts) for every message that is not a command.
import { Clock, Duration, Effect, Option, Schedule } from "effect"
import { createHash } from "node:crypto"
import { ChatAssistant } from "../../../actors/chatAgents.js"
import type { PlatformConfig } from "../../../domain/BotConfig.js"
import {
  assistantRefusal,
  assistantRoute,
  messageLimits,
  splitMessage,
} from "../../../domain/chatAssistant.js"
import type { ChatPlatform, Incoming } from "../platform.js"

const retry = Schedule.exponential(Duration.seconds(1)).pipe(
  Schedule.either(Schedule.spaced(Duration.minutes(1))),
)

/** An answer part's id: a retried send of the same part is dropped by platforms that de-duplicate. */
const partId = (messageId: string, turn: number, part: number) =>
  `a-${createHash("sha256").update(`${messageId}\n${turn}\n${part}`).digest("hex").slice(0, 32)}`

/**
 * Sends `text` to the message's room/thread in parts the platform takes, each retried like the door's
 * replies; one that cannot be delivered after retries is logged (the person may ask again).
 */
const postTo = (platform: ChatPlatform, message: Incoming) => {
  let turn = 0
  return (text: string) =>
    Effect.gen(function* () {
      turn++
      const parts = splitMessage(text, messageLimits[platform.name] ?? 2000)
      for (const [i, part] of parts.entries())
        yield* platform
          .send({ place: message.place, text: part, id: partId(message.messageId, turn, i) })
          .pipe(
            Effect.retry({ schedule: retry, times: 5 }),
            Effect.catchAll((e) => Effect.logWarning(`assistant answer not delivered: ${e.message}`)),
          )
    })
}

/** What the door does with a message that is not a command; nothing when serve runs no assistant. */
export const toAssistant = (platform: ChatPlatform, config: PlatformConfig, message: Incoming) =>
  Effect.gen(function* () {
    const route = assistantRoute(config, {
      room: message.place.room,
      user: message.user,
      mentioned: message.mentioned,
      text: message.text,
    })
    if (route._tag === "Ignore") return
    const assistant = yield* Effect.serviceOption(ChatAssistant)
    if (Option.isNone(assistant)) return
    const post = postTo(platform, message)
    if (route._tag === "Refuse") return yield* post(assistantRefusal)
    const at = yield* Clock.currentTimeMillis
    yield* assistant.value.tell(
      { platform: platform.name, room: message.place.room, thread: message.place.thread },
      { userName: message.userName, text: message.text, at },
      post,
    )
  })
