// src/transports/nodes/workerTicket.ts — what a worker takes from its sync connection's admission: the
// ticket its node RPC client signs in with (the current connection's; it waits while there is none), and the
// first admission, which agentMode remembers so later starts need no join token.
import { Clock, Effect, Option, Stream } from "effect"
import type { NodeRole } from "../../protocol/nodeHandshake.js"
import type { PeerActorShape } from "../sync/PeerActor.js"

export interface Welcomed {
  readonly server: string
  readonly role: NodeRole
  readonly at: number
}

const admitted = (actor: PeerActorShape) =>
  actor.changes.changes.pipe(
    Stream.filterMap((s) =>
      s.connected && s.ticket !== undefined && s.server !== undefined && s.role !== undefined
        ? Option.some({ ticket: s.ticket, server: s.server, role: s.role })
        : Option.none(),
    ),
  )

export const workerCredential = {
  /** The ticket of the sync connection open now; waits for the next admission while there is none. */
  ticket: (actor: PeerActorShape): Effect.Effect<string> =>
    admitted(actor).pipe(
      Stream.runHead,
      Effect.map(Option.map((a) => a.ticket)),
      // The status stream never ends while the actor lives; if it did, there is no ticket to wait for.
      Effect.flatMap(Option.match({ onNone: () => Effect.never, onSome: Effect.succeed })),
    ),
  /** Calls `onWelcome` once, on the first admission of this run. */
  remember: (actor: PeerActorShape, onWelcome: (w: Welcomed) => Effect.Effect<void>): Effect.Effect<void> =>
    admitted(actor).pipe(
      Stream.runHead,
      Effect.flatMap(
        Option.match({
          onNone: () => Effect.void,
          onSome: (a) =>
            Effect.flatMap(Clock.currentTimeMillis, (at) =>
              onWelcome({ server: a.server, role: a.role, at }),
            ),
        }),
      ),
    ),
}
