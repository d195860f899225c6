// test/layers/claimsProperty.test.ts — claims across replicas, property-tested: three real Y.Docs written only
// through storeClaims' functions, random claims, heartbeats, releases and clock steps, their updates delivered
// in random order, duplicated and late. Every replica must compute the holder the rule says at every
// instant, and once everything is delivered all replicas agree and at most one node believes it holds an item.
import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import fc from "fast-check"
import * as Y from "yjs"
import type { ClaimEntry } from "../../src/domain/Claim.js"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { StoryId } from "../../src/domain/StoryId.js"
import { docMaps, type DocMaps } from "../../src/layers/docModel.js"
import {
  planClaimIn,
  planReleaseIn,
  planRenewIn,
  readClaimEntries,
  readClaims,
  readHolder,
  writeClaimEntry,
} from "../../src/layers/storeClaims.js"

const lease = 100
const nodes = [NodeId.make("node-a"), NodeId.make("node-b"), NodeId.make("node-c")] as const
const items = [StoryId.make("1_story_one"), StoryId.make("2_story_two")] as const

type Op =
  | { readonly _tag: "Claim"; readonly replica: number; readonly item: number }
  | { readonly _tag: "Renew"; readonly replica: number }
  | { readonly _tag: "Release"; readonly replica: number; readonly item: number }
  | { readonly _tag: "Advance"; readonly millis: number }
  | { readonly _tag: "Deliver"; readonly pick: number; readonly duplicate: boolean }

const replicaArb = fc.integer({ min: 0, max: 2 })
const itemArb = fc.integer({ min: 0, max: items.length - 1 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ _tag: fc.constant("Claim" as const), replica: replicaArb, item: itemArb }),
  fc.record({ _tag: fc.constant("Renew" as const), replica: replicaArb }),
  fc.record({ _tag: fc.constant("Release" as const), replica: replicaArb, item: itemArb }),
  fc.record({ _tag: fc.constant("Advance" as const), millis: fc.integer({ min: 1, max: 150 }) }),
  fc.record({
    _tag: fc.constant("Deliver" as const),
    pick: fc.nat(),
    duplicate: fc.boolean(),
  }),
  // Deliveries weigh as much as writes, so some runs converge early and others stay apart long.
  fc.record({ _tag: fc.constant("Deliver" as const), pick: fc.nat(), duplicate: fc.constant(false) }),
)

/** The rule written out independently: not released, highest epoch, then lowest node id. */
const expectedHolder = (maps: DocMaps, id: StoryId): Option.Option<readonly [string, ClaimEntry]> => {
  const entries = Either.getOrThrow(readClaimEntries(maps, id))
  const ranked = [...entries]
    .filter(([, e]) => e.released !== true)
    .sort(([na, a], [nb, b]) => b.epoch - a.epoch || (na < nb ? -1 : na > nb ? 1 : 0))
  return Option.fromNullable(ranked[0])
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  )

interface Message {
  readonly to: number
  readonly update: Uint8Array
}

const run = (ops: ReadonlyArray<Op>, finalOrder: ReadonlyArray<number>) => {
  const docs = nodes.map(() => new Y.Doc())
  const maps = docs.map(docMaps)
  let inFlight: Array<Message> = []
  // Each replica sends what it writes to the two others; what it receives it does not send on.
  docs.forEach((doc, from) =>
    doc.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin === "remote") return
      for (let to = 0; to < docs.length; to++) if (to !== from) inFlight.push({ to, update })
    }),
  )
  // The items exist everywhere before anyone claims (a node claims only what it has replicated).
  docs[0]!.transact(() => {
    for (const id of items) {
      maps[0]!.items.set(id, new Y.Map())
      maps[0]!.claims.set(id, new Y.Map())
    }
  })
  for (const message of inFlight) Y.applyUpdate(docs[message.to]!, message.update, "remote")
  inFlight = []
  let now = 1_000

  const checkEveryReplica = () => {
    for (const m of maps)
      for (const id of items) {
        const holder = Either.getOrThrow(readHolder(m, id))
        const expected = expectedHolder(m, id)
        expect(Option.map(holder, (c) => [c.node, c.epoch])).toEqual(
          Option.map(expected, ([node, e]) => [node, e.epoch]),
        )
      }
  }

  for (const op of ops) {
    switch (op._tag) {
      case "Claim": {
        const id = items[op.item]!
        const plan = planClaimIn(maps[op.replica]!, id, nodes[op.replica]!, now, lease)
        if (Either.isRight(plan))
          docs[op.replica]!.transact(() =>
            writeClaimEntry(maps[op.replica]!, id, nodes[op.replica]!, plan.right),
          )
        else expect(plan.left._tag).toBe("ClaimHeld")
        break
      }
      case "Renew": {
        // One transaction for all of this node's live claims: the heartbeat.
        docs[op.replica]!.transact(() => {
          for (const id of items) {
            const plan = Either.getOrThrow(planRenewIn(maps[op.replica]!, id, nodes[op.replica]!, now, lease))
            if (Option.isSome(plan)) writeClaimEntry(maps[op.replica]!, id, nodes[op.replica]!, plan.value)
          }
        })
        break
      }
      case "Release": {
        const id = items[op.item]!
        const plan = planReleaseIn(maps[op.replica]!, id, nodes[op.replica]!)
        if (Option.isSome(plan))
          docs[op.replica]!.transact(() =>
            writeClaimEntry(maps[op.replica]!, id, nodes[op.replica]!, plan.value),
          )
        break
      }
      case "Advance":
        now += op.millis
        break
      case "Deliver": {
        if (inFlight.length === 0) break
        const index = op.pick % inFlight.length
        const message = inFlight[index]!
        if (!op.duplicate) inFlight.splice(index, 1)
        Y.applyUpdate(docs[message.to]!, message.update, "remote")
        break
      }
    }
    checkEveryReplica()
  }

  // The network heals: everything still in flight arrives, in an order of the test's choosing.
  const rest = inFlight.map((message, i) => ({
    message,
    key: finalOrder[i % Math.max(1, finalOrder.length)]!,
  }))
  for (const { message } of rest.sort((a, b) => a.key - b.key))
    Y.applyUpdate(docs[message.to]!, message.update, "remote")
  checkEveryReplica()

  const projections = maps.map((m) => JSON.stringify(readClaims(m)))
  expect(projections[1]).toBe(projections[0])
  expect(projections[2]).toBe(projections[0])
  // The raw entries too (Y.Map keeps keys in arrival order, so they are compared sorted).
  expect(maps.map((m) => canonical(m.claims.toJSON()))).toEqual(
    maps.map(() => canonical(maps[0]!.claims.toJSON())),
  )
  // At most one node believes, from its own replica, that it holds an item live.
  for (const id of items) {
    const believers = nodes.filter((node, r) => {
      const holder = Either.getOrThrow(readHolder(maps[r]!, id))
      return Option.isSome(holder) && holder.value.node === node && holder.value.leaseUntil > now
    })
    expect(believers.length).toBeLessThanOrEqual(1)
  }
  // Each node wrote only its own entries: every key under an item is a node that exists.
  for (const id of items)
    for (const key of (maps[0]!.claims.get(id) as Y.Map<unknown>).keys())
      expect(nodes as ReadonlyArray<string>).toContain(key)
  for (const doc of docs) doc.destroy()
}

describe("claims across three replicas", () => {
  it("random operations, delivery order, duplication and delay: one holder by the rule, the same everywhere", () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 80 }), fc.array(fc.nat(), { maxLength: 200 }), run), {
      numRuns: 300,
    })
  })

  it("two nodes claiming during a partition: after healing the lower node id holds, on every replica", () => {
    run(
      [
        { _tag: "Claim", replica: 2, item: 0 },
        { _tag: "Claim", replica: 1, item: 0 },
      ],
      [],
    )
    const docs = nodes.map(() => new Y.Doc())
    const maps = docs.map(docMaps)
    docs[0]!.transact(() => maps[0]!.claims.set(items[0], new Y.Map()))
    const base = Y.encodeStateAsUpdate(docs[0]!)
    for (const doc of docs.slice(1)) Y.applyUpdate(doc, base)
    for (const r of [2, 1]) {
      const plan = Either.getOrThrow(planClaimIn(maps[r]!, items[0], nodes[r]!, 1_000, lease))
      expect(plan.epoch).toBe(1)
      docs[r]!.transact(() => writeClaimEntry(maps[r]!, items[0], nodes[r]!, plan))
    }
    const updates = docs.map((doc) => Y.encodeStateAsUpdate(doc))
    for (const doc of docs) for (const update of updates) Y.applyUpdate(doc, update)
    for (const m of maps)
      expect(Option.map(Either.getOrThrow(readHolder(m, items[0])), (c) => c.node)).toEqual(
        Option.some(nodes[1]),
      )
    // The loser's heartbeat finds it no longer holds the item.
    expect(Either.getOrThrow(planRenewIn(maps[2]!, items[0], nodes[2], 1_010, lease))).toEqual(Option.none())
    for (const doc of docs) doc.destroy()
  })
})
