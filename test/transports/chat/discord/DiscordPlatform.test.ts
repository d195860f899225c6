// test/transports/chat/discord/DiscordPlatform.test.ts — the Discord adapter (real discord.js 14) against the
// local fake Discord: mentions, slash commands, buttons, sends/edits, threads, a dropped gateway resumed
// without losing a message, an outage that fails sends but never ends the event stream.
import { describe, expect, it } from "@effect/vitest"
import { GatewayIntentBits } from "discord.js"
import { ConfigProvider, Effect, Exit, Logger, Queue, Redacted, Stream } from "effect"
import {
  connectDiscord,
  makeDiscordPlatform,
} from "../../../../src/transports/chat/discord/DiscordPlatform.js"
import type { ChatPlatform } from "../../../../src/transports/chat/platform.js"
import { alice, FakeDiscord } from "../../../fakes/discord/server.js"

type Event = Stream.Stream.Success<ChatPlatform["events"]>

/** The fake, the adapter connected to it (its slash command registered), and what it delivers, in order. */
const connected = Effect.gen(function* () {
  const fake = yield* Effect.acquireRelease(
    Effect.promise(() => FakeDiscord.start()),
    (f) => Effect.promise(() => f.close()),
  )
  const registered = new Promise((resolve) => fake.once("commands", resolve))
  const platform = yield* makeDiscordPlatform({
    token: Redacted.make(fake.token),
    api: fake.api,
    guildId: fake.guildId,
  })
  const received = yield* Queue.unbounded<Event>()
  yield* Stream.runForEach(platform.events, (e) => Queue.offer(received, e)).pipe(Effect.forkScoped)
  yield* Effect.promise(() => registered)
  const next = Queue.take(received).pipe(
    Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("no event from the adapter") }),
    Effect.orDie,
  )
  const message = next.pipe(
    Effect.map((e) => {
      if (e._tag !== "Message") throw new Error(`expected a message, got ${e._tag}`)
      return e.message
    }),
  )
  return { fake, platform, next, message }
})

const wait = <A>(promise: () => Promise<A>) => Effect.promise(promise)

describe("Discord adapter against the fake Discord", () => {
  it.scopedLive(
    "a mention arrives as a command with the mention stripped; other messages are not mentions",
    () =>
      Effect.gen(function* () {
        const { fake, message } = yield* connected
        expect(fake.intents & GatewayIntentBits.MessageContent).toBe(GatewayIntentBits.MessageContent)
        expect(fake.intents & GatewayIntentBits.DirectMessages).toBe(GatewayIntentBits.DirectMessages)

        const id = fake.say("move 503 qa")
        expect(yield* message).toEqual({
          platform: "discord",
          place: { room: fake.channelId },
          user: alice.id,
          userName: "discord:alice",
          text: "move 503 qa",
          mentioned: true,
          messageId: id,
        })
        fake.say("lunch anyone?", { mention: false })
        expect(yield* message).toMatchObject({ text: "lunch anyone?", mentioned: false })
      }),
  )

  it.scopedLive("a direct message is addressed to the bot without a mention", () =>
    Effect.gen(function* () {
      const { fake, message, platform } = yield* connected
      const dm = fake.dm("status")
      expect(yield* message).toMatchObject({ place: { room: dm.channel }, text: "status", mentioned: true })
      const sent = yield* platform.send({ place: { room: dm.channel }, text: "Nothing is running." })
      expect(fake.posted.get(sent.messageId)?.channel_id).toBe(dm.channel)
      // A DM has no threads: a reply meant for one lands in the DM itself instead of failing forever.
      const threaded = yield* platform.send({
        place: { room: dm.channel, thread: sent.messageId },
        text: "503 merged",
      })
      expect(fake.posted.get(threaded.messageId)?.channel_id).toBe(dm.channel)
    }),
  )

  it.scopedLive("/huskies is registered, answered at once, and its command line arrives", () =>
    Effect.gen(function* () {
      const { fake, message } = yield* connected
      expect(fake.commands).toMatchObject([
        { name: "huskies", options: [{ name: "command", type: 3, required: true }] },
      ])

      const interaction = fake.slash("status 503")
      const incoming = yield* message
      expect(incoming).toMatchObject({ text: "status 503", mentioned: true, user: alice.id })
      expect(fake.callbacks).toMatchObject([{ interactionId: interaction, type: 4 }])
      // The echo is a message in the channel, so a reply can be threaded under it.
      const echo = fake.posted.get(incoming.messageId)
      expect(echo?.content).toContain("status 503")
    }),
  )

  it.scopedLive(
    "a sent prompt carries buttons; a press is acknowledged and arrives; update replaces it",
    () =>
      Effect.gen(function* () {
        const { fake, platform, next } = yield* connected
        const sent = yield* platform.send({
          place: { room: fake.channelId },
          text: "503 wants to run `rm -rf build`",
          buttons: [
            { action: "decision:7:allow", label: "Approve", style: "primary" },
            { action: "decision:7:deny", label: "Deny", style: "danger" },
          ],
        })
        expect(fake.posted.get(sent.messageId)).toMatchObject({
          channel_id: fake.channelId,
          content: "503 wants to run `rm -rf build`",
          components: [
            {
              type: 1,
              components: [
                { type: 2, custom_id: "decision:7:allow", label: "Approve", style: 1 },
                { type: 2, custom_id: "decision:7:deny", label: "Deny", style: 4 },
              ],
            },
          ],
        })

        const interaction = fake.press(sent.messageId, "decision:7:allow")
        expect(yield* next).toEqual({
          _tag: "Pressed",
          press: {
            platform: "discord",
            place: { room: fake.channelId },
            user: alice.id,
            userName: "discord:alice",
            action: "decision:7:allow",
            messageId: sent.messageId,
          },
        })
        // 6 = DEFERRED_UPDATE_MESSAGE: acknowledged without changing the message yet.
        expect(yield* wait(() => fake.callbackFor(interaction))).toEqual({
          interactionId: interaction,
          type: 6,
          data: undefined,
        })
        expect(fake.callbacks).toHaveLength(1)

        yield* platform.update({ room: fake.channelId }, sent.messageId, { text: "Approved by alice" })
        expect(fake.posted.get(sent.messageId)).toMatchObject({
          content: "Approved by alice",
          components: [],
          edited: 1,
        })
      }),
  )

  it.scopedLive(
    "replies to an item go into one thread opened on its first message; the thread's messages arrive",
    () =>
      Effect.gen(function* () {
        const { fake, platform, message } = yield* connected
        const root = yield* platform.send({ place: { room: fake.channelId }, text: "503 Add login → Coding" })
        const place = { room: fake.channelId, thread: root.messageId }
        const first = yield* platform.send({ place, text: "503 → QA\nall gates passed" })
        const second = yield* platform.send({ place, text: "503 merged" })

        expect(fake.channels.get(root.messageId)).toMatchObject({
          type: 11,
          parent_id: fake.channelId,
          name: "503 → QA",
        })
        expect(fake.posted.get(first.messageId)?.channel_id).toBe(root.messageId)
        expect(fake.posted.get(second.messageId)?.channel_id).toBe(root.messageId)

        fake.say("show 503", { channel: root.messageId })
        expect(yield* message).toMatchObject({ place, text: "show 503" })
      }),
  )

  it.scopedLive("a send with an outbox id is posted once however often it is retried", () =>
    Effect.gen(function* () {
      const { fake, platform } = yield* connected
      const out = { place: { room: fake.channelId }, text: "503 merged", id: "outbox-41" }
      const a = yield* platform.send(out)
      const b = yield* platform.send(out)
      expect(b.messageId).toBe(a.messageId)
      expect([...fake.posted.values()].filter((m) => m.content === "503 merged")).toHaveLength(1)
    }),
  )

  it.scopedLive("a dropped gateway resumes and the messages sent meanwhile arrive, in order, none lost", () =>
    Effect.gen(function* () {
      const { fake, message } = yield* connected
      fake.say("status 1")
      expect((yield* message).text).toBe("status 1")

      const resumed = fake.next("resumed")
      fake.gateway.drop()
      fake.say("status 2")
      fake.say("status 3")
      yield* wait(() => resumed)
      fake.say("status 4")
      expect([(yield* message).text, (yield* message).text, (yield* message).text]).toEqual([
        "status 2",
        "status 3",
        "status 4",
      ])
      expect({ identifies: fake.gateway.identifies, resumes: fake.gateway.resumes }).toEqual({
        identifies: 1,
        resumes: 1,
      })
    }),
  )

  it.scopedLive("a session Discord forgot is identified anew and messages keep arriving", () =>
    Effect.gen(function* () {
      const { fake, message } = yield* connected
      const ready = fake.next("ready")
      fake.gateway.invalidateSessions()
      fake.gateway.drop()
      yield* wait(() => ready)
      fake.say("backlog")
      expect((yield* message).text).toBe("backlog")
      expect(fake.gateway.identifies).toBe(2)
    }),
  )

  it.scopedLive(
    "a close discord.js does not recover from is followed by a fresh login, and messages arrive",
    () =>
      Effect.gen(function* () {
        const { fake, message } = yield* connected
        const ready = fake.next("ready")
        fake.gateway.invalidateSessions()
        fake.gateway.closeWith(4004)
        yield* wait(() => ready)
        fake.say("queue")
        expect((yield* message).text).toBe("queue")
        expect(fake.gateway.identifies).toBe(2)
      }),
  )

  it.scopedLive(
    "started while Discord is unreachable, the adapter keeps trying and connects when it is back",
    () =>
      Effect.gen(function* () {
        const fake = yield* Effect.acquireRelease(
          Effect.promise(() => FakeDiscord.start()),
          (f) => Effect.promise(() => f.close()),
        )
        fake.setDown(true)
        // Two refused logins: the adapter retried on its own after the first.
        let refusedLogins = 0
        const retried = new Promise((resolve) =>
          fake.on("refused", (path: string) => {
            if (path.endsWith("/gateway/bot") && ++refusedLogins === 2) resolve(path)
          }),
        )
        const secrets = {
          secret: (name: string) =>
            name === "TOKEN" ? Effect.succeed(Redacted.make(fake.token)) : Effect.fail(`no ${name}`),
        }
        const environment = ConfigProvider.fromMap(
          new Map([
            ["HUSKIES_DISCORD_API_URL", fake.api],
            ["HUSKIES_DISCORD_GUILD", fake.guildId],
          ]),
        )
        const platform = yield* connectDiscord(secrets).pipe(Effect.withConfigProvider(environment))
        const received = yield* Queue.unbounded<Event>()
        yield* Stream.runForEach(platform.events, (e) => Queue.offer(received, e)).pipe(Effect.forkScoped)
        const failed = yield* platform
          .send({ place: { room: fake.channelId }, text: "hello" })
          .pipe(Effect.exit)
        expect(failed).toMatchObject(Exit.fail({ _tag: "PlatformUnavailable" }))

        yield* wait(() => retried)
        const registered = new Promise((resolve) => fake.once("commands", resolve))
        fake.setDown(false)
        yield* wait(() => registered)
        expect(fake.commands).toMatchObject([{ name: "huskies" }])
        fake.say("help")
        const first = yield* Queue.take(received).pipe(Effect.timeout("10 seconds"))
        expect(first).toMatchObject({ _tag: "Message", message: { text: "help" } })
      }),
  )

  it.scopedLive("a refused token is retried with backoff and never written to the log", () =>
    Effect.gen(function* () {
      const fake = yield* Effect.acquireRelease(
        Effect.promise(() => FakeDiscord.start()),
        (f) => Effect.promise(() => f.close()),
      )
      const token = "wrong.SECRET-TOKEN-VALUE.xyz"
      const lines: Array<string> = []
      const capture = Logger.make(({ message }) => lines.push(JSON.stringify(message)))
      let refused = 0
      const twice = new Promise((resolve) =>
        fake.on("unauthorized", () => {
          if (++refused === 2) resolve(refused)
        }),
      )
      yield* makeDiscordPlatform({ token: Redacted.make(token), api: fake.api }).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
      )
      yield* wait(() => twice)
      expect(lines.some((l) => l.includes("could not connect"))).toBe(true)
      expect(lines.filter((l) => l.includes("SECRET") || l.includes(token))).toEqual([])
    }),
  )

  it.scopedLive(
    "while Discord is down a send fails with PlatformUnavailable; afterwards all works again",
    () =>
      Effect.gen(function* () {
        const { fake, platform, message } = yield* connected
        fake.setDown(true)
        const failed = yield* platform
          .send({ place: { room: fake.channelId }, text: "503 merged" })
          .pipe(Effect.exit)
        expect(failed).toMatchObject(Exit.fail({ _tag: "PlatformUnavailable", platform: "discord" }))
        expect(fake.posted.size).toBe(0)

        const back = fake.next("resumed")
        fake.setDown(false)
        yield* wait(() => back)
        fake.say("status")
        expect((yield* message).text).toBe("status")
        const sent = yield* platform.send({ place: { room: fake.channelId }, text: "503 merged" })
        expect(fake.posted.get(sent.messageId)?.content).toBe("503 merged")
      }),
  )
})
