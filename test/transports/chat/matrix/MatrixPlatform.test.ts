// test/transports/chat/matrix/MatrixPlatform.test.ts — the Matrix adapter with the real matrix-js-sdk
// against the local fake homeserver: messages in, notices out, reactions as buttons, a homeserver that
// goes away and comes back without losing what was said meanwhile.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Logger, LogLevel, Redacted, Stream } from "effect"
import { makeMatrixPlatform } from "../../../../src/transports/chat/matrix/MatrixPlatform.js"
import type { ChatPlatform } from "../../../../src/transports/chat/platform.js"
import { alice, bob, bot, connectMatrix as connect, ops, opsHomeserver } from "./support.js"

const withHomeserver = opsHomeserver({ userId: bob, displayName: "Bob" })

const next = (platform: ChatPlatform) =>
  platform.events.pipe(
    Stream.runHead,
    Effect.map((o) => o.pipe((x) => (x._tag === "Some" ? x.value : undefined))),
    Effect.timeout("10 seconds"),
  )

const text = (body: string, extra: Record<string, unknown> = {}) => ({ msgtype: "m.text", body, ...extra })

describe("Matrix adapter", () => {
  it.live(
    "delivers what people say while it runs, not the room's history nor its own messages",
    () =>
      Effect.gen(function* () {
        const hs = yield* withHomeserver
        hs.inject(ops, alice, text("said before huskies started"))
        const platform = yield* connect(hs)
        hs.inject(ops, bot, text("the bot's own words"))
        const id = hs.inject(ops, alice, text("huskies: status 12"))
        const event = yield* next(platform)
        expect(event).toEqual({
          _tag: "Message",
          message: {
            platform: "matrix",
            place: { room: ops },
            user: alice,
            userName: "matrix:Alice",
            text: "status 12",
            mentioned: true,
            messageId: id,
          },
        })
        hs.inject(ops, alice, text("just chatting"))
        const plain = yield* next(platform)
        expect(plain?._tag === "Message" && plain.message.mentioned).toBe(false)
        const root = hs.inject(
          ops,
          alice,
          text("hey", {
            "m.mentions": { user_ids: [bot] },
            "m.relates_to": { rel_type: "m.thread", event_id: "$root" },
          }),
        )
        const threaded = yield* next(platform)
        expect(threaded).toMatchObject({
          _tag: "Message",
          message: { mentioned: true, place: { room: ops, thread: "$root" }, messageId: root },
        })
        expect(hs.unknown).toEqual([])
      }).pipe(Effect.scoped),
    30_000,
  )

  it.live(
    "sends m.notice with an HTML body, in the thread, once per outbox id, and edits in place",
    () =>
      Effect.gen(function* () {
        const hs = yield* withHomeserver
        const platform = yield* connect(hs)
        const sent = yield* platform.send({
          place: { room: ops, thread: "$item12" },
          text: "**12** moved to `qa`",
          id: "out-1",
        })
        const again = yield* platform.send({
          place: { room: ops, thread: "$item12" },
          text: "**12** moved to `qa`",
          id: "out-1",
        })
        expect(again.messageId).toBe(sent.messageId)
        const notices = hs.sent().filter((e) => e.type === "m.room.message")
        expect(notices).toHaveLength(1)
        expect(notices[0]?.content).toEqual({
          msgtype: "m.notice",
          body: "**12** moved to `qa`",
          format: "org.matrix.custom.html",
          formatted_body: "<strong>12</strong> moved to <code>qa</code>",
          "m.relates_to": {
            rel_type: "m.thread",
            event_id: "$item12",
            is_falling_back: true,
            "m.in_reply_to": { event_id: "$item12" },
          },
        })
        yield* platform.update({ room: ops }, sent.messageId, { text: "12 <merged>" })
        const edit = yield* Effect.promise(() =>
          hs.waitForSent(
            (e) =>
              e.content["m.relates_to"] !== undefined &&
              (e.content["m.relates_to"] as { rel_type?: string }).rel_type === "m.replace",
          ),
        )
        expect(edit.content["m.new_content"]).toMatchObject({
          msgtype: "m.notice",
          body: "12 <merged>",
          formatted_body: "12 &lt;merged&gt;",
        })
      }).pipe(Effect.scoped),
    30_000,
  )

  it.live(
    "a reaction on a prompt presses the button whose emoji it is",
    () =>
      Effect.gen(function* () {
        const hs = yield* withHomeserver
        const platform = yield* connect(hs)
        const prompt = yield* platform.send({
          place: { room: ops },
          text: "Coder on 12 wants to run `rm -rf build`",
          buttons: [
            { action: "decision:7:allow", label: "Approve", style: "primary" },
            { action: "decision:7:deny", label: "Deny", style: "danger" },
          ],
        })
        const message = hs.sent().find((e) => e.event_id === prompt.messageId)
        expect(message?.content["body"]).toContain("React with ✅ Approve · ❌ Deny")
        // The bot offers both reactions itself, and does not take its own as an answer.
        yield* Effect.promise(() =>
          hs.waitForSent(() => hs.sent().filter((e) => e.type === "m.reaction").length >= 2),
        )
        const offered = hs
          .sent()
          .filter((e) => e.type === "m.reaction")
          .map((e) => (e.content["m.relates_to"] as { key: string }).key)
        expect(offered).toEqual(["✅", "❌"])
        hs.inject(
          ops,
          alice,
          { "m.relates_to": { rel_type: "m.annotation", event_id: "$elsewhere", key: "❌" } },
          "m.reaction",
        )
        hs.inject(
          ops,
          alice,
          { "m.relates_to": { rel_type: "m.annotation", event_id: prompt.messageId, key: "❌" } },
          "m.reaction",
        )
        const pressed = yield* next(platform)
        expect(pressed).toEqual({
          _tag: "Pressed",
          press: {
            platform: "matrix",
            place: { room: ops },
            user: alice,
            userName: "matrix:Alice",
            action: "decision:7:deny",
            messageId: prompt.messageId,
          },
        })
      }).pipe(Effect.scoped),
    30_000,
  )

  it.live(
    "ignores encrypted rooms (crypto is not initialised) and keeps serving the others",
    () =>
      Effect.gen(function* () {
        const hs = yield* withHomeserver
        hs.createRoom(
          "!secret:fake.test",
          [
            { userId: alice, displayName: "Alice" },
            { userId: bot, displayName: "huskies" },
          ],
          { encrypted: true },
        )
        const platform = yield* connect(hs)
        hs.inject(
          "!secret:fake.test",
          alice,
          { algorithm: "m.megolm.v1.aes-sha2", ciphertext: "AwgA" },
          "m.room.encrypted",
        )
        const id = hs.inject(ops, alice, text("huskies status"))
        const event = yield* next(platform)
        expect(event).toMatchObject({ _tag: "Message", message: { messageId: id, text: "status" } })
      }).pipe(Effect.scoped),
    30_000,
  )

  it.live(
    "a homeserver that is down when huskies starts: the adapter is up at once and serves once it is back",
    () =>
      Effect.gen(function* () {
        const hs = yield* withHomeserver
        yield* Effect.promise(() => hs.stop())
        const platform = yield* makeMatrixPlatform({
          homeserver: hs.url,
          userId: bot,
          accessToken: Redacted.make("syt_secret"),
        }).pipe(Effect.timeout("2 seconds"))
        yield* Effect.promise(() => hs.start())
        yield* Effect.promise(() => hs.waitForSyncs(2, 20_000))
        const id = hs.inject(ops, alice, text("huskies: help"))
        const event = yield* next(platform)
        expect(event).toMatchObject({ _tag: "Message", message: { messageId: id, text: "help" } })
      }).pipe(Effect.scoped),
    40_000,
  )

  const logged: Array<string> = []
  it.live(
    "a homeserver that goes away: sends fail as unavailable, messages said meanwhile arrive after, none doubled",
    () =>
      Effect.gen(function* () {
        const hs = yield* withHomeserver
        const platform = yield* connect(hs)
        yield* Effect.promise(() => hs.stop())
        const down = yield* platform
          .send({ place: { room: ops }, text: "stage moved", id: "out-9" })
          .pipe(Effect.exit)
        expect(Exit.isFailure(down) && JSON.stringify(down.cause)).toContain("PlatformUnavailable")
        const first = hs.inject(ops, alice, text("huskies: status"))
        const second = hs.inject(ops, alice, text("huskies: queue"))
        yield* Effect.promise(() => hs.start())
        const a = yield* next(platform)
        const b = yield* next(platform)
        expect([a, b].map((e) => (e?._tag === "Message" ? e.message.messageId : undefined))).toEqual([
          first,
          second,
        ])
        // The door retries with the same outbox id: the homeserver keeps one message.
        yield* platform.send({ place: { room: ops }, text: "stage moved", id: "out-9" })
        yield* platform.send({ place: { room: ops }, text: "stage moved", id: "out-9" })
        expect(hs.sent().filter((e) => e.txnId === "out-9")).toHaveLength(1)
        // Everything logged on the way (the SDK's lines included, debug too) leaves the token out.
        expect(logged.length).toBeGreaterThan(0)
        expect(logged.filter((line) => line.includes("syt_secret"))).toEqual([])
      }).pipe(
        Effect.scoped,
        Effect.provide(
          Logger.replace(
            Logger.defaultLogger,
            Logger.make(({ message }) => void logged.push(String(message))),
          ),
        ),
        Logger.withMinimumLogLevel(LogLevel.All),
      ),
    40_000,
  )
})
