// src/transports/sync/session.ts — one /crdt-sync connection once admitted, the same on both ends: each side
// sends its state vector, answers the other's with what it lacks, applies the other's updates (when it
// takes them) and forwards its own committed updates (never the peer's own back), and shares awareness;
// between nodes the items' history document the same way, each commit's history ahead of its state.
// Used by SyncServer (one per connection, a child of serve's `sync`) and PeerActor (one per dial, in its loop).
import type * as Socket from "@effect/platform/Socket"
import { Cause, Clock, Effect, Either, Exit, Queue, Schema, type Scope } from "effect"
import * as Y from "yjs"
import type { ReplicaShape } from "../../layers/Replica.js"
import { AdmissionRefused, HandshakeFrame } from "../../protocol/nodeHandshake.js"
import { attachBarrier } from "./barrier.js"
import { decodeFrame, encodeFrame, type Frame } from "./frames.js"
import type { Presence } from "./presence.js"

export type Outgoing = string | Uint8Array | Socket.CloseEvent

/** The socket's end, queued after the last frame it delivered. */
export interface SocketEnded {
  readonly ended: string
}

/** One open socket as two queues: frames read (then its end), and frames to write (one writer, in order). */
export interface Wire {
  readonly inbox: Queue.Dequeue<string | Uint8Array | SocketEnded>
  readonly outbox: Queue.Enqueue<Outgoing>
}

/** The socket closed: every frame that came before the close has been handled. */
export class PeerClosed extends Schema.TaggedError<PeerClosed>()("PeerClosed", {
  peer: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `the connection with ${this.peer} closed (${this.detail})`
  }
}

/** The other side sent nothing (not even its keep-alive) for too long: the connection is presumed dead. */
export class PeerSilent extends Schema.TaggedError<PeerSilent>()("PeerSilent", {
  peer: Schema.String,
  millis: Schema.Number,
}) {
  override get message(): string {
    return `nothing heard from ${this.peer} for ${this.millis} ms; the connection is closed and resynced on the next one`
  }
}

/** The other side sent a frame that is not y-websocket's, or an update that is not Yjs. */
export class PeerMisbehaved extends Schema.TaggedError<PeerMisbehaved>()("PeerMisbehaved", {
  peer: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `${this.peer} sent what cannot be read (${this.detail}); the connection is closed`
  }
}

/**
 * Runs `protocol` over `socket` until it ends or a write fails. Frames are handled one at a time, in the
 * order they arrived, and the socket's end comes after them (nextFrame fails with PeerClosed): a Refusal
 * sent just before a close is always read, never lost in a race with the close.
 */
export const overSocket = <E, R>(
  socket: Socket.Socket,
  protocol: (wire: Wire) => Effect.Effect<void, E, R>,
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const inbox = yield* Queue.unbounded<string | Uint8Array | SocketEnded>()
      const outbox = yield* Queue.unbounded<Outgoing>()
      const write = yield* socket.writer
      const reader = socket
        .runRaw((data) => {
          Queue.unsafeOffer(inbox, data)
        })
        .pipe(
          Effect.exit,
          Effect.flatMap((exit) =>
            Queue.offer(inbox, {
              ended: Exit.isSuccess(exit) ? "closed" : String(Cause.squash(exit.cause)),
            }),
          ),
        )
      yield* Effect.forkScoped(reader)
      const writer = Effect.forever(Effect.flatMap(Queue.take(outbox), write))
      return yield* protocol({ inbox, outbox }).pipe(Effect.raceFirst(writer))
    }),
  )

/** The next frame; PeerClosed once the socket ended, or PeerSilent after `millis` without one. */
export const nextFrame = (
  wire: Wire,
  peer: string,
  millis: number,
): Effect.Effect<string | Uint8Array, PeerSilent | PeerClosed> =>
  Queue.take(wire.inbox).pipe(
    Effect.timeoutFail({ duration: millis, onTimeout: () => new PeerSilent({ peer, millis }) }),
    Effect.flatMap((data) =>
      typeof data === "string" || data instanceof Uint8Array
        ? Effect.succeed(data)
        : Effect.fail(new PeerClosed({ peer, detail: data.ended })),
    ),
  )

const decodeHandshake = Schema.decodeUnknownEither(Schema.parseJson(HandshakeFrame))

export interface SessionOptions {
  readonly replica: ReplicaShape
  /** The other side: the origin its updates are applied with, and whose updates are never sent back. */
  readonly peer: string
  /** Whether the other side's updates are applied (a worker's, the main node's) or dropped (read-only). */
  readonly acceptsWrites: boolean
  readonly presence: Presence
  /** Nothing heard for this long closes the connection (the other side's keep-alive comes more often). */
  readonly idleMillis: number
  /** Told when an update of the other side was applied (or dropped), with the time (Clock). */
  readonly onReceived?: (frame: "SyncStep2" | "Update", at: number) => Effect.Effect<void>
  /**
   * Whether the items' history document is synced too: between nodes, never with a y-websocket client
   * (which never asks for it). Its state vector loads the history on this side once, if nothing had.
   */
  readonly history?: boolean
}

/** Whether this session syncs the history: off for good once it cannot be read here. */
interface HistorySwitch {
  on: boolean
}

const merged = (updates: ReadonlyArray<Uint8Array>) =>
  updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates([...updates])

/**
 * Forwards committed updates (not the peer's own) to the wire, merged when several wait; the history's
 * before the state's, so a node that learns of an item or a move already has what its history says of it.
 */
const forward = (wire: Wire, options: SessionOptions, history: HistorySwitch) =>
  Effect.gen(function* () {
    const feed = yield* options.replica.subscribeUpdates
    const relay = Effect.gen(function* () {
      const batch = yield* Queue.takeBetween(feed, 1, 256)
      const updates: Array<Uint8Array> = []
      const histories: Array<Uint8Array> = []
      for (const committed of batch) {
        if (committed.origin._tag === "Peer" && committed.origin.peer === options.peer) continue
        if (committed.history !== undefined && history.on) histories.push(committed.history)
        if (committed.update !== undefined) updates.push(committed.update)
      }
      if (histories.length > 0)
        yield* Queue.offer(wire.outbox, encodeFrame({ _tag: "HistoryUpdate", update: merged(histories) }))
      if (updates.length > 0)
        yield* Queue.offer(wire.outbox, encodeFrame({ _tag: "Update", update: merged(updates) }))
    })
    return relay
  })

/**
 * The sync session after admission: runs until the connection fails (PeerSilent, PeerMisbehaved, a
 * Refusal sent mid-session such as a revocation) or the socket ends it.
 */
export const runSession = (
  wire: Wire,
  options: SessionOptions,
): Effect.Effect<never, PeerSilent | PeerClosed | PeerMisbehaved | AdmissionRefused, Scope.Scope> =>
  Effect.gen(function* () {
    const { replica, peer } = options
    const history: HistorySwitch = { on: options.history === true }
    // Subscribed before our state vectors are taken: nothing committed after them can be missed.
    const relay = yield* forward(wire, options, history)
    if (history.on) {
      const vector = yield* Effect.either(replica.historyStateVector)
      if (Either.isRight(vector))
        yield* Queue.offer(wire.outbox, encodeFrame({ _tag: "HistoryStep1", stateVector: vector.right }))
      else {
        // The state still syncs; the history's writes fail here until it can be read again.
        history.on = false
        yield* Effect.logWarning(`the items' history is not synced with ${peer}: ${vector.left.message}`)
      }
    }
    // After the history's: the other side answers both at once, the history's first.
    yield* Queue.offer(
      wire.outbox,
      encodeFrame({ _tag: "SyncStep1", stateVector: yield* replica.stateVector }),
    )
    const awareness = yield* options.presence.attach(wire.outbox)
    const barrier = yield* attachBarrier(wire.outbox, options)
    yield* Effect.forkScoped(Effect.forever(relay))
    let dropping = false
    const dropped = Effect.suspend(() => {
      if (dropping) return Effect.void
      dropping = true
      return Effect.logWarning(`${peer} is read-only: its updates are dropped (logged once per connection)`)
    })
    /** The other side's history state vector, until its state's step 1 (which follows) answers both. */
    let historyVector: Uint8Array | undefined
    const receivedHistory = (update: Uint8Array) => {
      if (!history.on) return Effect.void
      if (!options.acceptsWrites) return dropped
      return replica
        .applyRemoteHistory(update, peer)
        .pipe(Effect.mapError((e) => new PeerMisbehaved({ peer, detail: e.message })))
    }
    const received = (frame: Extract<Frame, { readonly _tag: "SyncStep2" | "Update" | "Awareness" }>) =>
      Effect.gen(function* () {
        if (frame._tag === "Awareness")
          return yield* Effect.try({
            try: () => awareness.apply(frame.update),
            catch: (e) =>
              new PeerMisbehaved({
                peer,
                detail: `awareness: ${e instanceof Error ? e.message : String(e)}`,
              }),
          })
        if (options.acceptsWrites)
          yield* replica
            .applyRemote(frame.update, peer)
            .pipe(Effect.mapError((e) => new PeerMisbehaved({ peer, detail: e.message })))
        else yield* dropped
        if (options.onReceived !== undefined)
          yield* options.onReceived(frame._tag, yield* Clock.currentTimeMillis)
      })
    for (;;) {
      const data = yield* nextFrame(wire, peer, options.idleMillis)
      if (typeof data === "string") {
        // After admission a text frame can only be a Refusal (the node was revoked); anything else is noise.
        const frame = decodeHandshake(data)
        if (Either.isRight(frame) && frame.right._tag === "Refusal")
          return yield* new AdmissionRefused({
            reason: frame.right.reason,
            detail: frame.right.message,
            ...(frame.right.supported === undefined ? {} : { supported: frame.right.supported }),
          })
        continue
      }
      const frame = yield* Effect.try({
        try: () => decodeFrame(data),
        catch: (e) => new PeerMisbehaved({ peer, detail: e instanceof Error ? e.message : String(e) }),
      })
      switch (frame._tag) {
        case "SyncStep1": {
          // Both diffs in one turn: whatever the state's holds, the history's holds what goes with it.
          const diffs = yield* replica
            .catchUp(frame.stateVector, historyVector)
            .pipe(Effect.mapError((e) => new PeerMisbehaved({ peer, detail: e.message })))
          historyVector = undefined
          if (diffs.history !== undefined)
            yield* Queue.offer(wire.outbox, encodeFrame({ _tag: "HistoryStep2", update: diffs.history }))
          yield* Queue.offer(wire.outbox, encodeFrame({ _tag: "SyncStep2", update: diffs.state }))
          break
        }
        case "HistoryStep1":
          if (history.on) historyVector = frame.stateVector
          break
        case "HistoryStep2":
        case "HistoryUpdate":
          yield* receivedHistory(frame.update)
          break
        case "SyncStep2":
        case "Update":
        case "Awareness":
          yield* received(frame)
          break
        case "Other":
          // The nodes' round trips (barrier.ts); any other message type this side does not speak is ignored.
          yield* barrier
            .received(data)
            .pipe(Effect.mapError((e) => new PeerMisbehaved({ peer, detail: e.message })))
          break
      }
    }
  })
