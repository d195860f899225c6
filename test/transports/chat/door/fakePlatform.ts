// test/transports/chat/door/fakePlatform.ts — a chat platform at the contract's boundary, backed by
// queues: the test says and presses things as people would, and reads what the door sent and edited. It
// can be made to refuse sends (an outage), for a given number of sends or until told otherwise.
import { Duration, Effect, Either, Layer, Option, Queue, Ref, Stream } from "effect"
import { decodeBotConfig, type PlatformConfig } from "../../../../src/domain/BotConfig.js"
import { OutboxLive } from "../../../../src/layers/Outbox.js"
import { runDoor } from "../../../../src/transports/chat/door/Door.js"
import {
  type ButtonPressed,
  type ChatPlatform,
  type Incoming,
  type Outgoing,
  type Place,
  PlatformUnavailable,
} from "../../../../src/transports/chat/platform.js"

export interface SentMessage extends Outgoing {
  readonly messageId: string
}

export interface FakePlatform {
  readonly platform: ChatPlatform
  readonly say: (user: string, text: string, place?: Place) => Effect.Effect<void>
  readonly press: (user: string, action: string, messageId: string, place?: Place) => Effect.Effect<void>
  /** The next message the door sent (dies after `millis`). */
  readonly nextSent: (millis?: number) => Effect.Effect<SentMessage>
  /** Whatever was sent and not taken yet, after a quiet while. */
  readonly drain: (quiet: Duration.DurationInput) => Effect.Effect<ReadonlyArray<SentMessage>>
  readonly nextUpdate: (
    millis?: number,
  ) => Effect.Effect<{ readonly messageId: string; readonly text: string }>
  /** The next `n` sends fail (Infinity: until `up`). */
  readonly down: (n: number) => Effect.Effect<void>
  readonly up: Effect.Effect<void>
  /** How many sends were attempted, failed ones included. */
  readonly attempts: Effect.Effect<number>
}

export const opsRoom = "C-ops"
export const readRoom = "C-read"

export const makeFakePlatform = Effect.gen(function* () {
  const events = yield* Queue.unbounded<
    | { readonly _tag: "Message"; readonly message: Incoming }
    | { readonly _tag: "Pressed"; readonly press: ButtonPressed }
  >()
  const sent = yield* Queue.unbounded<SentMessage>()
  const updates = yield* Queue.unbounded<{ messageId: string; text: string }>()
  const failing = yield* Ref.make(0)
  const attempts = yield* Ref.make(0)
  const counter = yield* Ref.make(0)
  const platform: ChatPlatform = {
    name: "slack",
    events: Stream.fromQueue(events),
    threads: true,
    buttons: true,
    send: (message) =>
      Effect.gen(function* () {
        yield* Ref.update(attempts, (n) => n + 1)
        const fail = yield* Ref.modify(failing, (n) => [n > 0, n > 0 ? n - 1 : 0])
        if (fail) return yield* new PlatformUnavailable({ platform: "slack", detail: "connection refused" })
        const messageId = `m${yield* Ref.updateAndGet(counter, (n) => n + 1)}`
        yield* Queue.offer(sent, { ...message, messageId })
        return { messageId }
      }),
    update: (_place, messageId, message) => Queue.offer(updates, { messageId, text: message.text }),
  }
  let seq = 0
  const within =
    <A>(what: string, millis: number) =>
    (effect: Effect.Effect<A>) =>
      effect.pipe(
        Effect.timeoutFail({
          duration: Duration.millis(millis),
          onTimeout: () => new Error(`waited for ${what}`),
        }),
        Effect.orDie,
      )
  return {
    platform,
    say: (user, text, place = { room: opsRoom }) =>
      Queue.offer(events, { _tag: "Message", message: messageOf({ user, text, place, id: `in${++seq}` }) }),
    press: (user, action, messageId, place = { room: opsRoom }) =>
      Queue.offer(events, { _tag: "Pressed", press: pressOf({ user, action, messageId, place }) }),
    nextSent: (millis = 10_000) => within<SentMessage>("a sent message", millis)(Queue.take(sent)),
    drain: (quiet) =>
      Effect.gen(function* () {
        const all: Array<SentMessage> = []
        for (;;) {
          const next = yield* Queue.take(sent).pipe(Effect.timeout(quiet), Effect.option)
          if (Option.isNone(next)) return all
          all.push(next.value)
        }
      }),
    nextUpdate: (millis = 10_000) =>
      within<{ messageId: string; text: string }>("an update", millis)(Queue.take(updates)),
    down: (n) => Ref.set(failing, n),
    up: Ref.set(failing, 0),
    attempts: Ref.get(attempts),
  } satisfies FakePlatform
})

const messageOf = (m: { user: string; text: string; place: Place; id: string }): Incoming => ({
  platform: "slack" as const,
  place: m.place,
  user: m.user,
  // As every adapter gives it (platform.ts): the platform's name first.
  userName: `slack:${m.user}`,
  text: m.text,
  mentioned: true,
  messageId: m.id,
})

const pressOf = (p: { user: string; action: string; messageId: string; place: Place }): ButtonPressed => ({
  platform: "slack" as const,
  place: p.place,
  user: p.user,
  userName: `slack:${p.user}`,
  action: p.action,
  messageId: p.messageId,
})

/** The [slack] table of a bot.toml: an ops room that hears every event, a read-only room, two people. */
export const slackConfig = (extra = ""): PlatformConfig => {
  const text = `[slack]
enabled = true
ops_room = "${opsRoom}"
coalesce_ms = 50
${extra}
[slack.users]
ops = ["alice"]
read = ["bob"]

[[slack.room]]
id = "${opsRoom}"
role = "ops"
notify = ["moves", "merges", "failures", "rate_limits"]

[[slack.room]]
id = "${readRoom}"
role = "read"
`
  return slackTable(text)
}

/** The [slack] table of the bot.toml `text`, decoded as serve decodes it; throws what is wrong with it. */
export const slackTable = (text: string): PlatformConfig => {
  const decoded = decodeBotConfig(text, "bot.toml")
  if (Either.isLeft(decoded)) throw decoded.left
  if (decoded.right.slack === undefined) throw new Error("no [slack]")
  return decoded.right.slack
}

/** Runs the door for `fake` in the caller's scope, with its outbox in `outboxPath`; interrupt to "stop". */
export const startDoor = (fake: FakePlatform, config: PlatformConfig, outboxPath: string) =>
  Effect.forkScoped(
    Effect.provide(
      runDoor(fake.platform, config, { retry: Duration.millis(20) }),
      OutboxLive(outboxPath).pipe(Layer.orDie),
    ),
  )
