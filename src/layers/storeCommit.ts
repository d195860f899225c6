// src/layers/storeCommit.ts — the Store's write path with group commit: writes take turns under one lock,
// their Y transactions become rows of the open batch (`writeNow` bodies waiting together share one), and a
// batch (what joins while its opener gives up its turn once) is one SQLite transaction. Used by Store.ts.
import { Effect, Either, type Exit, PubSub } from "effect"
import * as Y from "yjs"
import type { PersistenceShape, PersistError } from "./Persistence.js"
import type { HistoryChange, HistoryDocument } from "./storeHistory.js"
import { writeLock } from "./storeLock.js"
import { type CommittedUpdate, localOrigin, type UpdateOrigin } from "./storeSync.js"
import type { StoreEvent } from "./storeTypes.js"

export interface CommitParts {
  readonly doc: () => Y.Doc
  readonly persistence: PersistenceShape
  readonly history: HistoryDocument
  readonly events: PubSub.PubSub<StoreEvent>
  readonly updates: PubSub.PubSub<CommittedUpdate>
  /**
   * A batch is on disk: the last state update's sequence number (if any) and how many it held. Returns
   * the compaction to run now, if one is due.
   */
  readonly saved: (lastSeq: number | undefined, count: number) => Effect.Effect<void> | undefined
  /** Memory went ahead of the disk: throw the document away and reload what is durable. */
  readonly restore: Effect.Effect<void>
}

/** The rows and events of the writes that wait for one SQLite transaction. */
interface Batch {
  /** Each row is also what the update feed carries once it is on disk (with its origin). */
  readonly rows: Array<CommittedUpdate>
  readonly events: Array<StoreEvent>
  stateRows: number
  /** Undefined until the batch is written (or refused) and its events published. */
  outcome: Either.Either<void, PersistError> | undefined
  /** The write that opened the batch: it writes the batch after giving up its turn once. */
  readonly opener: Ticket
  /** Wakes the other writes in it, once `outcome` is set. */
  waiting: Array<() => void>
}

/** One write: the batch it put rows or events into, and a failure of an earlier batch it joined. */
interface Ticket {
  joined: Batch | undefined
  failure: PersistError | undefined
}

/**
 * The opener's one turn given up, so the writes ready to run join its batch. A microtask rather than
 * `Effect.yieldNow`: a fiber that only ever yields (a writer whose batch never waits for another) runs
 * deeper and deeper on its scheduler, which falls back to a timer (1 ms or more) every 2,048 yields.
 */
const giveUpTurn: Effect.Effect<void> = Effect.async<void>((resume) => {
  queueMicrotask(() => resume(Effect.void))
})

const published = Effect.succeed(true)
const written: Either.Either<void, PersistError> = Either.void
const noRows: Either.Either<number | undefined, PersistError> = Either.right(undefined)

export const storeCommit = (parts: CommitParts) => {
  const { persistence, history } = parts
  // Only the fiber holding the lock touches the document, `open` and `current`; a batch's outcome is set
  // under the lock too, after its events are published, so a write never resolves before its events.
  // The lock is taken and given back only in uninterruptible regions (write, settle), so a waiter is
  // never interrupted and the lock is handed over, first come first served, never lost.
  const { tryTake, whenFree, acquire, release, locked, held } = writeLock()

  let open: Batch | undefined
  let current: Ticket | undefined

  const join = (ticket: Ticket): Batch => {
    if (open === undefined)
      open = { rows: [], events: [], stateRows: 0, outcome: undefined, opener: ticket, waiting: [] }
    if (ticket.joined !== open) {
      const before = ticket.joined?.outcome
      if (before !== undefined && Either.isLeft(before)) ticket.failure ??= before.left
      ticket.joined = open
    }
    return open
  }

  /** Sets the batch's outcome (under the lock, after its events are published) and wakes its writes. */
  const settled = (batch: Batch, outcome: Either.Either<void, PersistError>): void => {
    batch.outcome = outcome
    const waiting = batch.waiting
    batch.waiting = []
    for (const wake of waiting) wake()
  }

  /** Writes the open batch in one transaction (under the lock); on failure reloads the disk's state. */
  const flush: Effect.Effect<void> = Effect.suspend(() => {
    const batch = open
    if (batch === undefined) return Effect.void
    open = undefined
    const result = batch.rows.length === 0 ? noRows : persistence.appendBatch(batch.rows)
    if (Either.isLeft(result)) {
      history.forget()
      // Its writes fail even if the reload dies: none of them may wait forever.
      return Effect.ensuring(
        parts.restore,
        Effect.sync(() => settled(batch, Either.left(result.left))),
      )
    }
    const compaction = parts.saved(result.right, batch.stateRows)
    // The bus is unbounded: an offer always succeeds, in order, and wakes the subscribers.
    for (const row of batch.rows) parts.updates.unsafeOffer(row)
    for (const event of batch.events) parts.events.unsafeOffer(event)
    settled(batch, written)
    const historyCompaction = history.due() ? history.compact : undefined
    if (compaction === undefined) return historyCompaction ?? Effect.void
    return historyCompaction === undefined ? compaction : Effect.zipRight(compaction, historyCompaction)
  })

  /** What a write that joined `batch` resolves to once the batch is written: `done`, or the batch's failure. */
  const outcomeOf = <A, E>(
    ticket: Ticket,
    batch: Batch,
    done: Effect.Effect<A, E>,
  ): Effect.Effect<A, E | PersistError> => {
    const outcome = batch.outcome
    const failure =
      ticket.failure ?? (outcome !== undefined && Either.isLeft(outcome) ? outcome.left : undefined)
    return failure === undefined ? done : Either.left(failure)
  }

  /**
   * Resolves as `done` once `batch` is written (and its events published), or fails as the batch did. The
   * write that opened it first gives the writes ready to run their turn to join it, then writes it if
   * nothing else has; the others wait to be woken. Under the lock an unwritten batch is the open one: a
   * batch is written whole under the lock.
   */
  const durable = <A, E>(
    ticket: Ticket,
    batch: Batch,
    done: Effect.Effect<A, E>,
  ): Effect.Effect<A, E | PersistError> => {
    if (batch.outcome !== undefined) return outcomeOf(ticket, batch, done)
    if (batch.opener === ticket)
      return Effect.zipRight(
        giveUpTurn,
        Effect.suspend(() =>
          batch.outcome === undefined
            ? Effect.zipRight(
                locked(flushIfOpen(batch)),
                Effect.suspend(() => outcomeOf(ticket, batch, done)),
              )
            : outcomeOf(ticket, batch, done),
        ),
      )
    return Effect.async<A, E | PersistError>((resume) => {
      // The fiber may have yielded before it got here: the batch can be written already.
      if (batch.outcome !== undefined) resume(outcomeOf(ticket, batch, done))
      else batch.waiting.push(() => resume(outcomeOf(ticket, batch, done)))
    })
  }
  const flushIfOpen = (batch: Batch) =>
    Effect.suspend(() => (batch.outcome === undefined ? flush : Effect.void))

  /**
   * Runs `effect` holding the write lock, then resolves once every row it committed is on disk, after
   * its events are published. When that batch fails the write fails with its PersistError: a write
   * can only join a batch through `commit`, whose PersistError is therefore already in `E`.
   */
  const write = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.uninterruptibleMask((restore) => {
      const ticket: Ticket = { joined: undefined, failure: undefined }
      return Effect.flatMap(acquire, () => {
        current = ticket
        return Effect.flatMap(Effect.exit(restore(effect)), (exit: Exit.Exit<A, E>) => {
          current = undefined
          release()
          const joined = ticket.joined
          // A write joins a batch only through `commit`, so PersistError is already in E.
          return joined === undefined ? exit : (durable(ticket, joined, exit) as Effect.Effect<A, E>)
        })
      })
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

  // One listener per document, collecting while a commit runs (the document is replaced on restore).
  let listened: Y.Doc | undefined
  // A Y transaction makes one update; more only when an observer's change follows it in the same commit.
  let capturing = false
  let captured: Uint8Array | undefined
  let capturedMore: Array<Uint8Array> | undefined
  const onUpdate = (update: Uint8Array) => {
    if (!capturing) return
    if (captured === undefined) captured = update
    else (capturedMore ??= [captured]).push(update)
  }

  /** `mutate` in one Y transaction, its rows into the ticket's batch; throws what `mutate` throws. */
  const stageNow = <A>(
    ticket: Ticket,
    mutate: () => A,
    change: HistoryChange | undefined,
    origin: UpdateOrigin,
  ): A => {
    const doc = parts.doc()
    if (doc !== listened) {
      doc.on("update", onUpdate)
      listened = doc
    }
    captured = undefined
    capturedMore = undefined
    capturing = true
    let result: A
    try {
      result = doc.transact(mutate)
    } finally {
      capturing = false
    }
    const update = capturedMore === undefined ? captured : Y.mergeUpdates(capturedMore)
    const historyUpdate = change === undefined ? undefined : history.stage(change)
    if (update !== undefined || historyUpdate !== undefined) {
      const batch = join(ticket)
      // The history's update is fed with the state's (a peer's may come alone): peers get both, in order.
      batch.rows.push({ update, history: historyUpdate, origin })
      if (update !== undefined) batch.stateRows++
    }
    return result
  }

  // The other writes' rows are sound: save them, then drop the half-made change from memory.
  const dropHalfMade = (defect: unknown) =>
    flush.pipe(Effect.zipRight(parts.restore), Effect.zipRight(Effect.die(defect)))

  const stage = <A>(
    ticket: Ticket,
    mutate: () => A,
    change: HistoryChange | undefined,
    origin: UpdateOrigin,
  ): Effect.Effect<A> => {
    try {
      return Effect.succeed(stageNow(ticket, mutate, change, origin))
    } catch (defect) {
      return dropHalfMade(defect)
    }
  }

  /** A `writeNow` waiting for its group's turn, and how to hand its fiber what to resolve as. */
  interface Queued {
    readonly body: () => Either.Either<unknown, unknown>
    readonly resume: (effect: Effect.Effect<unknown, unknown>) => void
  }
  // The `writeNow` bodies ready to run together; the first one queued asks for the lock.
  let queued: Array<Queued> = []
  // True while a group's bodies run in its one Y transaction: `commitNow` mutates in place.
  let grouped = false

  /**
   * A write whose body runs no Effect (the hot path of content edits): it may call `commitNow` and
   * `publishNow`, and resolves as `write` does. The bodies queued while the lock is busy or before the
   * first of them gets it run together, in order, in ONE Y transaction (one update, one row: Yjs encodes
   * once per group, not once per write). A body validates before it mutates, so one that returns a
   * failure changes nothing and the others are unaffected; one that throws drops the group's change, and
   * each of its writes runs again alone.
   */
  const writeNow = <A, E>(body: () => Either.Either<A, E>): Effect.Effect<A, E | PersistError> =>
    Effect.uninterruptible(
      Effect.suspend(() => {
        // Nothing to join: it runs now and opens the batch the writes behind it join as one group.
        if (!held() && open === undefined && queued.length === 0 && tryTake()) return runNow(body)
        return Effect.async<A, E | PersistError>((resume) => {
          queued.push({ body, resume: resume as Queued["resume"] })
          if (queued.length === 1) queueMicrotask(() => whenFree(runGroup))
        })
      }),
    )

  /** Runs the queued bodies (holding the lock, which it gives back) and hands each fiber its outcome. */
  const runGroup = (): void => {
    const group = queued
    queued = []
    if (group.length === 1) {
      const [only] = group
      only!.resume(runNow(only!.body))
      return
    }
    const before = open
    const eventsBefore = before?.events.length ?? 0
    const ticket: Ticket = { joined: undefined, failure: undefined }
    const results: Array<Either.Either<unknown, unknown>> = []
    current = ticket
    grouped = true
    try {
      stageNow(
        ticket,
        () => {
          for (const { body } of group) results.push(body())
        },
        undefined,
        localOrigin,
      )
    } catch {
      // The defect is not lost: each write runs again alone below, and the one that threw throws again
      // (and dies with it) or, if it no longer throws, was never acknowledged and now is.
      grouped = false
      current = undefined
      // Nothing of the group is in a batch: its row was never staged; drop the events it queued.
      if (before === undefined) open = undefined
      else before.events.length = eventsBefore
      const redo = Effect.ensuring(Effect.zipRight(flush, parts.restore), Effect.sync(release))
      group.forEach(({ body, resume }, k) =>
        resume(k === 0 ? Effect.zipRight(redo, writeAlone(body)) : writeAlone(body)),
      )
      return
    }
    grouped = false
    current = undefined
    release()
    const batch = ticket.joined
    group.forEach(({ resume }, k) => {
      const result = results[k]!
      if (batch === undefined) resume(result)
      else if (k === 0) resume(durable(ticket, batch, result))
      // The others wait for the batch the first one writes (or another write opened).
      else resume(durable({ joined: batch, failure: ticket.failure }, batch, result))
    })
  }

  /** One `writeNow` body in a transaction of its own, taking its own turn. */
  const writeAlone = <A, E>(body: () => Either.Either<A, E>): Effect.Effect<A, E | PersistError> =>
    Effect.uninterruptible(
      Effect.suspend(() => {
        return tryTake() ? runNow(body) : Effect.flatMap(acquire, () => runNow(body))
      }),
    )

  const runNow = <A, E>(body: () => Either.Either<A, E>): Effect.Effect<A, E | PersistError> => {
    const ticket: Ticket = { joined: undefined, failure: undefined }
    current = ticket
    let result: Either.Either<A, E>
    try {
      result = body()
    } catch (defect) {
      current = undefined
      return Effect.ensuring(dropHalfMade(defect), Effect.sync(release))
    }
    current = undefined
    release()
    const joined = ticket.joined
    return joined === undefined ? result : durable(ticket, joined, result)
  }

  /** `commit` inside `writeNow`'s body, without a history change. */
  const commitNow = <A>(mutate: () => A): A => {
    if (current === undefined) throw new Error("commitNow outside writeNow")
    // In a group: inside its one transaction already, whose update `runGroup` stages.
    if (grouped) return mutate()
    return stageNow(current, mutate, undefined, localOrigin)
  }

  /**
   * Adds `event` to the batch's. A ContentChanged right after the same item's ContentChanged says nothing
   * new (both are published at once, after both changes): edits typed into one item in flight together
   * make one event per batch, so a subscriber reads that content once, not once per keystroke.
   */
  const queue = (batch: Batch, event: StoreEvent): void => {
    const last = batch.events.at(-1)
    if (event._tag === "ContentChanged" && last?._tag === "ContentChanged" && last.id === event.id) return
    batch.events.push(event)
  }

  /** `publish` inside `writeNow`'s body. */
  const publishNow = (event: StoreEvent): void => {
    if (current === undefined) throw new Error("publishNow outside writeNow")
    queue(join(current), event)
  }

  /** Inside a write: published once the write's batch is on disk, in write order. */
  const publish = (event: StoreEvent): Effect.Effect<boolean> =>
    Effect.suspend(() => {
      const ticket = current
      if (ticket === undefined) return PubSub.publish(parts.events, event)
      queue(join(ticket), event)
      return published
    })

  return { write, commit, publish, flush, writeNow, commitNow, publishNow } as const
}
