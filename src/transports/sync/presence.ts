// src/transports/sync/presence.ts — who is online, by y-protocols awareness: each end keeps one Awareness
// with its own state (node id, label, role); every connection applies the other side's states with itself
// as origin and is sent everyone else's changes. A closed connection's states are removed at once.
// Used by SyncServer (one for all connections) and PeerActor (one per node).
import { Effect, Queue, Schedule, type Duration, type Scope } from "effect"
import {
  Awareness,
  applyAwarenessUpdate,
  encodeAwarenessUpdate,
  removeAwarenessStates,
} from "y-protocols/awareness"
import * as Y from "yjs"
import { encodeFrame } from "./frames.js"

/** What a node says of itself in awareness. Browsers attached read-only may say anything. */
export interface PresenceState {
  readonly node: string
  readonly label: string
  readonly role: "main" | "worker" | "read-only"
}

export interface Presence {
  /** Every state known now (this side's own included), by awareness client id. */
  readonly states: Effect.Effect<ReadonlyArray<Record<string, unknown>>>
  /**
   * Attaches a connection: sends it every state known now and, from then on, every change it did not
   * make; its own states are removed when the scope closes.
   */
  readonly attach: (
    outbox: Queue.Enqueue<Uint8Array>,
  ) => Effect.Effect<{ readonly apply: (update: Uint8Array) => void }, never, Scope.Scope>
}

/** A Presence with `own` as this side's state, renewed every `keepAlive` (which is also each connection's keep-alive). */
export const makePresence = (own: PresenceState, keepAlive: Duration.DurationInput) =>
  Effect.gen(function* () {
    const awareness = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const made = new Awareness(new Y.Doc())
        made.setLocalState({ ...own })
        return made
      }),
      (made) =>
        Effect.sync(() => {
          made.destroy()
          made.doc.destroy()
        }),
    )
    // Renewing the own state sends it to every connection: the traffic that tells the other side we live.
    yield* Effect.forkScoped(
      Effect.repeat(
        Effect.sync(() => awareness.setLocalState(awareness.getLocalState())),
        Schedule.spaced(keepAlive),
      ),
    )
    const attach: Presence["attach"] = (outbox) =>
      Effect.gen(function* () {
        const origin = {}
        const controlled = new Set<number>()
        const send = (clients: ReadonlyArray<number>) =>
          Queue.unsafeOffer(
            outbox,
            encodeFrame({ _tag: "Awareness", update: encodeAwarenessUpdate(awareness, [...clients]) }),
          )
        const onUpdate = (
          change: { added: Array<number>; updated: Array<number>; removed: Array<number> },
          from: unknown,
        ) => {
          if (from === origin) {
            for (const id of [...change.added, ...change.updated]) controlled.add(id)
            for (const id of change.removed) controlled.delete(id)
            return
          }
          send([...change.added, ...change.updated, ...change.removed])
        }
        yield* Effect.acquireRelease(
          Effect.sync(() => awareness.on("update", onUpdate)),
          () =>
            Effect.sync(() => {
              awareness.off("update", onUpdate)
              removeAwarenessStates(awareness, [...controlled], "closed")
            }),
        )
        send([...awareness.getStates().keys()])
        return { apply: (update: Uint8Array) => applyAwarenessUpdate(awareness, update, origin) }
      })
    return {
      states: Effect.sync(() => [...awareness.getStates().values()]),
      attach,
    } satisfies Presence
  })
