// src/transports/rpc/LiveFeed.ts — the board's change sequence for /rpc: each Store event becomes a
// numbered BoardMessage (epoch = this server's run, seq = its place), the recent ones kept in a bounded
// ring so a client that reconnects gets exactly what it missed; otherwise it gets a fresh Snapshot.
import { Clock, Context, Duration, Effect, Layer, Option, PubSub, Queue, Stream } from "effect"
import { randomUUID } from "node:crypto"
import { basename } from "node:path"
import { Decisions } from "../../actors/Decisions.js"
import { ActivityView, PipelineView } from "../../actors/PipelineView.js"
import type { Decision } from "../../domain/Decision.js"
import type { StoryId } from "../../domain/StoryId.js"
import type { StoreEvent } from "../../layers/storeTypes.js"
import { withComponent } from "../../layers/Logs.js"
import { Project } from "../../layers/Project.js"
import {
  type BoardMessage,
  type Card,
  type Cursor,
  type PagedStage,
  type Snapshot,
  uiProtocolVersion,
} from "../../protocol/uiRpcs.js"
import { type CardSource, makeCardSource } from "./cardSource.js"
import { isPaged, newestFirst, pageOf } from "./cards.js"

/** How many of the newest Done and Archived cards a Snapshot carries; older ones come by Page. */
export const snapshotPageSize = 50

export interface LiveFeedOptions {
  /** Messages kept for resuming clients (default 10,000). */
  readonly ringSize?: number
  /** A subscriber this many messages behind is sent a fresh Snapshot instead (default 2,000). */
  readonly maxLag?: number
  /**
   * How long after the last subscriber left changes are still numbered for it to resume (default 60 s,
   * well past a client's reconnect backoff). With no subscriber, nor one this recent, changes are not made
   * into cards at all: a server nobody watches does no board work, and a later cursor gets a Snapshot.
   */
  readonly resumeWindow?: Duration.DurationInput
}

export interface LiveFeedShape {
  readonly epoch: string
  /** A Snapshot (or, for a cursor of this run still in the ring, what followed it), then every change. */
  readonly board: (resume?: Cursor) => Stream.Stream<BoardMessage>
  readonly page: (
    stage: PagedStage,
    before: number | undefined,
    beforeId: string | undefined,
    limit: number,
  ) => Effect.Effect<ReadonlyArray<Card>>
  readonly cards: CardSource
  /** The cursor a Snapshot taken now would carry: where the numbering of changes has got to. */
  readonly position: Effect.Effect<Cursor>
}

export class LiveFeed extends Context.Tag("huskies/rpc/LiveFeed")<LiveFeed, LiveFeedShape>() {}

interface Numbered {
  readonly seq: number
  readonly message: BoardMessage
}

type Unnumbered = BoardMessage extends infer M
  ? M extends { readonly cursor: Cursor }
    ? Omit<M, "cursor">
    : never
  : never

const make = (options: LiveFeedOptions) =>
  Effect.gen(function* () {
    const view = yield* PipelineView
    const decisions = yield* Decisions
    const merges = (yield* ActivityView).merges
    const project = yield* Project
    const source = yield* makeCardSource(view, project.root)
    const epoch = randomUUID()
    const ringSize = options.ringSize ?? 10_000
    const maxLag = options.maxLag ?? 2_000
    // One lock orders numbering against subscribing: a subscriber sees every message numbered after it.
    const lock = yield* Effect.makeSemaphore(1)
    // Sliding: a subscriber that does not read (a stalled client) holds at most maxLag messages, the
    // oldest dropped; the gap this leaves in its numbers sends it a fresh Snapshot.
    const hub = yield* PubSub.sliding<Numbered>(maxLag)
    const ring: Array<Numbered> = []
    let seq = 0
    const resumeWindow = Duration.toMillis(options.resumeWindow ?? Duration.seconds(60))
    // Subscribers now, and when the last one left (never: -Infinity). Read under the lock by onEvent.
    let watching = 0
    let lastLeftAt = Number.NEGATIVE_INFINITY

    const publish = (message: Unnumbered) => {
      seq += 1
      const numbered = { seq, message: { ...message, cursor: { epoch, seq } } as BoardMessage }
      ring.push(numbered)
      if (ring.length > ringSize) ring.splice(0, ring.length - ringSize)
      return PubSub.publish(hub, numbered)
    }

    // A message says how a thing is now, read when it is numbered: a client that got the newer state in
    // a snapshot and then this message again ends up in the same state.
    const cardMessage = (id: StoryId) =>
      Effect.map(
        source.card(id),
        Option.match({
          onNone: (): Unnumbered => ({ _tag: "CardRemoved", id }),
          onSome: (card): Unnumbered => ({ _tag: "CardChanged", card }),
        }),
      )

    // The merge running and why merges wait are the merge queue's, not the Store's: read as they are
    // when a job changes (and at a snapshot), so a step taken between job changes shows at the next.
    const mergeState = Effect.gen(function* () {
      if (Option.isNone(merges)) return {}
      const current = yield* merges.value.current
      const paused = yield* merges.value.paused
      const waiting = [...(yield* merges.value.waiting)].map(([storyId, w]) => ({ storyId, ...w }))
      return {
        ...(Option.isSome(current) ? { mergeCurrent: current.value } : {}),
        ...(Option.isSome(paused) ? { mergePaused: paused.value } : {}),
        ...(waiting.length > 0 ? { mergeWaiting: waiting } : {}),
      }
    })

    /** The merge queue as it is now, for the board. */
    const queueChanged = Effect.gen(function* () {
      const jobs = (yield* view.mergeJobs).jobs
      return { _tag: "MergeQueueChanged", jobs, ...(yield* mergeState) } satisfies Unnumbered
    })

    const currentDecision = (decision: Decision) =>
      Effect.map(decisions.list, ({ decisions }) => decisions.find((d) => d.id === decision.id) ?? decision)

    const messagesOf = (event: StoreEvent): Effect.Effect<ReadonlyArray<Unnumbered>> =>
      Effect.gen(function* () {
        switch (event._tag) {
          case "ItemCreated":
          case "ContentChanged": {
            const id = event._tag === "ItemCreated" ? event.item.id : event.id
            source.forget(id)
            return [yield* cardMessage(id)]
          }
          case "ItemChanged": {
            const own = yield* cardMessage(event.after.id)
            if (event.before.stage._tag === event.after.stage._tag) return [own]
            // A stage change can meet (or unmeet) the dependencies of others.
            return [own, ...(yield* Effect.forEach(source.dependents(event.after.id), cardMessage))]
          }
          case "TimersChanged":
          case "ClaimChanged":
            return [yield* cardMessage(event.id)]
          case "ItemDeleted": {
            source.forget(event.id)
            const others = yield* Effect.forEach(source.dependents(event.id), cardMessage)
            return [{ _tag: "CardRemoved", id: event.id }, ...others]
          }
          case "MergeJobChanged":
            return [yield* queueChanged]
          case "DecisionOpened":
          case "DecisionAnswered":
            return [{ _tag: "DecisionChanged", decision: yield* currentDecision(event.decision) }]
        }
      })

    const watched = Effect.map(
      Clock.currentTimeMillis,
      (now) => watching > 0 || now - lastLeftAt <= resumeWindow,
    )

    /**
     * Numbers and sends `messages` while someone watches (or may resume). Nobody to tell: `forget` lets the
     * caches drop what changed, and the numbering leaves a gap that no cursor can be replayed across (the
     * ring is emptied, seq moves on), so whoever comes next gets a Snapshot.
     */
    const send = (messages: Effect.Effect<ReadonlyArray<Unnumbered>>, forget: () => void = () => undefined) =>
      lock.withPermits(1)(
        Effect.if(watched, {
          onTrue: () => Effect.flatMap(messages, (ms) => Effect.forEach(ms, publish, { discard: true })),
          onFalse: () =>
            Effect.sync(() => {
              forget()
              seq += 1
              ring.length = 0
            }),
        }),
      )

    const forgetCard = (event: StoreEvent) => () => {
      if (event._tag === "ItemCreated") source.forget(event.item.id)
      else if (event._tag === "ContentChanged" || event._tag === "ItemDeleted") source.forget(event.id)
    }

    // A bug in reading one change loses that change's messages (logged), not the feed of every client.
    const onEvent = (event: StoreEvent) =>
      send(messagesOf(event), forgetCard(event)).pipe(
        Effect.catchAllDefect((defect) => Effect.logError(`board change ${event._tag} not sent`, defect)),
      )

    yield* view.changes.pipe(
      Stream.runForEach(onEvent),
      Effect.catchAllCause((cause) => Effect.logError("the board feed stopped", cause)),
      withComponent("rpc"),
      Effect.forkScoped,
    )

    // A pause or a job's wait starts without a job write: the queue's news says it, and the board is told.
    if (Option.isSome(merges))
      yield* Effect.gen(function* () {
        const news = yield* merges.value.subscribe
        for (;;)
          if ((yield* Queue.take(news))._tag === "Paused") yield* send(Effect.map(queueChanged, (m) => [m]))
      }).pipe(
        Effect.catchAllCause((cause) => Effect.logError("the board's merge news stopped", cause)),
        withComponent("rpc"),
        Effect.forkScoped,
      )

    // The first board of a large project would otherwise read every open item's markdown itself.
    yield* view.list.pipe(
      Effect.flatMap(({ items }) => source.warm(items.filter((i) => !isPaged(i)))),
      Effect.forkScoped,
    )

    const snapshot = Effect.gen(function* () {
      const { items } = yield* view.list
      const open = items.filter((i) => !isPaged(i))
      const done = items.filter((i) => i.stage._tag === "Done")
      const archived = items.filter((i) => i.stage._tag === "Archived")
      const newest = (list: typeof items) => [...list].sort(newestFirst).slice(0, snapshotPageSize)
      const cards = yield* source.cards([...open, ...newest(done), ...newest(archived)], items)
      return {
        _tag: "Snapshot",
        cursor: { epoch, seq },
        version: uiProtocolVersion,
        nodeId: view.nodeId,
        project: basename(project.root),
        cards,
        totals: { Done: done.length, Archived: archived.length },
        decisions: (yield* decisions.list).decisions,
        mergeQueue: (yield* view.mergeJobs).jobs,
        ...(yield* mergeState),
      } satisfies Snapshot
    })

    /** What followed `cursor`, if all of it is still in the ring. */
    const replayAfter = (cursor: Cursor | undefined): ReadonlyArray<BoardMessage> | undefined => {
      if (cursor === undefined || cursor.epoch !== epoch || cursor.seq > seq) return undefined
      const oldest = ring[0]?.seq ?? seq + 1
      if (cursor.seq < oldest - 1) return undefined
      return ring.filter((n) => n.seq > cursor.seq).map((n) => n.message)
    }

    // Ends only when the subscriber fell more than `maxLag` behind; its subscription goes with it.
    const segment = (resume: Cursor | undefined): Stream.Stream<BoardMessage> =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          // Subscribed under the lock, so the subscription holds exactly the messages numbered after
          // the snapshot (or the replay): nothing between the two is lost or sent twice.
          const { subscription, first, from } = yield* lock.withPermits(1)(
            Effect.gen(function* () {
              const subscription = yield* PubSub.subscribe(hub)
              watching += 1
              yield* Effect.addFinalizer(() =>
                Effect.map(Clock.currentTimeMillis, (now) => {
                  watching -= 1
                  lastLeftAt = now
                }),
              )
              const caughtUp = replayAfter(resume) ?? [yield* snapshot]
              const first: ReadonlyArray<BoardMessage> = [
                ...caughtUp,
                { _tag: "Live", cursor: { epoch, seq } },
              ]
              return { subscription, first, from: seq }
            }),
          )
          let expected = from + 1
          const live = Stream.repeatEffectOption(
            Effect.gen(function* () {
              const next = yield* Queue.take(subscription)
              if (next.seq !== expected) return yield* Effect.fail(Option.none())
              expected += 1
              return next.message
            }),
          )
          return Stream.concat(Stream.fromIterable(first), live)
        }),
      )

    // A client too slow to keep up starts over from a Snapshot rather than growing a queue here.
    const board = (resume?: Cursor): Stream.Stream<BoardMessage> =>
      Stream.concat(
        segment(resume),
        Stream.suspend(() => board(undefined)),
      )

    const page: LiveFeedShape["page"] = (stage, before, beforeId, limit) =>
      Effect.gen(function* () {
        const { items } = yield* view.list
        return yield* source.cards(pageOf(items, stage, before, beforeId, limit), items)
      })

    const position = Effect.sync((): Cursor => ({ epoch, seq }))

    return { epoch, board, page, cards: source, position } satisfies LiveFeedShape
  })

/** The feed of this server; its epoch changes at every start. */
export const LiveFeedLive = (options: LiveFeedOptions = {}) => Layer.scoped(LiveFeed, make(options))
