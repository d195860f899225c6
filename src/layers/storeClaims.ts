// src/layers/storeClaims.ts — the Store's claims: claims/<item> is a map of node id -> ClaimEntry, each node
// writing only its own entry; claim, renew (the heartbeat), release and the decoded holders. Part of Store.
import { Clock, Effect, Either, Option, Schema } from "effect"
import * as Y from "yjs"
import { type Claim, ClaimEntry, ClaimHeld, holderOf, isLive, planClaim } from "../domain/Claim.js"
import { NodeId } from "../domain/ExecutionState.js"
import { StoryId } from "../domain/StoryId.js"
import { decodeOnce, type DocMaps, ProjectionError } from "./docModel.js"
import type { PersistError } from "./Persistence.js"
import { ItemNotFound } from "./storeErrors.js"
import type { DocAccess } from "./storeTypes.js"

/**
 * The entries of `id` changed in a way that may change its holder (a claim, a release, or any replicated
 * change of them). Renewals only move a lease forward and publish nothing.
 */
export type ClaimEvent = { readonly _tag: "ClaimChanged"; readonly id: StoryId }

export interface Renewal {
  /** This node's claims, moved forward. */
  readonly renewed: ReadonlyArray<Claim>
  /** Items this node no longer holds live (another node holds them, the lease ran out, released, deleted). */
  readonly lost: ReadonlyArray<StoryId>
  /** Items whose entries do not decode: not renewed, and not counted as held. */
  readonly errors: ReadonlyArray<ProjectionError>
}

export interface ClaimStore {
  /**
   * Claims the item for this node for `leaseMillis` from now (Clock): keeps the epoch while this node holds
   * it live, takes the next one when it is free, released or its holder's lease ran out.
   */
  readonly claim: (
    id: StoryId,
    leaseMillis: number,
  ) => Effect.Effect<Claim, ClaimHeld | ItemNotFound | ProjectionError | PersistError>
  /** The heartbeat: one write that moves forward every item of `ids` this node holds live. */
  readonly renew: (ids: ReadonlyArray<StoryId>, leaseMillis: number) => Effect.Effect<Renewal, PersistError>
  /** Gives the item back (released: true on this node's entry); whether this node had it unreleased. */
  readonly release: (id: StoryId) => Effect.Effect<boolean, PersistError>
  /** The item's holder by the rule every replica computes (expired or not: see isLive). */
  readonly holder: (id: StoryId) => Effect.Effect<Option.Option<Claim>, ProjectionError>
  /**
   * Every node that ever claimed the item (released entries stay): the nodes that may have worked on it,
   * so have pushed its branch. An item whose entries do not decode is a ProjectionError.
   */
  readonly claimants: (id: StoryId) => Effect.Effect<ReadonlySet<NodeId>, ProjectionError>
  /** The holders of `ids` in one read of the document, each as `holder` gives it. */
  readonly holders: (
    ids: ReadonlyArray<StoryId>,
  ) => Effect.Effect<ReadonlyMap<StoryId, Either.Either<Option.Option<Claim>, ProjectionError>>>
  /** Every item's holder; an item whose entries do not decode is a ProjectionError, never dropped. */
  readonly claims: Effect.Effect<{
    readonly claims: ReadonlyArray<Claim>
    readonly errors: ReadonlyArray<ProjectionError>
  }>
}

export interface ClaimStoreParts extends DocAccess<ClaimEvent> {
  /** This node's id (the key of its entries). */
  readonly nodeId: NodeId
}

const decodeEntry = decodeOnce(ClaimEntry)
const encodeEntry = Schema.encodeSync(ClaimEntry)
const isNodeId = Schema.is(NodeId)
const isStoryId = Schema.is(StoryId)

type Entries = ReadonlyMap<NodeId, ClaimEntry>

const noEntries: Either.Either<Entries, ProjectionError> = Either.right(new Map())

/** The decoded entries of `id` (empty when nobody ever claimed it). */
export const readClaimEntries = (maps: DocMaps, id: string): Either.Either<Entries, ProjectionError> => {
  const raw = maps.claims.get(id)
  if (raw === undefined) return noEntries
  if (!(raw instanceof Y.Map))
    return Either.left(
      new ProjectionError({ path: `claims/${id}`, detail: "expected a map of node entries" }),
    )
  // Every item carries its claims map from creation, most of them empty and read on every look: one that
  // never had an entry is answered without iterating it (Y.Map's iterator costs about a microsecond even
  // empty), and the map of entries is made only once there is an entry.
  if ((raw as Y.Map<unknown>)._map.size === 0) return noEntries
  let entries: Map<NodeId, ClaimEntry> | undefined
  for (const [node, value] of raw as Y.Map<unknown>) {
    const path = `claims/${id}/${node}`
    if (!isNodeId(node)) return Either.left(new ProjectionError({ path, detail: "the key is not a node id" }))
    const decoded = decodeEntry(value)
    if (Either.isLeft(decoded)) return Either.left(new ProjectionError({ path, detail: decoded.left }))
    ;(entries ??= new Map()).set(node, decoded.right)
  }
  return entries === undefined ? noEntries : Either.right(entries)
}

/** The holder of `id` as every replica computes it from the same entries. */
export const readHolder = (
  maps: DocMaps,
  id: StoryId,
): Either.Either<Option.Option<Claim>, ProjectionError> =>
  Either.map(readClaimEntries(maps, id), (entries) => holderOf(id, entries))

/** Every item's holder, by item id. */
export const readClaims = (
  maps: DocMaps,
): { readonly claims: ReadonlyArray<Claim>; readonly errors: ReadonlyArray<ProjectionError> } => {
  const claims: Array<Claim> = []
  const errors: Array<ProjectionError> = []
  for (const id of [...maps.claims.keys()].sort()) {
    if (!isStoryId(id)) {
      errors.push(
        new ProjectionError({ path: `claims/${id}`, detail: "the key is not a valid work item id" }),
      )
      continue
    }
    const holder = readHolder(maps, id)
    if (Either.isLeft(holder)) errors.push(holder.left)
    else if (Option.isSome(holder.right)) claims.push(holder.right.value)
  }
  return { claims, errors }
}

/**
 * Writes `node`'s entry under `id`. Items made since claims exist carry their claims map from creation
 * (docModel.writeItem), so no two nodes ever create it concurrently (the loser's map, entries and all,
 * would vanish); one is made here only for items older than that.
 */
export const writeClaimEntry = (maps: DocMaps, id: string, node: NodeId, entry: ClaimEntry): void => {
  let perItem = maps.claims.get(id)
  if (!(perItem instanceof Y.Map)) {
    perItem = new Y.Map<unknown>()
    maps.claims.set(id, perItem)
  }
  ;(perItem as Y.Map<unknown>).set(node, encodeEntry(entry))
}

/**
 * The entry `node` writes to claim `id` at `now`, or why it may not (pure over the document: the Store and
 * replicas in tests share it).
 */
export const planClaimIn = (
  maps: DocMaps,
  id: StoryId,
  node: NodeId,
  now: number,
  leaseMillis: number,
): Either.Either<ClaimEntry, ClaimHeld | ProjectionError> =>
  Either.flatMap(readClaimEntries(maps, id), (entries) => planClaim(id, entries, node, now, leaseMillis))

/** The renewed entry of `node` for `id` when it holds it live at `now`; None when it does not. */
export const planRenewIn = (
  maps: DocMaps,
  id: StoryId,
  node: NodeId,
  now: number,
  leaseMillis: number,
): Either.Either<Option.Option<ClaimEntry>, ProjectionError> =>
  Either.map(readClaimEntries(maps, id), (entries) => {
    const holder = holderOf(id, entries)
    const own = entries.get(node)
    if (
      own === undefined ||
      Option.isNone(holder) ||
      holder.value.node !== node ||
      !isLive(holder.value, now)
    )
      return Option.none()
    return Option.some({ ...own, leaseUntil: Math.max(own.leaseUntil, now + leaseMillis) })
  })

/** This node's entry for `id` marked released, when it has one not released yet. */
export const planReleaseIn = (maps: DocMaps, id: string, node: NodeId): Option.Option<ClaimEntry> => {
  const entries = readClaimEntries(maps, id)
  // An unreadable neighbour must not stop a node from giving back what it holds: read its own entry alone.
  const own = Either.isRight(entries)
    ? entries.right.get(node)
    : Option.getOrUndefined(Either.getRight(decodeEntry(ownRaw(maps, id, node))))
  return own === undefined || own.released === true ? Option.none() : Option.some({ ...own, released: true })
}

const ownRaw = (maps: DocMaps, id: string, node: NodeId): unknown => {
  const perItem = maps.claims.get(id)
  return perItem instanceof Y.Map ? (perItem as Y.Map<unknown>).get(node) : undefined
}

const validLease = (leaseMillis: number) =>
  Number.isInteger(leaseMillis) && leaseMillis > 0
    ? Effect.void
    : Effect.dieMessage(`a lease must be a whole number of milliseconds > 0, got ${leaseMillis}`)

export const claimStore = ({ maps, commit, write, publish, nodeId }: ClaimStoreParts): ClaimStore => {
  const claim = (id: StoryId, leaseMillis: number) =>
    write(
      Effect.gen(function* () {
        yield* validLease(leaseMillis)
        const doc = maps()
        if (!doc.items.has(id)) return yield* new ItemNotFound({ id })
        const now = yield* Clock.currentTimeMillis
        const entry = yield* planClaimIn(doc, id, nodeId, now, leaseMillis)
        yield* commit(() => writeClaimEntry(doc, id, nodeId, entry))
        yield* publish({ _tag: "ClaimChanged", id })
        const { epoch, leaseUntil, claimedAt } = entry
        return { storyId: id, node: nodeId, epoch, leaseUntil, claimedAt } satisfies Claim
      }),
    )

  const renew = (ids: ReadonlyArray<StoryId>, leaseMillis: number) =>
    write(
      Effect.gen(function* () {
        yield* validLease(leaseMillis)
        const doc = maps()
        const now = yield* Clock.currentTimeMillis
        const planned: Array<[StoryId, ClaimEntry]> = []
        const lost: Array<StoryId> = []
        const errors: Array<ProjectionError> = []
        for (const id of new Set(ids)) {
          const plan = planRenewIn(doc, id, nodeId, now, leaseMillis)
          if (Either.isLeft(plan)) errors.push(plan.left)
          else if (Option.isSome(plan.right)) planned.push([id, plan.right.value])
          else lost.push(id)
        }
        if (planned.length > 0)
          yield* commit(() => {
            for (const [id, entry] of planned) writeClaimEntry(doc, id, nodeId, entry)
          })
        const renewed = planned.map(([storyId, { epoch, leaseUntil, claimedAt }]): Claim => ({
          storyId,
          node: nodeId,
          epoch,
          leaseUntil,
          claimedAt,
        }))
        return { renewed, lost, errors } satisfies Renewal
      }),
    )

  const release = (id: StoryId) =>
    write(
      Effect.gen(function* () {
        const doc = maps()
        const released = planReleaseIn(doc, id, nodeId)
        if (Option.isNone(released)) return false
        yield* commit(() => writeClaimEntry(doc, id, nodeId, released.value))
        yield* publish({ _tag: "ClaimChanged", id })
        return true
      }),
    )

  return {
    claim,
    renew,
    release,
    holder: (id) => Effect.suspend(() => readHolder(maps(), id)),
    claimants: (id) =>
      Effect.suspend(() => Either.map(readClaimEntries(maps(), id), (entries) => new Set(entries.keys()))),
    holders: (ids) =>
      Effect.sync(() => {
        const doc = maps()
        return new Map(ids.map((id) => [id, readHolder(doc, id)]))
      }),
    claims: Effect.sync(() => readClaims(maps())),
  }
}
