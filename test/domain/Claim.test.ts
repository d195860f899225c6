// test/domain/Claim.test.ts — the claim rule every replica computes: the holder among the entries of an item
// (highest epoch, then lowest node id, released entries out) and the entry a node writes to claim or renew.
import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { type ClaimEntry, holderOf, isLive, planClaim } from "../../src/domain/Claim.js"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { StoryId } from "../../src/domain/StoryId.js"

const id = StoryId.make("1_story_login")
const a = NodeId.make("node-a")
const b = NodeId.make("node-b")
const c = NodeId.make("node-c")
const entry = (epoch: number, leaseUntil: number, extra: Partial<ClaimEntry> = {}): ClaimEntry => ({
  epoch,
  leaseUntil,
  claimedAt: leaseUntil - 30_000,
  ...extra,
})
const holder = (entries: ReadonlyArray<[NodeId, ClaimEntry]>) =>
  Option.map(holderOf(id, new Map(entries)), (claim) => [claim.node, claim.epoch] as const)

describe("holderOf", () => {
  it("no entries, or only released ones: nobody holds the item", () => {
    expect(holder([])).toEqual(Option.none())
    expect(holder([[a, entry(3, 100_000, { released: true })]])).toEqual(Option.none())
  })

  it("the highest epoch wins, whoever's node id is lower", () => {
    expect(
      holder([
        [a, entry(1, 900_000)],
        [c, entry(2, 100_000)],
      ]),
    ).toEqual(Option.some([c, 2]))
  })

  it("at equal epochs (claimed during a partition) the lowest node id wins, in any insertion order", () => {
    const entries: Array<[NodeId, ClaimEntry]> = [
      [c, entry(4, 200_000)],
      [a, entry(4, 100_000)],
      [b, entry(4, 300_000)],
    ]
    expect(holder(entries)).toEqual(Option.some([a, 4]))
    expect(holder([...entries].reverse())).toEqual(Option.some([a, 4]))
  })

  it("a released entry never holds, even at the highest epoch: the next one down does", () => {
    expect(
      holder([
        [a, entry(5, 900_000, { released: true })],
        [b, entry(4, 100_000)],
      ]),
    ).toEqual(Option.some([b, 4]))
  })

  it("expiry is not the holder rule's business: an expired holder is still the holder, not live", () => {
    const found = holderOf(id, new Map([[a, entry(1, 1_000)]]))
    expect(Option.map(found, (claim) => claim.node)).toEqual(Option.some(a))
    expect(Option.map(found, (claim) => isLive(claim, 999))).toEqual(Option.some(true))
    expect(Option.map(found, (claim) => isLive(claim, 1_000))).toEqual(Option.some(false))
  })
})

describe("planClaim", () => {
  const plan = (entries: ReadonlyArray<[NodeId, ClaimEntry]>, node: NodeId, now: number) =>
    planClaim(id, new Map(entries), node, now, 30_000)

  it("a free item is claimed at epoch 1 with the lease from now", () => {
    expect(plan([], a, 5_000)).toEqual(Either.right({ epoch: 1, leaseUntil: 35_000, claimedAt: 5_000 }))
  })

  it("the live holder renewing keeps its epoch and when it claimed", () => {
    expect(plan([[a, entry(2, 40_000, { claimedAt: 1_000 })]], a, 20_000)).toEqual(
      Either.right({ epoch: 2, leaseUntil: 50_000, claimedAt: 1_000 }),
    )
  })

  it("another live holder refuses the claim with who holds it and until when", () => {
    const refused = plan([[b, entry(2, 40_000)]], a, 20_000)
    expect(Either.isLeft(refused)).toBe(true)
    if (Either.isLeft(refused)) {
      expect(refused.left).toMatchObject({ _tag: "ClaimHeld", storyId: id, holder: b, leaseUntil: 40_000 })
      expect(refused.left.message).toContain(`being worked on by node ${b}`)
    }
  })

  it("a holder silent past its lease loses the item: the next claim takes epoch + 1", () => {
    expect(plan([[b, entry(2, 40_000)]], a, 40_000)).toEqual(
      Either.right({ epoch: 3, leaseUntil: 70_000, claimedAt: 40_000 }),
    )
  })

  it("a node whose own claim expired claims afresh at the next epoch (it does not resume silently)", () => {
    expect(plan([[a, entry(2, 40_000)]], a, 41_000)).toEqual(
      Either.right({ epoch: 3, leaseUntil: 71_000, claimedAt: 41_000 }),
    )
  })

  it("after a release the next epoch is above every entry's, released ones included", () => {
    expect(
      plan(
        [
          [a, entry(7, 900_000, { released: true })],
          [b, entry(3, 10_000)],
        ],
        c,
        20_000,
      ),
    ).toEqual(Either.right({ epoch: 8, leaseUntil: 50_000, claimedAt: 20_000 }))
  })

  it("the loser of a partition cannot renew: the winner's entry is the live holder", () => {
    const entries: Array<[NodeId, ClaimEntry]> = [
      [a, entry(3, 60_000)],
      [b, entry(3, 60_000)],
    ]
    expect(Either.isRight(plan(entries, a, 50_000))).toBe(true)
    expect(Either.getLeft(plan(entries, b, 50_000)).pipe(Option.map((e) => e.holder))).toEqual(Option.some(a))
  })
})
