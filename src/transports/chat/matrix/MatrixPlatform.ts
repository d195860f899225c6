// src/transports/chat/matrix/MatrixPlatform.ts — the Matrix adapter: matrix-js-sdk's /sync loop turned
// into the door's event stream (people's messages, reactions on prompts as button presses) and sends as
// m.notice with HTML bodies, threads and edits. The SDK reconnects by itself; the chat door uses this.
import { Effect, Queue, Redacted, Runtime, type Scope, Stream, SubscriptionRef } from "effect"
import {
  ClientEvent,
  createClient,
  MatrixScheduler,
  Method,
  type MatrixClient,
  type MatrixEvent,
  type Room,
  RoomEvent,
  SyncState,
} from "matrix-js-sdk"
import { type Logger, logger as sdkGlobalLogger } from "matrix-js-sdk/lib/logger.js"
import type { ButtonPressed, ChatPlatform, Incoming, Outgoing, Place } from "../platform.js"
import { PlatformUnavailable } from "../platform.js"
import { detectMention, reactionKeys, toHtml, withReactionHint } from "./format.js"
import type { PlatformConfig } from "../../../domain/BotConfig.js"
import type { AdapterEnv, MissingCredential } from "../credentials.js"
import { type MatrixSettings, matrixSettings } from "./MatrixConfig.js"
import { type AdapterMemory, inProcessMemory } from "../memory.js"

type PlatformEvent =
  | { readonly _tag: "Message"; readonly message: Incoming }
  | { readonly _tag: "Pressed"; readonly press: ButtonPressed }

/** How long a send may take before the door is told the platform is unavailable (it keeps the message). */
const sendTimeout = "15 seconds"

/** The reactions that stand for a prompt's buttons, as the memory keeps them under the prompt's event id. */
type PromptReactions = ReadonlyArray<{ readonly key: string; readonly action: string }>
const promptKind = "prompt"
/** What a reaction on a prompt this adapter does not know is passed on as: the door answers it politely. */
export const unknownPromptAction = "unknown-prompt"

const decodeReactions = (value: string | undefined): PromptReactions | undefined => {
  if (value === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(value)
    return Array.isArray(parsed) ? (parsed as PromptReactions) : undefined
  } catch {
    return undefined // written by this module only; a damaged row reads as an unknown prompt
  }
}

const unavailable = (detail: string) => new PlatformUnavailable({ platform: "matrix", detail })

/** The SDK's logger, routed to Effect's debug level (its reconnect chatter is not a warning of ours). */
const sdkLogger = (
  log: (level: string, parts: ReadonlyArray<unknown>) => void,
  namespace = "matrix-sdk",
): Logger => {
  const at =
    (level: string) =>
    (...parts: Array<unknown>) =>
      log(level, [namespace, ...parts])
  return {
    trace: () => undefined,
    debug: () => undefined,
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    getChild: (child: string) => sdkLogger(log, `${namespace}:${child}`),
  }
}

const relation = (event: MatrixEvent): Record<string, unknown> | undefined => {
  const rel: unknown = event.getContent()["m.relates_to"]
  return typeof rel === "object" && rel !== null ? (rel as Record<string, unknown>) : undefined
}

const threadOf = (event: MatrixEvent): string | undefined => {
  const rel = relation(event)
  return rel?.["rel_type"] === "m.thread" && typeof rel["event_id"] === "string" ? rel["event_id"] : undefined
}

const placeOf = (event: MatrixEvent, room: Room): Place => {
  const thread = threadOf(event)
  return thread === undefined ? { room: room.roomId } : { room: room.roomId, thread }
}

/** A notice's content: plain body for clients without HTML, formatted body for the rest. */
const noticeContent = (message: Omit<Outgoing, "place">): Record<string, unknown> => {
  const text = withReactionHint(message.text, message.buttons ?? [])
  return { msgtype: "m.notice", body: text, format: "org.matrix.custom.html", formatted_body: toHtml(text) }
}

const inThread = (content: Record<string, unknown>, place: Place): Record<string, unknown> =>
  place.thread === undefined
    ? content
    : {
        ...content,
        "m.relates_to": {
          rel_type: "m.thread",
          event_id: place.thread,
          is_falling_back: true,
          "m.in_reply_to": { event_id: place.thread },
        },
      }

/**
 * Connects to the homeserver with the bot's access token and starts the sync loop; the scope stops it.
 * Encrypted rooms are not supported (the SDK's crypto is WASM and is not initialised): their messages
 * are ignored with a logged hint, once per room.
 */
export const makeMatrixPlatform = (
  settings: MatrixSettings,
  memory?: AdapterMemory,
): Effect.Effect<ChatPlatform, never, Scope.Scope> =>
  Effect.gen(function* () {
    /** The reactions that stand for buttons, per prompt event id: in the outbox, so a restart keeps them. */
    const prompts = memory ?? (yield* inProcessMemory())
    /** Prompts being sent: a reaction on an event not known yet may be on one of them, so it waits. */
    const sending = yield* SubscriptionRef.make(0)
    const runtime = yield* Effect.runtime<never>()
    const scope = yield* Effect.scope
    const runLog = (effect: Effect.Effect<void>) => void Runtime.runFork(runtime)(effect)
    const queue = yield* Effect.acquireRelease(Queue.unbounded<PlatformEvent>(), Queue.shutdown)
    const warnedEncrypted = new Set<string>()
    let live = false

    // Some SDK modules log through its global loglevel logger, not the client's: keep only its errors.
    ;(sdkGlobalLogger as unknown as { setLevel?: (level: string) => void }).setLevel?.("error")
    const client: MatrixClient = createClient({
      baseUrl: settings.homeserver,
      accessToken: Redacted.value(settings.accessToken),
      userId: settings.userId,
      // The door retries a failed send with the same outbox id (the txnId), so the SDK must not queue its own.
      scheduler: new MatrixScheduler(() => -1),
      logger: sdkLogger((level, parts) =>
        runLog(
          (level === "error" ? Effect.logWarning : Effect.logDebug)(parts.map(String).join(" ")).pipe(
            Effect.annotateLogs("platform", "matrix"),
          ),
        ),
      ),
    })

    const userNameOf = (room: Room, userId: string): string =>
      `matrix:${room.getMember(userId)?.name ?? userId.replace(/^@([^:]+):.*$/, "$1")}`

    const onTimeline = (
      event: MatrixEvent,
      room: Room | undefined,
      toStartOfTimeline: boolean | undefined,
    ): void => {
      // Events before the first PREPARED are the room's history: the bot answers only what is said while it runs.
      if (!live || room === undefined || toStartOfTimeline === true) return
      const sender = event.getSender()
      if (sender === undefined || sender === settings.userId) return
      const eventId = event.getId()
      if (eventId === undefined) return
      const type = event.getType()
      if (type === "m.room.encrypted") {
        if (!warnedEncrypted.has(room.roomId)) {
          warnedEncrypted.add(room.roomId)
          runLog(
            Effect.logWarning(
              `matrix: room ${room.roomId} is encrypted; huskies does not support end-to-end encryption, ` +
                "so its messages are ignored. Use an unencrypted room for the bot.",
            ),
          )
        }
        return
      }
      if (type === "m.reaction") {
        const rel = relation(event)
        const target = rel?.["event_id"]
        const key = rel?.["key"]
        if (rel?.["rel_type"] !== "m.annotation" || typeof target !== "string" || typeof key !== "string")
          return
        const byBot = room.findEventById(target)?.getSender() === settings.userId
        runLog(
          Effect.gen(function* () {
            const known = Effect.map(prompts.recall(promptKind, target), decodeReactions)
            let buttons = yield* known
            if (buttons === undefined && byBot) {
              // A person quicker than the homeserver's answer to our send: its event id is not recorded yet.
              yield* sending.changes.pipe(
                Stream.filter((n) => n === 0),
                Stream.runHead,
              )
              buttons = yield* known
            }
            const action =
              buttons === undefined
                ? // Only a prompt's own keys on the bot's own message: any other reaction is just a reaction.
                  byBot && (key === "✅" || key === "❌")
                  ? unknownPromptAction
                  : undefined
                : buttons.find((b) => b.key === key)?.action
            if (action === undefined) return
            yield* Queue.offer(queue, {
              _tag: "Pressed",
              press: {
                platform: "matrix",
                place: placeOf(event, room),
                user: sender,
                userName: userNameOf(room, sender),
                action,
                messageId: target,
              },
            })
          }),
        )
        return
      }
      if (type !== "m.room.message") return
      const content = event.getContent()
      if (content["msgtype"] !== "m.text" && content["msgtype"] !== "m.emote") return
      if (relation(event)?.["rel_type"] === "m.replace") return // an edit: the original was already handled
      const body = typeof content["body"] === "string" ? content["body"] : ""
      const mentionsField: unknown = content["m.mentions"]
      const mentionIds =
        typeof mentionsField === "object" &&
        mentionsField !== null &&
        Array.isArray((mentionsField as { user_ids?: unknown }).user_ids)
          ? ((mentionsField as { user_ids: Array<unknown> }).user_ids.filter(
              (id) => typeof id === "string",
            ) as Array<string>)
          : undefined
      const mention = detectMention(body, mentionIds, settings.userId, room.getMember(settings.userId)?.name)
      const direct = room.getJoinedMemberCount() === 2
      Queue.unsafeOffer(queue, {
        _tag: "Message",
        message: {
          platform: "matrix",
          place: placeOf(event, room),
          user: sender,
          userName: userNameOf(room, sender),
          text: mention.text,
          mentioned: mention.mentioned || direct,
          messageId: eventId,
        },
      })
    }

    const onSync = (state: SyncState, previous: SyncState | null): void => {
      if (state === SyncState.Prepared) live = true
      if (state !== previous && (state === SyncState.Error || state === SyncState.Reconnecting))
        runLog(Effect.logWarning(`matrix: sync ${state.toLowerCase()}; the SDK keeps retrying`))
      if (
        state === SyncState.Syncing &&
        (previous === SyncState.Error || previous === SyncState.Reconnecting)
      )
        runLog(Effect.logInfo("matrix: sync restored"))
    }

    client.on(RoomEvent.Timeline, onTimeline)
    client.on(ClientEvent.Sync, onSync)
    yield* Effect.acquireRelease(
      Effect.promise(() => client.startClient({ initialSyncLimit: 1 })),
      () =>
        Effect.sync(() => {
          client.off(RoomEvent.Timeline, onTimeline)
          client.off(ClientEvent.Sync, onSync)
          client.stopClient()
        }),
    )

    for (const room of settings.rooms ?? [])
      yield* Effect.tryPromise(() => client.joinRoom(room)).pipe(
        // A room that cannot be joined now (homeserver down, not invited) is reported, not fatal: the bot
        // still serves the rooms it is in, and the person fixes the invite.
        Effect.catchAll((e) => Effect.logWarning(`matrix: could not join ${room}: ${String(e.error)}`)),
      )

    const call = <A>(what: string, f: () => Promise<A>): Effect.Effect<A, PlatformUnavailable> =>
      Effect.tryPromise({
        try: f,
        catch: (e) => unavailable(`${what}: ${e instanceof Error ? e.message : String(e)}`),
      }).pipe(
        Effect.timeoutFail({
          duration: sendTimeout,
          onTimeout: () => unavailable(`${what}: no answer in ${sendTimeout}`),
        }),
      )

    // Sends go straight to PUT /send with the outbox id as txnId: the homeserver de-duplicates a retried
    // send, which the SDK's own pipeline refuses (it keeps each txnId as a local echo, sent or not).
    const sendRaw = (
      roomId: string,
      type: string,
      content: Record<string, unknown>,
      txnId: string | undefined,
    ) =>
      call(`send to ${roomId}`, () =>
        client.http.authedRequest<{ event_id: string }>(
          Method.Put,
          `/rooms/${encodeURIComponent(roomId)}/send/${encodeURIComponent(type)}/${encodeURIComponent(txnId ?? client.makeTxnId())}`,
          undefined,
          content,
        ),
      )

    const send = (message: Outgoing) =>
      Effect.gen(function* () {
        const buttons = message.buttons ?? []
        const counted = <A, E>(effect: Effect.Effect<A, E>) =>
          buttons.length === 0
            ? effect
            : Effect.acquireUseRelease(
                SubscriptionRef.update(sending, (n) => n + 1),
                () => effect,
                () => SubscriptionRef.update(sending, (n) => n - 1),
              )
        const keys = reactionKeys(buttons)
        const map = buttons.map((b, i) => ({ key: keys[i] ?? b.label, action: b.action }))
        // The prompt's reactions are remembered before the count drops, so a waiting reaction finds them.
        const sent = yield* counted(
          Effect.tap(
            sendRaw(
              message.place.room,
              "m.room.message",
              inThread(noticeContent(message), message.place),
              message.id,
            ),
            (sent) =>
              buttons.length === 0
                ? Effect.void
                : prompts.memorise(promptKind, sent.event_id, JSON.stringify(map)),
          ),
        )
        if (buttons.length > 0) {
          // The bot's own reactions put the choices one click away. They go out after send returns, so the
          // door records the prompt before anyone can answer it; a failure only loses that convenience.
          yield* Effect.forkIn(
            Effect.forEach(
              map,
              ({ key }) =>
                sendRaw(
                  message.place.room,
                  "m.reaction",
                  { "m.relates_to": { rel_type: "m.annotation", event_id: sent.event_id, key } },
                  message.id === undefined ? undefined : `${message.id}-${key}`,
                ).pipe(Effect.catchAll((e) => Effect.logDebug(`matrix: reaction not added: ${e.message}`))),
              { discard: true },
            ),
            scope,
          )
        }
        return { messageId: sent.event_id }
      })

    const update = (place: Place, messageId: string, message: Omit<Outgoing, "place">) =>
      Effect.gen(function* () {
        const buttons = message.buttons ?? []
        yield* prompts.memorise(
          promptKind,
          messageId,
          buttons.length === 0
            ? undefined
            : JSON.stringify(
                buttons.map((b, i) => ({ key: reactionKeys(buttons)[i] ?? b.label, action: b.action })),
              ),
        )
        const fresh = noticeContent(message)
        yield* sendRaw(
          place.room,
          "m.room.message",
          {
            ...fresh,
            body: `* ${String(fresh["body"])}`,
            "m.new_content": fresh,
            "m.relates_to": { rel_type: "m.replace", event_id: messageId },
          },
          message.id === undefined ? undefined : `${message.id}-edit`,
        )
      })

    return {
      name: "matrix",
      events: Stream.fromQueue(queue),
      send,
      update,
      threads: true,
      buttons: false,
    } satisfies ChatPlatform
  })

/** The registry's entry (src/transports/chat/adapters.ts): settings from bot.toml and the credentials. */
export const connectMatrix = (
  config: PlatformConfig,
  env: AdapterEnv,
): Effect.Effect<ChatPlatform, MissingCredential, Scope.Scope> =>
  Effect.flatMap(matrixSettings(config, env), (settings) => makeMatrixPlatform(settings, env.memory))
