// src/domain/Claim.ts — which node works on an item. Each node writes only its own entry under the item
// (claims/<id>/<node>) and the holder is a pure function of the entries, so replicas that have seen the
// same entries agree, whatever order they arrived in. Used by the Store's claims and the schedulers.
import { Either, Option, Schema } from "effect"
import { NodeId } from "./ExecutionState.js"
import { StoryId } from "./StoryId.js"

const Millis = Schema.Int.pipe(Schema.nonNegative())

/** One node's entry for one item. `epoch` grows by one each time the item changes hands. */
export const ClaimEntry = Schema.Struct({
  epoch: Schema.Int.pipe(Schema.positive()),
  /** The node holds the item until then unless it renews (heartbeats move it forward). */
  leaseUntil: Millis,
  claimedAt: Millis,
  /** Given back (stopped, SIGTERM, finished its stage): never the holder again at this epoch. */
  released: Schema.optional(Schema.Boolean),
})
export type ClaimEntry = typeof ClaimEntry.Type

/** The holder of an item, as every replica computes it. */
export const Claim = Schema.Struct({
  storyId: StoryId,
  node: NodeId,
  epoch: Schema.Int.pipe(Schema.positive()),
  leaseUntil: Millis,
  claimedAt: Millis,
})
export type Claim = typeof Claim.Type

/**
 * The holder among `entries`: the highest epoch among entries not released, and at equal epochs (two
 * nodes claimed during a partition) the lowest node id. Expiry is not considered here: see `isLive`.
 */
export const holderOf = (
  storyId: StoryId,
  entries: ReadonlyMap<NodeId, ClaimEntry>,
): Option.Option<Claim> => {
  let best: Claim | undefined
  for (const [node, entry] of entries) {
    if (entry.released === true) continue
    if (best === undefined || entry.epoch > best.epoch || (entry.epoch === best.epoch && node < best.node)) {
      best = { storyId, node, epoch: entry.epoch, leaseUntil: entry.leaseUntil, claimedAt: entry.claimedAt }
    }
  }
  return Option.fromNullable(best)
}

/** A claim counts until its lease runs out. */
export const isLive = (claim: Claim, now: number): boolean => claim.leaseUntil > now

/** Another node holds the item and its lease still runs. */
export class ClaimHeld extends Schema.TaggedError<ClaimHeld>()("ClaimHeld", {
  storyId: Schema.String,
  holder: Schema.String,
  leaseUntil: Millis,
}) {
  override get message(): string {
    return `${this.storyId} is being worked on by node ${this.holder} (lease until ${new Date(this.leaseUntil).toISOString()}); wait for it to finish or for its lease to run out`
  }
}

/**
 * The entry `node` writes to claim (or renew) the item at `now`: it keeps its epoch while it holds the
 * item, and takes the next epoch when the item is free, released or its holder's lease ran out.
 */
export const planClaim = (
  storyId: StoryId,
  entries: ReadonlyMap<NodeId, ClaimEntry>,
  node: NodeId,
  now: number,
  leaseMillis: number,
): Either.Either<ClaimEntry, ClaimHeld> => {
  const holder = holderOf(storyId, entries)
  if (Option.isSome(holder) && holder.value.node === node && isLive(holder.value, now)) {
    return Either.right({
      epoch: holder.value.epoch,
      leaseUntil: now + leaseMillis,
      claimedAt: holder.value.claimedAt,
    })
  }
  if (Option.isSome(holder) && holder.value.node !== node && isLive(holder.value, now)) {
    return Either.left(
      new ClaimHeld({ storyId, holder: holder.value.node, leaseUntil: holder.value.leaseUntil }),
    )
  }
  let highest = 0
  for (const entry of entries.values()) highest = Math.max(highest, entry.epoch)
  return Either.right({ epoch: highest + 1, leaseUntil: now + leaseMillis, claimedAt: now })
}
