// src/transports/chat/door/Door.ts — the chat door for one connected platform: commands from people
// (who may do what per bot.toml), notifications from the pipeline through the durable outbox (coalesced,
// retried, threaded per item), and permission / human-QA prompts answered with buttons. Written once for
// every platform; run by serveChat under serve's tree, one door per enabled platform.
import { Duration, Effect, Queue, Schedule, Stream } from "effect"
import { createHash, randomUUID } from "node:crypto"
import { Decisions } from "../../../actors/Decisions.js"
import { Pipeline } from "../../../actors/Pipeline.js"
import { PipelineView } from "../../../actors/PipelineView.js"
import { mayRun, type PlatformConfig, roleOf } from "../../../domain/BotConfig.js"
import { looksLikeCommand } from "../../../domain/chatCommand.js"
import type { Decision, Verdict } from "../../../domain/Decision.js"
import { withComponent } from "../../../layers/Logs.js"
import { Outbox } from "../../../layers/Outbox.js"
import type { StoreEvent } from "../../../layers/storeTypes.js"
import { type CommandEnv, executeCommand } from "../../commands/runCommand.js"
import { toAssistant } from "../assistant/toAssistant.js"
import type { ButtonPressed, ChatPlatform, Incoming, Place } from "../platform.js"
import { batches, digestText, noticeOf } from "./notifications.js"

export type DoorEnv = CommandEnv | Outbox

/** Tools that only read: their permission requests are never posted (the rules should allow them). */
export const readOnlyTools: ReadonlySet<string> = new Set(["Read", "Glob", "Grep", "LS", "NotebookRead"])

const refusalText =
  "Sorry, you are not allowed to do that here: ask an admin to add you (or this room) to .huskies/bot.toml."
const readOnlyText = (verb: string) =>
  `Sorry, \`${verb}\` needs the ops role, and you have read-only access here (help, status, backlog, show, cost, queue).`

const unknownPromptText =
  "Sorry, that answers no prompt open here (it was answered already, expired, or is from before a restart): " +
  "use `approve n` or `reject n notes`, or the web UI."

const firstWord = (text: string) => (/\S+/.exec(text)?.[0] ?? "").toLowerCase()

const promptText = (decision: Decision): string =>
  decision._tag === "Permission"
    ? `Permission asked${decision.agent === undefined ? "" : ` by ${decision.agent}`}${decision.storyId === undefined ? "" : ` on ${decision.storyId}`}: ${decision.toolName} ${JSON.stringify(decision.input).slice(0, 500)}`
    : `${decision.storyId} waits for a person's QA.`

const outcomeText = (decision: Decision): string => {
  const answer = decision.answer
  if (answer === undefined) return promptText(decision)
  return `${promptText(decision)}\n→ ${answer.verdict} by ${answer.by}${answer.note === undefined ? "" : ` (${answer.note})`}`
}

const buttonsFor = (decision: Decision) =>
  decision._tag === "Permission"
    ? [
        { action: `decision:${decision.id}:allow`, label: "Approve", style: "primary" as const },
        { action: `decision:${decision.id}:deny`, label: "Deny", style: "danger" as const },
      ]
    : [
        { action: `decision:${decision.id}:approve`, label: "Approve", style: "primary" as const },
        { action: `decision:${decision.id}:reject`, label: "Reject", style: "danger" as const },
      ]

/**
 * A message's id for the adapter's de-duplication: the same entries give the same id, so a retry of a send
 * that did arrive is dropped by the platform; a retry that carries more entries (more came meanwhile) is a
 * different message and is posted, so none of them is lost behind the first one's id.
 */
const batchId = (ids: ReadonlyArray<string>) =>
  `n-${createHash("sha256").update(ids.join("\n")).digest("hex").slice(0, 32)}`

// The verdict group admits only the four Verdict literals, so the match is a Verdict as it stands.
const pressedAction = /^decision:(dec-[A-Za-z0-9-]+):(allow|deny|approve|reject)$/

export interface DoorOptions {
  /** The backoff of a send that failed (default 1 s, doubling up to 1 min). */
  readonly retry?: Duration.DurationInput
  /** The config in force now, read at each use (bot.toml is reloaded while serve runs); default: `config`. */
  readonly current?: Effect.Effect<PlatformConfig>
}

/** Runs the door for `platform` until interrupted; a failure of the platform only delays its messages. */
export const runDoor = (platform: ChatPlatform, config: PlatformConfig, options: DoorOptions = {}) =>
  Effect.gen(function* () {
    const outbox = yield* Outbox
    const view = yield* PipelineView
    const pipeline = yield* Pipeline
    const decisions = yield* Decisions
    const name = platform.name
    const current = options.current ?? Effect.succeed(config)
    const retry = Schedule.exponential(options.retry ?? Duration.seconds(1)).pipe(
      Schedule.either(Schedule.spaced(Duration.minutes(1))),
    )
    const reply = (place: Place, text: string) =>
      platform.send({ place, text }).pipe(
        Effect.retry({ schedule: retry, times: 5 }),
        // A reply that cannot be delivered after retries is lost: the person sees no answer and may ask again.
        Effect.catchAll((e) => Effect.logWarning(`reply not delivered: ${e.message}`)),
      )

    const onMessage = (message: Incoming) =>
      Effect.gen(function* () {
        if (!looksLikeCommand(message.text)) return yield* toAssistant(platform, yield* current, message)
        const role = roleOf(yield* current, message.place.room, message.user)
        if (role === undefined) return yield* reply(message.place, refusalText)
        const verb = firstWord(message.text)
        if (!mayRun(role, verb)) return yield* reply(message.place, readOnlyText(verb))
        const answer = yield* executeCommand(message.text, message.userName)
        yield* reply(message.place, answer.text)
      })

    const onPress = (press: ButtonPressed) =>
      Effect.gen(function* () {
        const parsed = pressedAction.exec(press.action)
        const role = roleOf(yield* current, press.place.room, press.user)
        if (role === undefined) return yield* reply(press.place, refusalText)
        // A reaction or button of a prompt this door does not know (adapters pass those on as unparsable).
        if (parsed === null) return yield* reply(press.place, unknownPromptText)
        const [, id = "", verdict = ""] = parsed
        if (role !== "ops") return yield* reply(press.place, refusalText)
        // Through the command layer: a human QA's answer also moves its item (approved to Merge, rejected
        // back to Coding), as the `approve`/`reject` commands do.
        yield* pipeline.answerDecision(id, verdict as Verdict, press.userName).pipe(
          Effect.asVoid,
          Effect.catchTag("DecisionAlreadyAnswered", (e) =>
            reply(press.place, `Already answered by ${e.by} (${e.verdict}).`),
          ),
          Effect.catchAll((e) => reply(press.place, e.message)),
        )
      })

    // Wakes the deliverer: a notification was kept, or a failed send is due again.
    const wake = yield* Queue.sliding<void>(1)

    const notify = (event: StoreEvent) =>
      Effect.gen(function* () {
        const notice = noticeOf(event)
        if (notice === undefined) return
        const at = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const id = randomUUID()
        const entries = (yield* current).room
          .filter((room) => room.notify.includes(notice.kind))
          .map((room) => ({ id: `${id}:${room.id}`, platform: name, room: room.id, ...notice, at }))
        if (entries.length === 0) return
        yield* outbox.enqueue(entries)
        yield* Queue.offer(wake, undefined)
      })

    // One prompt at a time, and its answer's edit after it: the decision's event and the start's sweep of
    // pending ones may meet, and an answer that arrives while the prompt is being sent (a press faster than
    // the platform's reply) waits for the send to return, so the edit finds the message.
    const prompting = yield* Effect.makeSemaphore(1)
    const prompt = (decision: Decision) =>
      Effect.gen(function* () {
        if (decision._tag === "Permission" && readOnlyTools.has(decision.toolName)) return
        const room = (yield* current).ops_room
        if (room === undefined) return
        // Answered before its turn came: nothing to ask any more.
        if (!(yield* decisions.pending).some((d) => d.id === decision.id)) return
        // Recorded before it is sent: a restart during the send sends it again (under the same id, which the
        // platforms that can de-duplicate use), and a record that has its message is never sent twice.
        const fresh = yield* outbox.recordPrompt(name, decision.id, room)
        if (!fresh && (yield* outbox.prompt(name, decision.id))?.messageId !== undefined) return
        const sent = yield* platform
          .send({
            place: { room },
            text: promptText(decision),
            buttons: buttonsFor(decision),
            id: decision.id,
          })
          .pipe(Effect.retry(retry))
        yield* outbox.setPrompt(name, decision.id, { room, messageId: sent.messageId })
      }).pipe(prompting.withPermits(1))

    const answered = (decision: Decision) =>
      Effect.gen(function* () {
        const message = yield* outbox.prompt(name, decision.id)
        if (message?.messageId === undefined) return
        yield* platform
          .update({ room: message.room }, message.messageId, { text: outcomeText(decision) })
          .pipe(Effect.retry(retry))
      }).pipe(prompting.withPermits(1))

    const follow = (event: StoreEvent) =>
      (event._tag === "DecisionOpened"
        ? Effect.forkScoped(prompt(event.decision))
        : event._tag === "DecisionAnswered"
          ? Effect.forkScoped(answered(event.decision))
          : notify(event)
      ).pipe(
        Effect.asVoid,
        // A notification that cannot be kept (the outbox's disk) is lost; the pipeline goes on regardless.
        Effect.catchAll((e) => Effect.logWarning(`chat notification not kept: ${e.message}`)),
      )

    const deliverOnce = Effect.gen(function* () {
      const pending = yield* outbox.pending(name)
      for (const batch of batches(pending)) {
        const root =
          platform.threads && batch.item !== undefined
            ? yield* outbox.threadRoot(name, batch.room, batch.item)
            : undefined
        const place: Place = root === undefined ? { room: batch.room } : { room: batch.room, thread: root }
        const sent = yield* platform.send({ place, text: batch.text, id: batchId(batch.ids) })
        if (root === undefined && platform.threads && batch.item !== undefined)
          yield* outbox.setThreadRoot(name, batch.room, batch.item, sent.messageId)
        yield* outbox.ack(batch.ids)
      }
    })

    const deliver = Effect.gen(function* () {
      yield* Queue.take(wake)
      // Everything that arrives within the window goes out together.
      yield* Effect.sleep(Duration.millis((yield* current).coalesce_ms))
      yield* deliverOnce.pipe(
        Effect.retry(retry),
        // Only the outbox's own disk gets here; the entries stay pending for the next wake.
        Effect.catchAll((e) => Effect.logWarning(`chat notifications not delivered: ${e.message}`)),
      )
    }).pipe(Effect.forever)

    // The daily digest, kept in the outbox under the day's id, so a restart on the hour sends it once.
    const digest = Effect.gen(function* () {
      const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
      const text = digestText((yield* view.list).items, now)
      const rooms = (yield* current).room.filter((room) => room.notify.includes("digest"))
      if (text === undefined || rooms.length === 0) return
      const dayId = new Date(now).toISOString().slice(0, 10)
      yield* outbox.enqueue(
        rooms.map((room) => ({
          id: `digest-${dayId}:${room.id}`,
          platform: name,
          room: room.id,
          kind: "digest",
          text,
          at: now,
        })),
      )
      yield* Queue.offer(wake, undefined)
    }).pipe(Effect.catchAll((e) => Effect.logWarning(`chat digest not kept: ${e.message}`)))
    yield* Effect.forkScoped(Effect.schedule(digest, Schedule.cron(`0 ${config.digest_hour} * * *`, "UTC")))

    // Whatever waited from before a restart goes out first.
    yield* Queue.offer(wake, undefined)
    yield* Effect.forkScoped(deliver)
    yield* Effect.forkScoped(view.changes.pipe(Stream.runForEach(follow)))
    // Decisions opened while this door was not running (a restart, an outage of the platform) are posted too.
    yield* Effect.forkScoped(
      Effect.flatMap(decisions.pending, (open) => Effect.forEach(open, prompt, { discard: true })).pipe(
        Effect.catchAll((e) => Effect.logWarning(`pending decisions not posted: ${e.message}`)),
      ),
    )
    yield* platform.events.pipe(
      Stream.runForEach((event) =>
        (event._tag === "Message" ? onMessage(event.message) : onPress(event.press)).pipe(
          Effect.catchAllCause((cause) => Effect.logError("chat event not handled", cause)),
        ),
      ),
    )
  }).pipe(Effect.scoped, withComponent(`chat:${platform.name}`))
