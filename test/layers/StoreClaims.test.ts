// test/layers/StoreClaims.test.ts — claims in the Store: claim, heartbeat renewal, release and expiry by the
// Clock, ClaimChanged on the bus, another node's entry (written into the log as a peer would) respected,
// bad entries shown as ProjectionErrors, durable across a restart and deleted with the item.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option, Queue, TestClock } from "effect"
import { join } from "node:path"
import * as Y from "yjs"
import type { ClaimEntry } from "../../src/domain/Claim.js"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { docMaps, type DocMaps } from "../../src/layers/docModel.js"
import { Persistence } from "../../src/layers/Persistence.js"
import { Store, type StoreEvent } from "../../src/layers/Store.js"
import { writeClaimEntry } from "../../src/layers/storeClaims.js"
import { exchange, openStore, story, withFreshStore, withStore } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"

const lease = 30_000

/** Writes into the store's log what a peer replica that has seen everything on disk would write. */
const asPeer = (mutate: (maps: DocMaps) => void) =>
  Effect.gen(function* () {
    const persistence = yield* Persistence
    const stored = yield* persistence.load
    const doc = new Y.Doc()
    if (stored.snapshot !== undefined) Y.applyUpdate(doc, stored.snapshot)
    for (const update of stored.tail) Y.applyUpdate(doc, update)
    const seen = Y.encodeStateVector(doc)
    mutate(docMaps(doc))
    yield* persistence.append(Y.encodeStateAsUpdate(doc, seen))
    doc.destroy()
  })

const claimEvents = (queue: Queue.Dequeue<StoreEvent>) =>
  Effect.map(Queue.takeAll(queue), (events) =>
    [...events].filter((e) => e._tag === "ClaimChanged").map((e) => (e as { id: string }).id),
  )

const peer = NodeId.make("node-peer")

describe("Store claims", () => {
  it.scoped("two Stores claim one item while apart; after exchanging updates both agree on one holder", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const [a, b] = yield* Effect.all(["a.db", "b.db"].map((name) => openStore(join(dir, name))))
      if (a === undefined || b === undefined) return expect.unreachable()
      const item = yield* a.create(story("Contested"))
      yield* exchange(a, b)
      // Apart: each sees the item free and claims it at epoch 1.
      yield* TestClock.adjust(1_000)
      const claimedByA = yield* a.claim(item.id, lease)
      const claimedByB = yield* b.claim(item.id, lease)
      expect([claimedByA.epoch, claimedByB.epoch]).toEqual([1, 1])
      const events = yield* b.subscribe
      yield* exchange(a, b)
      yield* exchange(b, a)
      // A peer's claim is published where it arrives, like a local one.
      expect(yield* claimEvents(events)).toEqual([item.id])
      const winner = [a.nodeId, b.nodeId].sort()[0]
      const holderA = Option.getOrThrow(yield* a.holder(item.id))
      expect(yield* b.holder(item.id)).toEqual(Option.some(holderA))
      expect([holderA.node, holderA.epoch]).toEqual([winner, 1])
      expect(yield* a.claims).toEqual(yield* b.claims)
      // The loser's heartbeat finds it lost the item; the winner's goes on.
      const [winning, losing] = winner === a.nodeId ? [a, b] : [b, a]
      expect((yield* losing.renew([item.id], lease)).lost).toEqual([item.id])
      expect((yield* winning.renew([item.id], lease)).renewed).toHaveLength(1)
      expect((yield* Effect.flip(losing.claim(item.id, lease)))._tag).toBe("ClaimHeld")
      // The winner goes silent: once its lease runs out the other takes the item at the next epoch.
      yield* exchange(winning, losing)
      yield* TestClock.adjust(lease + 1)
      const taken = yield* losing.claim(item.id, lease)
      expect([taken.node, taken.epoch]).toEqual([losing.nodeId, 2])
      yield* exchange(losing, winning)
      expect(Option.map(yield* winning.holder(item.id), (c) => c.node)).toEqual(Option.some(losing.nodeId))
      expect((yield* winning.renew([item.id], lease)).lost).toEqual([item.id])
    }),
  )

  it.scoped("claim, renew and release by the Clock; ClaimChanged for claims and releases, durable", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      const { id, node } = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const events = yield* store.subscribe
          const item = yield* store.create(story("Login"))
          yield* TestClock.adjust(1_000)
          const claimed = yield* store.claim(item.id, lease)
          expect(claimed).toEqual({
            storyId: item.id,
            node: store.nodeId,
            epoch: 1,
            leaseUntil: 31_000,
            claimedAt: 1_000,
          })
          expect(yield* claimEvents(events)).toEqual([item.id])
          // The heartbeat: the lease moves on, the epoch and claimedAt stay, nothing is published.
          yield* TestClock.adjust(10_000)
          const renewal = yield* store.renew([item.id], lease)
          expect(renewal.renewed).toEqual([{ ...claimed, leaseUntil: 41_000 }])
          expect(renewal.lost).toEqual([])
          expect(yield* claimEvents(events)).toEqual([])
          expect(yield* store.holder(item.id)).toEqual(Option.some({ ...claimed, leaseUntil: 41_000 }))
          return { id: item.id, node: store.nodeId }
        }),
      )
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          expect(store.nodeId).toBe(node)
          const events = yield* store.subscribe
          expect((yield* store.claims).claims.map((c) => [c.storyId, c.epoch, c.leaseUntil])).toEqual([
            [id, 1, 41_000],
          ])
          expect(yield* store.release(id)).toBe(true)
          expect(yield* store.release(id)).toBe(false)
          expect(yield* claimEvents(events)).toEqual([id])
          expect(yield* store.holder(id)).toEqual(Option.none())
          // A released item is claimed afresh at the next epoch.
          yield* TestClock.adjust(50_000)
          expect((yield* store.claim(id, lease)).epoch).toBe(2)
        }),
      )
    }),
  )

  it.scoped("the heartbeat renews only what this node holds live; the rest is reported lost", () =>
    withFreshStore(
      Effect.gen(function* () {
        const store = yield* Store
        const held = yield* store.create(story("Held"))
        const expired = yield* store.create(story("Expired"))
        const never = yield* store.create(story("Never claimed"))
        yield* store.claim(expired.id, 5_000)
        yield* store.claim(held.id, lease)
        yield* TestClock.adjust(6_000)
        const renewal = yield* store.renew([held.id, expired.id, never.id, held.id], lease)
        expect(renewal.renewed.map((c) => [c.storyId, c.leaseUntil])).toEqual([[held.id, 36_000]])
        expect(renewal.lost).toEqual([expired.id, never.id])
        // The expired one is not resumed by a heartbeat: it must be claimed again, at the next epoch.
        expect((yield* store.claim(expired.id, lease)).epoch).toBe(2)
      }),
    ),
  )

  it.scoped("another node's live claim refuses ours; once its lease runs out ours takes epoch + 1", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      const id = yield* withStore(
        db,
        Effect.gen(function* () {
          const item = yield* (yield* Store).create(story("Contested"))
          yield* asPeer((maps) =>
            writeClaimEntry(maps, item.id, peer, { epoch: 4, leaseUntil: 20_000, claimedAt: 0 }),
          )
          return item.id
        }),
      )
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          yield* TestClock.adjust(10_000)
          const refused = yield* Effect.flip(store.claim(id, lease))
          expect(refused).toMatchObject({ _tag: "ClaimHeld", holder: peer, leaseUntil: 20_000 })
          expect((yield* store.renew([id], lease)).lost).toEqual([id])
          yield* TestClock.adjust(10_000)
          const taken = yield* store.claim(id, lease)
          expect([taken.node, taken.epoch]).toEqual([store.nodeId, 5])
          // Our write left the peer's entry as it was: each node writes only its own.
          const dump = yield* store.dump(id)
          expect((dump["claim"] as Record<string, ClaimEntry>)[peer]).toEqual({
            epoch: 4,
            leaseUntil: 20_000,
            claimedAt: 0,
          })
        }),
      )
    }),
  )

  it.scoped("an entry that does not decode is a ProjectionError: shown, not claimable, not a crash", () =>
    Effect.gen(function* () {
      const db = join(yield* scopedTempDir, "huskies.db")
      const ids = yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const bad = yield* store.create(story("Bad"))
          const good = yield* store.create(story("Good"))
          yield* store.claim(bad.id, lease)
          yield* store.claim(good.id, lease)
          yield* asPeer((maps) => (maps.claims.get(bad.id) as Y.Map<unknown>).set(peer, { epoch: 0 }))
          return { bad: bad.id, good: good.id }
        }),
      )
      yield* withStore(
        db,
        Effect.gen(function* () {
          const store = yield* Store
          const { claims, errors } = yield* store.claims
          expect(claims.map((c) => c.storyId)).toEqual([ids.good])
          expect(errors.map((e) => e.path)).toEqual([`claims/${ids.bad}/${peer}`])
          expect((yield* Effect.flip(store.holder(ids.bad)))._tag).toBe("ProjectionError")
          // Asked together, each item answers as it does alone.
          const together = yield* store.holders([ids.bad, ids.good])
          expect(Either.isLeft(together.get(ids.bad) ?? Either.right(Option.none()))).toBe(true)
          expect(together.get(ids.good)).toEqual(Either.right(yield* store.holder(ids.good)))
          expect((yield* Effect.flip(store.claim(ids.bad, lease)))._tag).toBe("ProjectionError")
          expect((yield* store.renew([ids.bad, ids.good], lease)).errors.map((e) => e.path)).toEqual([
            `claims/${ids.bad}/${peer}`,
          ])
          // A node can always give back its own entry.
          expect(yield* store.release(ids.bad)).toBe(true)
        }),
      )
    }),
  )

  it.scoped("a deleted item takes its claims with it; a missing item cannot be claimed", () =>
    withFreshStore(
      Effect.gen(function* () {
        const store = yield* Store
        const claimed = yield* store.create(story("Claimed"))
        const unclaimed = yield* store.create(story("Unclaimed"))
        yield* store.claim(claimed.id, lease)
        expect((yield* store.delete(claimed.id)).claim).toBe(true)
        expect((yield* store.delete(unclaimed.id)).claim).toBe(false)
        expect((yield* store.claims).claims).toEqual([])
        expect((yield* Effect.flip(store.claim(claimed.id, lease)))._tag).toBe("ItemNotFound")
        expect(yield* store.release(claimed.id)).toBe(false)
      }),
    ),
  )
})
