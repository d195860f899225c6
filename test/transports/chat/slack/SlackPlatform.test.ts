// Tests of the Slack adapter: the real @slack/bolt against the local fake Slack (Web API + Socket Mode
// WebSocket, and signed Events API deliveries to the adapter's HTTP receiver).
import { describe, expect, it } from "@effect/vitest"
import { request } from "node:http"
import { Chunk, Duration, Effect, Exit, Logger, LogLevel, Option, Redacted, Stream } from "effect"
import type { SlackFake } from "../../../fakes/slack/SlackFake.js"
import { makeSlackPlatform, type SlackPlatform } from "../../../../src/transports/chat/slack/SlackPlatform.js"
import type { SlackOptions } from "../../../../src/transports/chat/slack/slackConfig.js"
import { APP, BOT, scopedSlackFake } from "./support.js"

const SIGNING = "signing-SECRETVALUE-0f9e8d"

const options = (fake: SlackFake, connection: SlackOptions["connection"]): SlackOptions => ({
  botToken: Redacted.make(BOT),
  connection,
  apiUrl: fake.apiUrl,
  reconnectBase: Duration.millis(50),
  reconnectMax: Duration.millis(500),
})
const socket = { mode: "socket", appToken: Redacted.make(APP) } as const

const next = (platform: SlackPlatform) =>
  platform.events.pipe(
    Stream.take(1),
    Stream.runCollect,
    Effect.map(Chunk.unsafeHead),
    Effect.timeout("10 seconds"),
  )
const wait = (fake: SlackFake, check: () => boolean) =>
  Effect.promise(() => fake.until(check)).pipe(Effect.timeout("10 seconds"))

describe("Slack adapter (Socket Mode)", () => {
  it.live("a mention arrives once, without the mention and in its thread; a DM arrives as mentioned", () =>
    Effect.gen(function* () {
      const fake = yield* scopedSlackFake
      const slack = yield* makeSlackPlatform(options(fake, socket))
      yield* slack.awaitConnected
      const mention = {
        channel: "C0OPS",
        user: "UALICE",
        text: `<@${fake.botUserId}> status 503`,
        ts: "1700000000.000200",
        thread_ts: "1700000000.000100",
      }
      fake.sendEvent({ type: "app_mention", ...mention })
      // Slack redelivers an event whose ack it missed, and also sends the same message as message.channels:
      // either way it must not arrive twice.
      fake.sendEvent({ type: "app_mention", ...mention })
      fake.sendEvent({ type: "message", channel_type: "channel", ...mention })
      fake.sendEvent({
        type: "message",
        channel_type: "channel",
        channel: "C0OPS",
        bot_id: "B0001",
        user: fake.botUserId,
        text: "my own post",
        ts: "1700000000.000250",
      })
      fake.sendEvent({
        type: "message",
        channel_type: "im",
        channel: "D0BOB",
        user: "UBOB",
        text: "help",
        ts: "1700000000.000300",
      })
      const first = yield* next(slack)
      expect(first).toEqual({
        _tag: "Message",
        message: {
          platform: "slack",
          place: { room: "C0OPS", thread: "1700000000.000100" },
          user: "UALICE",
          userName: "slack:UALICE",
          text: "status 503",
          mentioned: true,
          messageId: "1700000000.000200",
        },
      })
      const second = yield* next(slack)
      expect(second._tag === "Message" && second.message).toMatchObject({
        place: { room: "D0BOB" },
        text: "help",
        mentioned: true,
      })
    }).pipe(Effect.scoped),
  )

  it.live("send and update land in the fake with blocks; a button press arrives and is acked", () =>
    Effect.gen(function* () {
      const fake = yield* scopedSlackFake
      const slack = yield* makeSlackPlatform(options(fake, socket))
      yield* slack.awaitConnected
      const sent = yield* slack.send({
        place: { room: "C0OPS", thread: "1700000000.000100" },
        text: "**503** wants to run `git push`: allow? <see> [log](https://example.org/503)",
        buttons: [
          { action: "decision:d1:allow", label: "Approve", style: "primary" },
          { action: "decision:d1:deny", label: "Deny", style: "danger" },
        ],
      })
      const posted = fake.posted.find((p) => p.ts === sent.messageId)!
      expect(posted.thread_ts).toBe("1700000000.000100")
      expect(posted.blocks?.[0]).toEqual({
        type: "section",
        text: {
          type: "mrkdwn",
          text: "*503* wants to run `git push`: allow? &lt;see&gt; <https://example.org/503|log>",
        },
      })
      expect(
        (posted.blocks?.[1] as { elements: Array<{ value: string; style: string }> }).elements.map((e) => [
          e.value,
          e.style,
        ]),
      ).toEqual([
        ["decision:d1:allow", "primary"],
        ["decision:d1:deny", "danger"],
      ])

      const envelope = fake.pressButton(posted, 1)
      const pressed = yield* next(slack)
      expect(pressed).toEqual({
        _tag: "Pressed",
        press: {
          platform: "slack",
          place: { room: "C0OPS", thread: "1700000000.000100" },
          user: "UALICE",
          userName: "slack:alice",
          action: "decision:d1:deny",
          messageId: sent.messageId,
        },
      })
      yield* wait(fake, () => fake.acks.has(envelope))

      yield* slack.update({ room: "C0OPS" }, sent.messageId, { text: "Denied by alice" })
      expect(posted.edits).toBe(1)
      expect(posted.text).toBe("Denied by alice")
      expect(posted.blocks).toEqual([{ type: "section", text: { type: "mrkdwn", text: "Denied by alice" } }])
    }).pipe(Effect.scoped),
  )

  it.live("a dropped socket, a refresh and an outage reconnect; send fails while Slack is down", () =>
    Effect.gen(function* () {
      const fake = yield* scopedSlackFake
      const slack = yield* makeSlackPlatform(options(fake, socket))
      yield* slack.awaitConnected
      const say = (text: string, ts: string) =>
        fake.sendEvent({ type: "message", channel_type: "im", channel: "D0BOB", user: "UBOB", text, ts })

      fake.dropSockets()
      yield* wait(fake, () => fake.hellos >= 2)
      say("after the drop", "1700000001.000001")
      expect(yield* next(slack)).toMatchObject({ message: { text: "after the drop" } })

      fake.refresh()
      yield* wait(fake, () => fake.hellos >= 3)
      say("after the refresh", "1700000001.000002")
      expect(yield* next(slack)).toMatchObject({ message: { text: "after the refresh" } })

      yield* Effect.promise(() => fake.stop())
      const down = yield* Effect.exit(slack.send({ place: { room: "C0OPS" }, text: "while down" }))
      expect(down).toMatchObject(Exit.fail({ _tag: "PlatformUnavailable", platform: "slack" }))
      yield* Effect.promise(() => fake.start())
      yield* wait(fake, () => fake.hellos >= 4)
      say("after the outage", "1700000001.000003")
      expect(yield* next(slack)).toMatchObject({ message: { text: "after the outage" } })
      yield* slack.awaitConnected
      yield* slack.send({ place: { room: "C0OPS" }, text: "back" })
      expect(fake.posted.map((p) => p.text)).toEqual(["back"])
    }).pipe(Effect.scoped),
  )

  it.live(
    "closing the adapter while Slack is down ends at once (nothing waits for a socket that is gone)",
    () =>
      Effect.gen(function* () {
        const fake = yield* scopedSlackFake
        yield* Effect.gen(function* () {
          const slack = yield* makeSlackPlatform(options(fake, socket))
          yield* slack.awaitConnected
          yield* Effect.promise(() => fake.stop())
          yield* slack.awaitDisconnected
          const down = yield* Effect.exit(slack.send({ place: { room: "C0OPS" }, text: "while down" }))
          expect(down).toMatchObject(
            Exit.fail({ _tag: "PlatformUnavailable", detail: "not connected; reconnecting" }),
          )
        }).pipe(Effect.scoped, Effect.timeout("4 seconds"))
        yield* Effect.promise(() => fake.start())
      }).pipe(Effect.scoped),
  )

  it.live("no credential appears in the log output, even at debug level", () => {
    const lines: Array<string> = []
    const capture = Logger.make(({ message }) => void lines.push(JSON.stringify(message)))
    return Effect.gen(function* () {
      const fake = yield* scopedSlackFake
      const slack = yield* makeSlackPlatform(options(fake, socket))
      yield* slack.awaitConnected
      yield* slack.send({ place: { room: "C0OPS" }, text: "hello" })
      fake.dropSockets()
      yield* wait(fake, () => fake.hellos >= 2)
      yield* slack.awaitConnected
      expect(lines.length).toBeGreaterThan(0)
      expect(lines.join("\n")).toContain("apps.connections.open")
      for (const secret of [BOT, APP, "BOTSECRETVALUE", "APPSECRETVALUE"])
        expect(lines.join("\n")).not.toContain(secret)
    }).pipe(
      Effect.scoped,
      Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
      Logger.withMinimumLogLevel(LogLevel.All),
    )
  })
})

/** The fake Slack and the adapter on it receiving the Events API at /slack/events, once it is up. */
const eventsReceiver = (allowedHosts?: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const fake = yield* scopedSlackFake
    const slack = yield* makeSlackPlatform(
      options(fake, {
        mode: "events",
        signingSecret: Redacted.make(SIGNING),
        port: 0,
        host: "127.0.0.1",
        path: "/slack/events",
        ...(allowedHosts === undefined ? {} : { allowedHosts }),
      }),
    )
    yield* slack.awaitConnected
    return { fake, slack, port: Option.getOrThrow(yield* slack.httpPort) }
  })

/** Alice mentioning the bot in the ops channel with `text`, as the Events API delivers it. */
const mention = (fake: SlackFake, text: string, ts: string) => ({
  type: "app_mention",
  channel: "C0OPS",
  user: "UALICE",
  text: `<@${fake.botUserId}> ${text}`,
  ts,
})

describe("Slack adapter (Events API over HTTP)", () => {
  it.live("a signed event arrives; a forged or replayed signature is rejected", () =>
    Effect.gen(function* () {
      const { fake, slack, port } = yield* eventsReceiver()
      const post = (delivery: { body: string; headers: Record<string, string> }) =>
        Effect.promise(() =>
          fetch(`http://127.0.0.1:${port}/slack/events`, {
            method: "POST",
            body: delivery.body,
            headers: delivery.headers,
          }).then((r) => r.status),
        )
      const event = (text: string, ts: string) => mention(fake, text, ts)

      expect(yield* post(fake.signedDelivery(event("forged", "1.1"), "not-the-secret"))).toBe(401)
      const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600
      expect(yield* post(fake.signedDelivery(event("replayed", "1.2"), SIGNING, tenMinutesAgo))).toBe(401)
      const tampered = fake.signedDelivery(event("original", "1.3"), SIGNING)
      expect(yield* post({ ...tampered, body: tampered.body.replace("original", "tampered") })).toBe(401)

      expect(yield* post(fake.signedDelivery(event("show 503", "1.4"), SIGNING))).toBe(200)
      // The first event through is the signed one: nothing rejected was delivered before it.
      expect(yield* next(slack)).toMatchObject({
        _tag: "Message",
        message: { text: "show 503", messageId: "1.4", mentioned: true },
      })
    }).pipe(Effect.scoped),
  )

  it.live(
    "the receiver is behind the access guard: Host and Origin must name it; a proxy's allowed name passes",
    () =>
      Effect.gen(function* () {
        const { fake, slack, port } = yield* eventsReceiver(["hooks.example.org"])
        // Host set by hand, which fetch would not allow.
        const post = (
          delivery: { body: string; headers: Record<string, string> },
          headers: Record<string, string>,
        ) =>
          Effect.async<number>((resume) => {
            const req = request(
              {
                host: "127.0.0.1",
                port,
                path: "/slack/events",
                method: "POST",
                headers: { ...delivery.headers, ...headers },
              },
              (res) => {
                res.resume()
                res.on("end", () => resume(Effect.succeed(res.statusCode ?? 0)))
              },
            )
            req.on("error", (e) => resume(Effect.die(e)))
            req.end(delivery.body)
          })
        const event = (text: string, ts: string) => mention(fake, text, ts)
        // Signed by Slack, but sent under a name that only resolves here: refused before Bolt reads it.
        expect(
          yield* post(fake.signedDelivery(event("rebound", "2.1"), SIGNING), { host: "evil.example" }),
        ).toBe(403)
        expect(
          yield* post(fake.signedDelivery(event("from a page", "2.2"), SIGNING), {
            host: `127.0.0.1:${port}`,
            origin: "https://evil.example",
          }),
        ).toBe(403)
        // The proxy's public name passes the guard, and the signature is still checked.
        expect(
          yield* post(fake.signedDelivery(event("forged", "2.3"), "not-the-secret"), {
            host: "hooks.example.org",
          }),
        ).toBe(401)
        expect(
          yield* post(fake.signedDelivery(event("show 503", "2.4"), SIGNING), { host: "hooks.example.org" }),
        ).toBe(200)
        expect(yield* next(slack)).toMatchObject({
          _tag: "Message",
          message: { text: "show 503", messageId: "2.4" },
        })
      }).pipe(Effect.scoped),
  )
})
