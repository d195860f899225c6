// test/transports/chat/matrix/matrixMemory.test.ts — the Matrix adapter's memory of which reactions stand
// for a prompt's buttons, with the real matrix-js-sdk against the fake homeserver: kept in the outbox so a
// restart keeps it, a reaction quicker than the homeserver's answer to the send is not lost, and a
// prompt's key on a bot message it does not know is passed on for the door's polite answer.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Stream } from "effect"
import { unknownPromptAction } from "../../../../src/transports/chat/matrix/MatrixPlatform.js"
import type { ChatPlatform } from "../../../../src/transports/chat/platform.js"
import type { FakeHomeserver } from "../../../fakes/matrix/homeserver.js"
import { outboxMemoryIn } from "../support.js"
import { alice, connectMatrix as connect, ops, opsHomeserver } from "./support.js"

const withHomeserver = opsHomeserver()

const nextEvent = (platform: ChatPlatform) =>
  platform.events.pipe(
    Stream.runHead,
    Effect.flatMap((o) => o),
    Effect.timeout("10 seconds"),
  )

const buttons = [
  { action: "decision:dec-7:allow", label: "Approve", style: "primary" as const },
  { action: "decision:dec-7:deny", label: "Deny", style: "danger" as const },
]

const react = (hs: FakeHomeserver, target: string, key: string) =>
  hs.inject(ops, alice, { "m.relates_to": { rel_type: "m.annotation", event_id: target, key } }, "m.reaction")

describe("Matrix prompt memory", () => {
  it.live(
    "a reaction on a prompt sent before a restart still presses its button",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const hs = yield* withHomeserver
          const memory = yield* outboxMemoryIn("matrix")
          const prompt = yield* Effect.scoped(
            Effect.flatMap(connect(hs, memory), (platform) =>
              platform.send({ place: { room: ops }, text: "May coder-1 run `npm publish`?", buttons }),
            ),
          )
          // The first adapter is gone; a new one (a restarted server) has only the outbox to go by.
          const platform = yield* connect(hs, memory)
          react(hs, prompt.messageId, "❌")
          const event = yield* nextEvent(platform)
          expect(event._tag === "Pressed" && event.press).toMatchObject({
            action: "decision:dec-7:deny",
            messageId: prompt.messageId,
            user: alice,
          })
        }),
      ),
    40_000,
  )

  it.live(
    "a reaction that arrives before the homeserver has answered the prompt's send is not lost",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const hs = yield* withHomeserver
          const platform = yield* connect(hs, yield* outboxMemoryIn("matrix"))
          const release = hs.holdSendAnswers()
          const sending = yield* Effect.fork(
            platform.send({ place: { room: ops }, text: "May coder-1 run `npm publish`?", buttons }),
          )
          const prompt = yield* Effect.promise(() =>
            hs.waitForSent((e) => e.content["msgtype"] === "m.notice"),
          )
          // Alice sees the prompt (it is synced to everyone) and reacts while huskies still waits for its id.
          react(hs, prompt.event_id, "✅")
          const pressed = yield* Effect.fork(nextEvent(platform))
          // The sync that carries the reaction has been processed once another one has been answered.
          yield* Effect.promise(() => hs.waitForSyncs(hs.syncs() + 2))
          expect(Option.isNone(yield* Fiber.poll(pressed))).toBe(true)
          release()
          const sent = yield* sending.await.pipe(Effect.flatten)
          expect(sent.messageId).toBe(prompt.event_id)
          const event = yield* pressed.await.pipe(Effect.flatten)
          expect(event._tag === "Pressed" && event.press.action).toBe("decision:dec-7:allow")
        }),
      ),
    40_000,
  )

  it.live(
    "a prompt's key on a bot message that is no prompt is passed on as unknown; on a person's message it is nothing",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const hs = yield* withHomeserver
          const platform = yield* connect(hs, yield* outboxMemoryIn("matrix"))
          const plain = yield* platform.send({ place: { room: ops }, text: "12 merged (abc123)" })
          const mine = hs.inject(ops, alice, { msgtype: "m.text", body: "shipped!" })
          // Let the client see both messages before anyone reacts to them.
          yield* Effect.promise(() => hs.waitForSyncs(hs.syncs() + 2))
          react(hs, mine, "✅")
          react(hs, plain.messageId, "👍")
          react(hs, plain.messageId, "✅")
          // Alice's message comes first, as a message; the first press after it is the ✅ on the bot's notice.
          const event = yield* platform.events.pipe(
            Stream.filter((e) => e._tag === "Pressed"),
            Stream.runHead,
            Effect.flatMap((o) => o),
            Effect.timeout("10 seconds"),
          )
          expect(event._tag === "Pressed" && event.press).toMatchObject({
            action: unknownPromptAction,
            messageId: plain.messageId,
          })
        }),
      ),
    40_000,
  )
})
