// test/transports/rpc/liveFeed.test.ts — the board feed's bounds, on a real server's Store and command layer: a
// subscriber too far behind, a cursor older than the ring and one from before changes nobody watched (which
// build no cards) each get a fresh Snapshot instead of a growing queue or a replay with a hole in it.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Effect, Either, Exit, Layer, Option, Queue, Schedule, Scope, Stream } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { Pipeline } from "../../../src/actors/Pipeline.js"
import { newStoryDoc } from "../../../src/domain/StoryDoc.js"
import { StoryId } from "../../../src/domain/StoryId.js"
import { LogsLive } from "../../../src/layers/Logs.js"
import { appendUsage } from "../../../src/layers/Usage.js"
import type { BoardMessage, Cursor } from "../../../src/protocol/uiRpcs.js"
import { serverLayer } from "../../../src/transports/cli/serve.js"
import {
  LiveFeed,
  LiveFeedLive,
  type LiveFeedOptions,
  type LiveFeedShape,
} from "../../../src/transports/rpc/LiveFeed.js"
import { scopedTempDir } from "../../support/tempDir.js"
import { usageRecord } from "../../support/usage.js"

/** A running server's context and a feed of its own with small bounds (watched by a follower, or not). */
const feedOnServer = (options: LiveFeedOptions, follow = true) =>
  Effect.gen(function* () {
    const dir = yield* scopedTempDir
    mkdirSync(join(dir, ".huskies"), { recursive: true })
    const server = yield* Layer.build(
      serverLayer(dir, {
        port: 0,
        host: "127.0.0.1",
        durability: "normal",
        autoAssign: false,
        mergeQueue: false,
      }).pipe(Layer.provide(LogsLive({ write: () => undefined }))),
    )
    const feed = Context.get(
      yield* Layer.build(LiveFeedLive(options).pipe(Layer.provide(Layer.succeedContext(server)))),
      LiveFeed,
    )
    const pipeline = Context.get(server, Pipeline)
    const create = (name: string) =>
      Effect.flatMap(Either.getOrThrow(Either.map(newStoryDoc({ name }), Effect.succeed)), (doc) =>
        Effect.map(Effect.orDie(pipeline.create("story", doc)), (c) => c.item.id),
      )
    /** Follows the feed as a client that keeps up, to know when a change has been numbered. */
    const follower = Effect.gen(function* () {
      const queue = yield* Queue.unbounded<BoardMessage>()
      yield* feed.board().pipe(
        Stream.runForEach((m) => Queue.offer(queue, m)),
        Effect.forkScoped,
      )
      return (id: string) =>
        Effect.gen(function* () {
          for (;;) {
            const m = yield* Queue.take(queue).pipe(Effect.timeout("5 seconds"), Effect.orDie)
            if (m._tag === "CardChanged" && m.card.id === id) return m.cursor
            // Behind by more than maxLag itself, it starts over from a Snapshot, which has the card too.
            if (m._tag === "Snapshot" && m.cards.some((c) => c.id === id)) return m.cursor
          }
        })
    })
    const rename = (id: string, name: string) =>
      Effect.orDie(
        pipeline.edit(StoryId.make(id), (doc) =>
          Either.right({ ...doc, frontMatter: { ...doc.frontMatter, name } }),
        ),
      )
    return {
      feed,
      create,
      rename,
      root: dir,
      follower: follow ? yield* follower : () => Effect.die("not followed"),
    }
  })

/** Waits until the feed has numbered (or skipped over) `count` more changes than at `from`. */
const numbered = (feed: LiveFeedShape, from: Cursor, count: number) =>
  feed.position.pipe(
    Effect.repeat({ until: (now) => now.seq >= from.seq + count, schedule: Schedule.spaced("5 millis") }),
    Effect.timeout("5 seconds"),
    Effect.orDie,
  )

const pullAll = (pull: Effect.Effect<Chunk.Chunk<BoardMessage>, Option.Option<never>>) =>
  Effect.map(pull.pipe(Effect.timeout("5 seconds"), Effect.orDie), Chunk.toReadonlyArray)

describe("the board feed's bounds", () => {
  it.scopedLive("a subscriber more than maxLag behind starts over from a Snapshot", () =>
    Effect.gen(function* () {
      const { feed, create, follower } = yield* feedOnServer({ maxLag: 5 })
      const pull = yield* Stream.toPull(feed.board())
      expect((yield* pullAll(pull)).map((m) => m._tag)).toEqual(["Snapshot", "Live"])
      // It does not read while ten changes are numbered: twice what it may fall behind.
      const ids: Array<string> = []
      for (let i = 0; i < 10; i++) ids.push(yield* create(`Item ${i}`))
      yield* follower(ids.at(-1) ?? "")
      const resumed: Array<BoardMessage> = []
      while (resumed.at(-1)?._tag !== "Live") resumed.push(...(yield* pullAll(pull)))
      expect(resumed.map((m) => m._tag)).toEqual(["Snapshot", "Live"])
      const snapshot = resumed[0]
      expect(snapshot?._tag === "Snapshot" && snapshot.cards.map((c) => c.id)).toEqual(ids)
    }),
  )

  it.scopedLive("with nobody watching, changes are skipped: a cursor from before them gets a Snapshot", () =>
    Effect.gen(function* () {
      const { feed, create, rename } = yield* feedOnServer({ resumeWindow: 0 }, false)
      const start = yield* feed.position
      const first = yield* create("First")
      yield* numbered(feed, start, 1)
      // A board opened and closed again: it has read First's markdown into the card cache.
      const scope = yield* Scope.make()
      const pull = yield* Stream.toPull(feed.board()).pipe(Scope.extend(scope))
      const opened = yield* pullAll(pull)
      expect(opened.map((m) => m._tag)).toEqual(["Snapshot", "Live"])
      const seen = opened[0]?.cursor ?? start
      yield* Scope.close(scope, Exit.void)
      // Nobody watches now: a new item and a rename are numbered over, not made into cards.
      const later = yield* create("Later")
      yield* rename(first, "First, renamed")
      yield* numbered(feed, seen, 2)
      const resumed = yield* feed.board(seen).pipe(Stream.take(1), Stream.runCollect)
      const snapshot = Chunk.toReadonlyArray(resumed)[0]
      expect(snapshot?._tag).toBe("Snapshot")
      // The cache forgot the renamed markdown though no card was built when it changed.
      expect(snapshot?._tag === "Snapshot" && snapshot.cards.map((c) => [c.id, c.name])).toEqual([
        [first, "First, renamed"],
        [later, "Later"],
      ])
    }),
  )

  it.scopedLive("a card's cost sums the ledger's lines for its item as they are appended", () =>
    Effect.gen(function* () {
      const { feed, create, root } = yield* feedOnServer({}, false)
      const id = yield* create("Costly")
      const cost = Effect.map(feed.cards.card(StoryId.make(id)), (card) => Option.getOrThrow(card).costUsd)
      expect(yield* cost).toBe(0)
      yield* appendUsage(root, usageRecord({ storyId: id, costUsd: 0.25 }))
      yield* appendUsage(root, usageRecord({ storyId: "99_story_other", costUsd: 5 }))
      expect(yield* cost).toBe(0.25)
      yield* appendUsage(root, usageRecord({ storyId: id, costUsd: 0.5, session: 2 }))
      expect(yield* cost).toBe(0.75)
    }),
  )

  it.scopedLive("a cursor older than the ring gets a Snapshot; one still in it gets the replay", () =>
    Effect.gen(function* () {
      const { feed, create, follower } = yield* feedOnServer({ ringSize: 20 })
      const first = yield* follower(yield* create("First"))
      // 25 changes: more than the 20 the ring keeps.
      let last: Cursor = first
      for (let i = 0; i < 25; i++) last = yield* follower(yield* create(`Later ${i}`))
      const fromOld = yield* feed.board(first).pipe(Stream.take(1), Stream.runCollect)
      expect(Chunk.toReadonlyArray(fromOld).map((m) => m._tag)).toEqual(["Snapshot"])
      const recent: Cursor = { epoch: last.epoch, seq: last.seq - 3 }
      const replay = yield* feed.board(recent).pipe(Stream.take(4), Stream.runCollect)
      expect(Chunk.toReadonlyArray(replay).map((m) => [m._tag, m.cursor.seq])).toEqual([
        ["CardChanged", last.seq - 2],
        ["CardChanged", last.seq - 1],
        ["CardChanged", last.seq],
        ["Live", last.seq],
      ])
    }),
  )
})
