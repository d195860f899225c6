// src/layers/storeCommit.ts — the Store's write path with group commit: writes take turns under one lock,
// each write's Y transactions become rows of the open batch, and a batch (the writes that came while the
// ones before them waited for the disk) goes to SQLite in one transaction. Used by Store.ts.
import { Effect, Either, type Exit, PubSub } from "effect"
import * as Y from "yjs"
import type { AppendRow, PersistenceShape, PersistError } from "./Persistence.js"
import type { HistoryChange, HistoryDocument } from "./storeHistory.js"
import { type CommittedUpdate, localOrigin, type UpdateOrigin } from "./storeSync.js"
import type { StoreEvent } from "./storeTypes.js"

export interface CommitParts {
  readonly doc: () => Y.Doc
  readonly persistence: PersistenceShape
  readonly history: HistoryDocument
  readonly events: PubSub.PubSub<StoreEvent>
  readonly updates: PubSub.PubSub<CommittedUpdate>
  /** A batch is on disk: the last state update's sequence number (if any) and how many it held. */
  readonly saved: (lastSeq: number | undefined, count: number) => Effect.Effect<void>
  /** Memory went ahead of the disk: throw the document away and reload what is durable. */
  readonly restore: Effect.Effect<void>
}

/** The rows, updates and events of the writes that wait for one SQLite transaction. */
interface Batch {
  readonly rows: Array<AppendRow>
  readonly fed: Array<CommittedUpdate>
  readonly events: Array<StoreEvent>
  stateRows: number
  /** Undefined until the batch is written (or refused) and its events published. */
  outcome: Either.Either<void, PersistError> | undefined
}

/** One write: the batch it put rows or events into, and a failure of an earlier batch it joined. */
interface Ticket {
  joined: Batch | undefined
  failure: PersistError | undefined
}

const written: Either.Either<void, PersistError> = Either.void

export const storeCommit = (parts: CommitParts) => {
  const { persistence, history } = parts
  // Only the fiber holding `lock` touches the document, `open` and `current`; a batch's outcome is set
  // under the lock too, after its events are published, so a write never resolves before its events.
  const lock = Effect.unsafeMakeSemaphore(1)
  let open: Batch | undefined
  let current: Ticket | undefined

  const join = (ticket: Ticket): Batch => {
    if (open === undefined) open = { rows: [], fed: [], events: [], stateRows: 0, outcome: undefined }
    if (ticket.joined !== open) {
      const before = ticket.joined?.outcome
      if (before !== undefined && Either.isLeft(before)) ticket.failure ??= before.left
      ticket.joined = open
    }
    return open
  }

  /** Writes the open batch in one transaction (under the lock); on failure reloads the disk's state. */
  const flush: Effect.Effect<void> = Effect.suspend(() => {
    const batch = open
    if (batch === undefined) return Effect.void
    open = undefined
    const result = batch.rows.length === 0 ? Either.right(undefined) : persistence.appendBatch(batch.rows)
    if (Either.isLeft(result)) {
      history.forget()
      return parts.restore.pipe(
        Effect.tap(() =>
          Effect.sync(() => {
            batch.outcome = Either.left(result.left)
          }),
        ),
      )
    }
    return parts.saved(result.right, batch.stateRows).pipe(
      Effect.zipRight(history.due() ? history.compact : Effect.void),
      Effect.zipRight(batch.fed.length === 0 ? Effect.void : PubSub.publishAll(parts.updates, batch.fed)),
      Effect.zipRight(
        batch.events.length === 0 ? Effect.void : PubSub.publishAll(parts.events, batch.events),
      ),
      Effect.tap(() =>
        Effect.sync(() => {
          batch.outcome = written
        }),
      ),
    )
  })

  const flushIfOpen = (batch: Batch) =>
    Effect.suspend(() => (batch.outcome === undefined ? flush : Effect.void))

  /**
   * Waits until `batch` is written, writing it if no other write has. It first lets the fibers ready to
   * run take their turns, so the writes that came together go to disk together.
   */
  const settle = (batch: Batch): Effect.Effect<void> =>
    batch.outcome !== undefined
      ? Effect.void
      : Effect.zipRight(
          Effect.yieldNow(),
          // Under the lock an unwritten batch is the open one: a batch is written whole under the lock.
          Effect.suspend(() =>
            batch.outcome === undefined ? lock.withPermits(1)(flushIfOpen(batch)) : Effect.void,
          ),
        )

  /**
   * Runs `effect` holding the write lock, then resolves once every row it committed is on disk, after
   * its events are published. When that batch fails the write fails with its PersistError: a write
   * can only join a batch through `commit`, whose PersistError is therefore already in `E`.
   */
  const write = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.uninterruptibleMask((restore) => {
      const ticket: Ticket = { joined: undefined, failure: undefined }
      const held = lock.withPermits(1)(
        Effect.suspend(() => {
          current = ticket
          return Effect.exit(restore(effect)).pipe(
            Effect.tap(() => {
              current = undefined
            }),
          )
        }),
      )
      return held.pipe(
        Effect.flatMap((exit: Exit.Exit<A, E>) => {
          const joined = ticket.joined
          if (joined === undefined) return exit
          return Effect.flatMap(settle(joined), () => {
            const outcome = joined.outcome
            const failure =
              ticket.failure ?? (outcome !== undefined && Either.isLeft(outcome) ? outcome.left : undefined)
            return failure === undefined ? exit : Effect.fail(failure as E)
          })
        }),
      )
    })

  /**
   * Runs `mutate` in one Y transaction and adds its update (with the history's `change`, in the same
   * row) to the open batch, fed to `updates` as `origin`'s once on disk. Called inside `write`.
   */
  const commit = <A>(
    mutate: () => A,
    change?: HistoryChange,
    origin: UpdateOrigin = localOrigin,
  ): Effect.Effect<A, PersistError> =>
    Effect.suspend((): Effect.Effect<A, PersistError> => {
      const ticket = current
      // Outside a write: it takes its own turn.
      if (ticket === undefined) return write(commit(mutate, change, origin))
      const staged = Effect.suspend(() => stage(ticket, mutate, change, origin))
      // The history is loaded before the state changes, so a history that cannot be read changes nothing.
      return change === undefined ? staged : Effect.zipRight(history.ready, staged)
    })

  const stage = <A>(
    ticket: Ticket,
    mutate: () => A,
    change: HistoryChange | undefined,
    origin: UpdateOrigin,
  ): Effect.Effect<A> => {
    const doc = parts.doc()
    const captured: Array<Uint8Array> = []
    const onUpdate = (update: Uint8Array) => captured.push(update)
    doc.on("update", onUpdate)
    let result: A
    try {
      result = doc.transact(mutate)
    } catch (defect) {
      doc.off("update", onUpdate)
      // The other writes' rows are sound: save them, then drop this half-made change from memory.
      return flush.pipe(Effect.zipRight(parts.restore), Effect.zipRight(Effect.die(defect)))
    }
    doc.off("update", onUpdate)
    const update = captured.length <= 1 ? captured[0] : Y.mergeUpdates(captured)
    const historyUpdate = change === undefined ? undefined : history.stage(change)
    if (update !== undefined || historyUpdate !== undefined) {
      const batch = join(ticket)
      batch.rows.push({ update, history: historyUpdate })
      if (update !== undefined) {
        batch.stateRows++
        batch.fed.push({ update, origin })
      }
    }
    return Effect.succeed(result)
  }

  /** Inside a write: published once the write's batch is on disk, in write order. */
  const publish = (event: StoreEvent): Effect.Effect<boolean> =>
    Effect.suspend(() => {
      const ticket = current
      if (ticket === undefined) return PubSub.publish(parts.events, event)
      join(ticket).events.push(event)
      return Effect.succeed(true)
    })

  return { write, commit, publish, flush } as const
}
