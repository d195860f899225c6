// src/layers/storeSync.ts — the Store's sync surface: its state vector, the update a peer lacks, a peer's
// update applied durably with the StoreEvents it implies, the same for the items' history document, and the
// feed of every committed update with its origin. Part of Store; used by the /crdt-sync server and the peer
// actor (src/transports/sync).
import { Effect, Either, Option, PubSub, type Queue, Schema, type Scope } from "effect"
import * as Y from "yjs"
import { Decision } from "../domain/Decision.js"
import type { NodeId } from "../domain/ExecutionState.js"
import type { PipelineEvent } from "../domain/PipelineEvent.js"
import type { WorkItem } from "../domain/WorkItem.js"
import { type DocMaps, ProjectionError, readAllItems, readItem } from "./docModel.js"
import type { PersistError } from "./Persistence.js"
import { type HistoryChange, type HistoryDocument, UnreadableHistoryUpdate } from "./storeHistory.js"
import type { StoreEvent } from "./storeTypes.js"

/** Who made a committed update: this node's own write, or a peer's update applied here. */
export type UpdateOrigin = { readonly _tag: "Local" } | { readonly _tag: "Peer"; readonly peer: string }

export const localOrigin: UpdateOrigin = { _tag: "Local" }

/**
 * What one commit put on disk, as the feed carries it: only what was new to this replica, of the state
 * and of the items' history (at least one of the two; a peer's history update comes alone).
 */
export interface CommittedUpdate {
  readonly update: Uint8Array | undefined
  readonly history: Uint8Array | undefined
  readonly origin: UpdateOrigin
}

/** A peer sent bytes that are not a Yjs update (or state vector): nothing of them was applied. */
export class SyncUpdateRejected extends Schema.TaggedError<SyncUpdateRejected>()("SyncUpdateRejected", {
  peer: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `the update from ${this.peer} cannot be read (${this.detail}); nothing of it was applied`
  }
}

export interface SyncSurface {
  /** This replica's state vector (what it has seen of every client). */
  readonly stateVector: Effect.Effect<Uint8Array>
  /** Everything this replica has that a peer with `stateVector` lacks (all of it when omitted). */
  readonly diff: (stateVector?: Uint8Array) => Effect.Effect<Uint8Array, SyncUpdateRejected>
  /**
   * Applies a peer's update under the write lock, in one transaction, makes the part new to this replica
   * durable before anything acts on it, then publishes the StoreEvents it implies.
   */
  readonly applyRemote: (
    update: Uint8Array,
    peer: string,
  ) => Effect.Effect<ReadonlyArray<StoreEvent>, SyncUpdateRejected | PersistError>
  /** The items' history's state vector; loads the history (once) if nothing has yet. */
  readonly historyStateVector: Effect.Effect<Uint8Array, PersistError>
  /** Everything of the history a peer with `stateVector` lacks. */
  readonly historyDiff: (
    stateVector: Uint8Array,
  ) => Effect.Effect<Uint8Array, SyncUpdateRejected | PersistError>
  /**
   * What a peer lacks of the state and, when it sent its history's state vector, of the history, taken in
   * one turn: whatever the state's diff holds, the history's holds the entries that go with it.
   */
  readonly catchUp: (
    stateVector: Uint8Array,
    historyVector: Uint8Array | undefined,
  ) => Effect.Effect<
    { readonly state: Uint8Array; readonly history: Uint8Array | undefined },
    SyncUpdateRejected | PersistError
  >
  /** Applies a peer's update of the history under the write lock; durable before it resolves. */
  readonly applyRemoteHistory: (
    update: Uint8Array,
    peer: string,
  ) => Effect.Effect<void, SyncUpdateRejected | PersistError>
  /** Every committed update with its origin, so a server forwards to the other peers, never back. */
  readonly updates: PubSub.PubSub<CommittedUpdate>
  readonly subscribeUpdates: Effect.Effect<Queue.Dequeue<CommittedUpdate>, never, Scope.Scope>
}

export interface SyncParts {
  readonly doc: () => Y.Doc
  readonly maps: () => DocMaps
  readonly history: HistoryDocument
  /** One Y transaction (and history change) made durable and fed to `updates` with `origin` (see Store.commit). */
  readonly commit: <A>(
    mutate: () => A,
    change: HistoryChange | undefined,
    origin: UpdateOrigin,
  ) => Effect.Effect<A, PersistError>
  readonly write: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
  readonly publish: (event: StoreEvent) => Effect.Effect<boolean>
  readonly updates: PubSub.PubSub<CommittedUpdate>
}

/** The keys a transaction touched, per map (an item id for items, content and execution). */
interface Touched {
  readonly items: Set<string>
  readonly content: Set<string>
  /** timer id -> the item it belongs to (read from the value before or after). */
  readonly timers: Map<string, string>
  readonly mergeJobs: Set<string>
  /** decision id -> its raw value before the transaction. */
  readonly decisions: Map<string, unknown>
  readonly claims: Set<string>
}

const storyIdOf = (raw: unknown): string | undefined =>
  typeof raw === "object" && raw !== null && "storyId" in raw && typeof raw.storyId === "string"
    ? raw.storyId
    : undefined

type DeepEvents = ReadonlyArray<Y.YEvent<Y.AbstractType<unknown>>>
/** A map of the document as observeDeep sees it (its value type does not matter here). */
interface Observed {
  readonly observeDeep: (f: (events: DeepEvents) => void) => void
  readonly unobserveDeep: (f: (events: DeepEvents) => void) => void
}

/**
 * Starts watching the maps (deep) for what changes touch; `stop` ends it. Observers run when the outermost
 * transaction ends, so the watch spans the whole commit, not only the apply inside it.
 */
const watch = (maps: DocMaps): { readonly touched: Touched; readonly stop: () => void } => {
  const touched: Touched = {
    items: new Set(),
    content: new Set(),
    timers: new Map(),
    mergeJobs: new Set(),
    decisions: new Map(),
    claims: new Set(),
  }
  const keyed = (events: DeepEvents, top: unknown) => {
    const keys: Array<[string, { action: string; oldValue: unknown } | undefined]> = []
    for (const event of events) {
      if (event.target === top) for (const [key, change] of event.changes.keys) keys.push([key, change])
      else keys.push([String(event.path[0]), undefined])
    }
    return keys
  }
  const observers: Array<[Observed, (events: DeepEvents) => void]> = [
    [maps.items, (events) => keyed(events, maps.items).forEach(([id]) => touched.items.add(id))],
    [maps.content, (events) => keyed(events, maps.content).forEach(([id]) => touched.content.add(id))],
    [
      maps.execution,
      (events) => {
        for (const event of events) {
          if (event.target !== maps.execution) {
            for (const id of event.changes.keys.keys()) touched.items.add(id)
            continue
          }
          // A node's whole map came (or went): every item it holds state for is touched.
          for (const node of event.changes.keys.keys()) {
            const perItem = maps.execution.get(node)
            if (perItem instanceof Y.Map) for (const id of perItem.keys()) touched.items.add(id)
            else for (const id of maps.items.keys()) touched.items.add(id)
          }
        }
      },
    ],
    [
      maps.timers,
      (events) => {
        for (const [id, change] of keyed(events, maps.timers)) {
          const story = storyIdOf(maps.timers.get(id)) ?? storyIdOf(change?.oldValue)
          if (story !== undefined) touched.timers.set(id, story)
        }
      },
    ],
    [maps.mergeJobs, (events) => keyed(events, maps.mergeJobs).forEach(([id]) => touched.mergeJobs.add(id))],
    [
      maps.decisions,
      (events) => {
        for (const [id, change] of keyed(events, maps.decisions))
          if (!touched.decisions.has(id))
            touched.decisions.set(
              id,
              change === undefined || change.action === "add" ? undefined : change.oldValue,
            )
      },
    ],
    [maps.claims, (events) => keyed(events, maps.claims).forEach(([id]) => touched.claims.add(id))],
  ]
  for (const [type, observer] of observers) type.observeDeep(observer)
  return { touched, stop: () => observers.forEach(([type, observer]) => type.unobserveDeep(observer)) }
}

const decodeDecision = Schema.decodeUnknownEither(Decision)
const decisionOf = (raw: unknown) => {
  const decoded = decodeDecision(raw, { onExcessProperty: "error" })
  return Either.isRight(decoded) ? decoded.right : undefined
}
const isEmptyMap = (value: unknown) => value instanceof Y.Map && value.size === 0
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/**
 * The Heartbeat a replicated change is, when that is all it is (one node's Running state moved its
 * heartbeat forward, nothing else but the time of the change): subscribers then pass it over as they
 * pass a local heartbeat, instead of taking another node's liveness for a change of the item.
 */
export const heartbeatOf = (before: WorkItem, after: WorkItem): PipelineEvent | undefined => {
  const nodes = new Set([...Object.keys(before.execution), ...Object.keys(after.execution)])
  let beat: PipelineEvent | undefined
  for (const node of nodes) {
    const [was, is] = [before.execution[node], after.execution[node]]
    if (same(was, is)) continue
    if (beat !== undefined || was?._tag !== "Running" || is?._tag !== "Running") return undefined
    if (!same({ ...was, heartbeatAt: 0 }, { ...is, heartbeatAt: 0 }) || is.heartbeatAt <= was.heartbeatAt)
      return undefined
    beat = { _tag: "Heartbeat", node: node as NodeId, at: is.heartbeatAt }
  }
  const rest = (item: WorkItem) => ({ ...item, execution: {}, updatedAt: 0 })
  return beat !== undefined && same(rest(before), rest(after)) ? beat : undefined
}

/**
 * The events a replicated transaction implies, as a local write of the same change would publish them.
 * `before` are the items as decoded before it; an item that does not decode after it is logged, not
 * published (the board shows projection errors from the Store's list).
 */
export const eventsOf = (
  maps: DocMaps,
  before: ReadonlyArray<WorkItem>,
  touched: Touched,
  peer: string,
): { readonly events: ReadonlyArray<StoreEvent>; readonly unreadable: ReadonlyArray<ProjectionError> } => {
  const events: Array<StoreEvent> = []
  const unreadable: Array<ProjectionError> = []
  const wasById =
    touched.items.size > 8 ? new Map(before.map((item) => [item.id as string, item])) : undefined
  const was = (id: string) =>
    wasById?.get(id) ?? (wasById === undefined ? before.find((i) => i.id === id) : undefined)
  const created = new Set<string>()
  const deleted: Array<{ id: string; before: WorkItem }> = []
  for (const id of touched.items) {
    const previous = was(id)
    const now = readItem(maps, id)
    if (now === undefined) {
      if (previous !== undefined) deleted.push({ id, before: previous })
      continue
    }
    if (Either.isLeft(now)) {
      unreadable.push(now.left)
      continue
    }
    if (previous === undefined) {
      created.add(id)
      events.push({ _tag: "ItemCreated", item: now.right })
    } else if (!same(previous, now.right))
      events.push({
        _tag: "ItemChanged",
        before: previous,
        after: now.right,
        event: heartbeatOf(previous, now.right) ?? { _tag: "Replicated", from: peer },
      })
  }
  const gone = new Set(deleted.map((d) => d.id))
  for (const id of touched.content)
    if (!created.has(id) && !gone.has(id) && maps.items.has(id))
      events.push({ _tag: "ContentChanged", id: id as never })
  const timerItems = new Set([...touched.timers.values()].filter((id) => !gone.has(id)))
  for (const id of timerItems) events.push({ _tag: "TimersChanged", id: id as never })
  for (const id of touched.mergeJobs)
    if (!gone.has(id)) events.push({ _tag: "MergeJobChanged", id: id as never })
  // A new item comes with an empty claims map, which is no claim: only entries make a ClaimChanged.
  for (const id of touched.claims)
    if (!gone.has(id) && !(created.has(id) && isEmptyMap(maps.claims.get(id))))
      events.push({ _tag: "ClaimChanged", id: id as never })
  for (const [id, raw] of touched.decisions) {
    const now = decisionOf(maps.decisions.get(id))
    if (now === undefined) continue
    const previous = raw === undefined ? undefined : decisionOf(raw)
    if (previous === undefined) events.push({ _tag: "DecisionOpened", decision: now })
    if (now.answer !== undefined && previous?.answer === undefined)
      events.push({ _tag: "DecisionAnswered", decision: now })
  }
  for (const { id } of deleted) {
    const timers = [...touched.timers].filter(([, story]) => story === id).map(([timer]) => timer)
    const decisions = [...touched.decisions]
      .filter(([key, raw]) => !maps.decisions.has(key) && storyIdOf(raw) === id)
      .map(([key]) => key)
    events.push({
      _tag: "ItemDeleted",
      id: id as never,
      report: {
        id,
        item: true,
        content: touched.content.has(id) && !maps.content.has(id),
        execution: [],
        claim: touched.claims.has(id) && !maps.claims.has(id),
        mergeJob: touched.mergeJobs.has(id) && !maps.mergeJobs.has(id),
        timers,
        decisions,
      },
    })
  }
  return { events, unreadable }
}

const readable = <A>(peer: string, what: string, read: () => A) =>
  Effect.try({
    try: read,
    catch: (e) =>
      new SyncUpdateRejected({ peer, detail: `${what}: ${e instanceof Error ? e.message : String(e)}` }),
  })

/** Thrown out of the transaction when Yjs cannot read a peer's update: Store.commit then reloads from disk. */
class UnreadableUpdate extends Error {}

export const syncSurface = (parts: SyncParts): SyncSurface => {
  const applyRemote = (update: Uint8Array, peer: string) =>
    parts.write(
      Effect.gen(function* () {
        const maps = parts.maps()
        const before = readAllItems(maps).items
        const { touched, stop } = watch(maps)
        const apply = () => {
          try {
            Y.applyUpdate(parts.doc(), update, peer)
          } catch (e) {
            throw new UnreadableUpdate(e instanceof Error ? e.message : String(e))
          }
        }
        // A peer's garbage is refused, never half applied: what Yjs read of it before it failed is thrown
        // away with the in-memory document, which commit reloads from disk.
        yield* parts.commit(apply, undefined, { _tag: "Peer", peer }).pipe(
          Effect.ensuring(Effect.sync(stop)),
          Effect.catchSomeDefect((defect) =>
            defect instanceof UnreadableUpdate
              ? Option.some(new SyncUpdateRejected({ peer, detail: `not a Yjs update: ${defect.message}` }))
              : Option.none(),
          ),
        )
        const { events, unreadable } = eventsOf(maps, before, touched, peer)
        for (const e of unreadable) yield* Effect.logWarning(`replicated from ${peer}: ${e.message}`)
        for (const event of events) yield* parts.publish(event)
        return events
      }),
    )
  const historyDiffNow = (stateVector: Uint8Array) =>
    Effect.flatMap(parts.history.document, (doc) =>
      readable("a peer", "not a state vector of the history", () => Y.encodeStateAsUpdate(doc, stateVector)),
    )
  const stateDiffNow = (stateVector?: Uint8Array) =>
    readable("a peer", "not a state vector", () => Y.encodeStateAsUpdate(parts.doc(), stateVector))
  const applyRemoteHistory = (update: Uint8Array, peer: string) =>
    parts.write(
      parts
        .commit(() => undefined, { _tag: "Replicated", update }, { _tag: "Peer", peer })
        .pipe(
          // Refused whole: the history document that read part of it is read again from disk.
          Effect.catchSomeDefect((defect) =>
            defect instanceof UnreadableHistoryUpdate
              ? Option.some(
                  new SyncUpdateRejected({
                    peer,
                    detail: `not a Yjs update of the history: ${defect.message}`,
                  }),
                )
              : Option.none(),
          ),
        ),
    )
  return {
    // Under the write lock: a write's change is in memory before it is on disk, and no peer may see it
    // before it is durable here.
    stateVector: parts.write(Effect.sync(() => Y.encodeStateVector(parts.doc()))),
    diff: (stateVector) => parts.write(stateDiffNow(stateVector)),
    applyRemote,
    historyStateVector: parts.write(Effect.map(parts.history.document, Y.encodeStateVector)),
    historyDiff: (stateVector) => parts.write(historyDiffNow(stateVector)),
    catchUp: (stateVector, historyVector) =>
      parts.write(
        Effect.gen(function* () {
          const history = historyVector === undefined ? undefined : yield* historyDiffNow(historyVector)
          return { state: yield* stateDiffNow(stateVector), history }
        }),
      ),
    applyRemoteHistory,
    updates: parts.updates,
    subscribeUpdates: PubSub.subscribe(parts.updates),
  }
}
