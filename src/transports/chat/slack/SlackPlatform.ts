// src/transports/chat/slack/SlackPlatform.ts — the Slack adapter (a ChatPlatform) on @slack/bolt: Socket
// Mode or the Events API over HTTP (its own port, behind the access guard's rule for webhooks), messages
// and button presses in, chat.postMessage/chat.update out.
// The chat door (src/transports/chat/door) builds it from the registry in src/transports/chat/adapters.ts.
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger } from "@slack/bolt"
import {
  Effect,
  Option,
  Queue,
  Redacted,
  Ref,
  Runtime,
  Schedule,
  Scope,
  Stream,
  SubscriptionRef,
  type Duration,
} from "effect"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { webhookGuard } from "../webhookGuard.js"
import { PlatformUnavailable, type ChatPlatform, type Outgoing, type Place, type Sent } from "../platform.js"
import type { AdapterEnv, MissingCredential } from "../credentials.js"
import { slackOptions, type SlackOptions } from "./slackConfig.js"
import { incomingOf, pressedOf, rememberOnce, toBlocks, toMrkdwn } from "./slackMessages.js"

type SlackEvent = Stream.Stream.Success<ChatPlatform["events"]>

export interface SlackPlatform extends ChatPlatform {
  /** Resolves once the platform is connected (now, or after the next reconnect). */
  readonly awaitConnected: Effect.Effect<void>
  /** Resolves once the connection is down (now, or after the next drop). */
  readonly awaitDisconnected: Effect.Effect<void>
  /** The Events API receiver's bound port (None in Socket Mode or before it listens). */
  readonly httpPort: Effect.Effect<Option.Option<number>>
}

/** Bolt's and the Slack SDK's logs go to Effect's logger; tokens never reach it (the SDK redacts them). */
const sdkLogger = (runtime: Runtime.Runtime<never>): Logger => {
  const log =
    (effect: (msg: string) => Effect.Effect<void>) =>
    (...msg: Array<unknown>) =>
      Runtime.runFork(runtime)(effect(msg.map(String).join(" ")).pipe(Effect.annotateLogs("chat", "slack")))
  let level = LogLevel.INFO
  return {
    debug: log(Effect.logDebug),
    info: log(Effect.logDebug),
    warn: log(Effect.logWarning),
    error: log(Effect.logWarning),
    setLevel: (l) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  }
}

/** Why a call failed, from the SDK's typed error codes (never a message that could carry a request). */
const describe = (error: unknown): string => {
  const e = error as { code?: unknown; data?: { error?: unknown } }
  if (typeof e?.data?.error === "string") return e.data.error
  if (typeof e?.code === "string") return e.code
  return "the Slack API call failed"
}

const backoff = (base: Duration.Duration, max: Duration.Duration) =>
  Schedule.exponential(base, 2).pipe(Schedule.union(Schedule.spaced(max)), Schedule.jittered)

export const makeSlackPlatform = (options: SlackOptions): Effect.Effect<SlackPlatform, never, Scope.Scope> =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const logger = sdkLogger(runtime)
    const events = yield* Queue.unbounded<SlackEvent>()
    const connected = yield* SubscriptionRef.make(false)
    const botUserId = yield* SubscriptionRef.make<Option.Option<string>>(Option.none())
    const httpPort = yield* SubscriptionRef.make<Option.Option<number>>(Option.none())
    const seen = yield* Ref.make<ReadonlyArray<string>>([])
    // No SDK-level retries: the door's outbox retries a failed send, and reconnecting is ours below.
    const clientOptions = { slackApiUrl: options.apiUrl, retryConfig: { retries: 0 } }
    const conn = options.connection
    const socketReceiver =
      conn.mode === "socket"
        ? new SocketModeReceiver({
            appToken: Redacted.value(conn.appToken),
            logger,
            autoReconnectEnabled: false,
            installerOptions: { clientOptions },
          })
        : undefined
    const httpReceiver =
      conn.mode === "events"
        ? new HTTPReceiver({
            signingSecret: Redacted.value(conn.signingSecret),
            endpoints: conn.path,
            logger,
          })
        : undefined
    const app = new App({
      token: Redacted.value(options.botToken),
      receiver: (socketReceiver ?? httpReceiver)!,
      clientOptions,
      logger,
      tokenVerificationEnabled: false,
    })
    const offer = (event: SlackEvent) => Runtime.runSync(runtime)(Queue.offer(events, event))
    const onMessage = async ({ event }: { event: unknown }) => {
      const self = Runtime.runSync(runtime)(SubscriptionRef.get(botUserId))
      if (Option.isNone(self)) return
      const incoming = incomingOf(event, self.value)
      if (Option.isNone(incoming)) return
      const key = `${incoming.value.place.room}/${incoming.value.messageId}`
      // Slack delivers an event again when it missed the ack (a dropped socket, a slow HTTP answer).
      const fresh = Runtime.runSync(runtime)(Ref.modify(seen, (keys) => rememberOnce(keys, key)))
      if (fresh) offer({ _tag: "Message", message: incoming.value })
    }
    app.event("app_mention", onMessage)
    app.event("message", onMessage)
    app.action(/^huskies_button_/, async ({ ack, body }) => {
      // Slack wants the ack within 3 s: first, before anything else.
      await ack()
      Option.map(pressedOf(body), (press) => offer({ _tag: "Pressed", press }))
    })
    app.error(async (error) => {
      Runtime.runFork(runtime)(Effect.logWarning(`Slack listener failed: ${describe(error)}`))
    })

    const call = <A>(what: string, f: () => Promise<A>) =>
      Effect.tryPromise({
        try: f,
        catch: (e) => new PlatformUnavailable({ platform: "slack", detail: `${what}: ${describe(e)}` }),
      })
    const schedule = backoff(options.reconnectBase, options.reconnectMax)
    const identify = call("auth.test", () => app.client.auth.test()).pipe(
      Effect.flatMap((r) => SubscriptionRef.set(botUserId, Option.fromNullable(r.user_id))),
      Effect.tapError((e) => Effect.logWarning(`${e.message}; retrying`)),
      Effect.retry(schedule),
    )

    if (socketReceiver !== undefined) {
      const client = socketReceiver.client
      const drops = yield* Queue.unbounded<void>()
      client.on("disconnected", () => Queue.unsafeOffer(drops, undefined))
      const connectOnce = Queue.takeAll(drops).pipe(
        Effect.zipRight(call("apps.connections.open", () => client.start())),
      )
      const session = Effect.gen(function* () {
        yield* connectOnce.pipe(
          Effect.tapError((e) => Effect.logWarning(`${e.message}; reconnecting`)),
          Effect.retry(schedule),
        )
        yield* SubscriptionRef.set(connected, true)
        yield* Effect.logInfo("Slack Socket Mode connected").pipe(Effect.annotateLogs("chat", "slack"))
        yield* Queue.take(drops)
        yield* SubscriptionRef.set(connected, false)
        yield* Effect.logWarning("Slack Socket Mode connection dropped; reconnecting").pipe(
          Effect.annotateLogs("chat", "slack"),
        )
      })
      yield* Effect.addFinalizer(() => Effect.promise(() => client.disconnect()))
      yield* identify.pipe(Effect.zipRight(Effect.forever(session)), Effect.forkScoped)
    } else if (httpReceiver !== undefined && conn.mode === "events") {
      // Bolt's receiver answers behind our own listener, so the guard (Host, Origin) runs first; Bolt then
      // checks the signing secret's signature over the raw body and refuses a forged one.
      const admit = webhookGuard(conn.host, conn.allowedHosts)
      const server = createServer((req, res) => {
        if (!admit(req, res, (req.socket.address() as AddressInfo).port)) return
        try {
          httpReceiver.requestListener(req, res)
        } catch (error) {
          Runtime.runFork(runtime)(Effect.logWarning(`Slack Events API request failed: ${describe(error)}`))
          if (!res.headersSent) res.writeHead(500).end()
        }
      })
      yield* Effect.addFinalizer(() =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        }),
      )
      const listen = call(
        "listen",
        () =>
          new Promise<Server>((resolve, reject) => {
            server.once("error", reject)
            server.listen(conn.port, conn.host, () => {
              server.off("error", reject)
              resolve(server)
            })
          }),
      ).pipe(
        Effect.flatMap((server) =>
          SubscriptionRef.set(httpPort, Option.some((server.address() as AddressInfo).port)),
        ),
        Effect.tapError((e) => Effect.logWarning(`Slack Events API receiver: ${e.message}; retrying`)),
        Effect.retry(schedule),
      )
      yield* identify.pipe(
        Effect.zipRight(listen),
        Effect.zipRight(SubscriptionRef.set(connected, true)),
        Effect.forkScoped,
      )
    }

    const whenUp = SubscriptionRef.get(connected).pipe(
      Effect.filterOrFail(
        (up) => up,
        () => new PlatformUnavailable({ platform: "slack", detail: "not connected; reconnecting" }),
      ),
    )
    const send = (message: Outgoing): Effect.Effect<Sent, PlatformUnavailable> =>
      whenUp.pipe(
        Effect.zipRight(
          call("chat.postMessage", () =>
            app.client.chat.postMessage({
              channel: message.place.room,
              ...(message.place.thread === undefined ? {} : { thread_ts: message.place.thread }),
              text: toMrkdwn(message.text),
              blocks: toBlocks(message),
            }),
          ),
        ),
        Effect.flatMap((r) =>
          typeof r.ts === "string"
            ? Effect.succeed({ messageId: r.ts })
            : new PlatformUnavailable({ platform: "slack", detail: "chat.postMessage returned no ts" }),
        ),
      )
    const update = (place: Place, messageId: string, message: Omit<Outgoing, "place">) =>
      whenUp.pipe(
        Effect.zipRight(
          call("chat.update", () =>
            app.client.chat.update({
              channel: place.room,
              ts: messageId,
              text: toMrkdwn(message.text),
              blocks: toBlocks(message),
            }),
          ),
        ),
        Effect.asVoid,
      )
    return {
      name: "slack",
      events: Stream.fromQueue(events),
      send,
      update,
      threads: true,
      buttons: true,
      awaitConnected: connected.changes.pipe(
        Stream.filter((up) => up),
        Stream.runHead,
        Effect.asVoid,
      ),
      awaitDisconnected: connected.changes.pipe(
        Stream.filter((up) => !up),
        Stream.runHead,
        Effect.asVoid,
      ),
      httpPort: SubscriptionRef.get(httpPort),
    } satisfies SlackPlatform
  })

/** The registry's entry (src/transports/chat/adapters.ts): settings from the environment, then connect. */
export const connectSlack = (env: AdapterEnv): Effect.Effect<SlackPlatform, MissingCredential, Scope.Scope> =>
  Effect.flatMap(slackOptions(env), makeSlackPlatform)
