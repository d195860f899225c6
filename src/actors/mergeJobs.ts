// src/actors/mergeJobs.ts — the merge queue's writes of its jobs (the Store's `mergeJobs`): a write the
// database refuses is retried until it takes, never dropped, since a lost job write is a merge lock that
// never clears or a merge nobody runs. Also the jobs' startup recovery. Used by MergeQueue and mergeAttempt.
import { Effect, Predicate, Schedule } from "effect"
import type { MergeJob } from "../domain/MergeJob.js"
import type { PersistError } from "../layers/Persistence.js"
import type { Store } from "../layers/Store.js"

/** From 100 ms, doubling, to at most 5 s between tries: the database is back (disk space freed) or the
 * server is stopped; either way nothing else in the pipeline can move meanwhile. */
const persistRetry = Schedule.exponential("100 millis").pipe(Schedule.either(Schedule.spaced("5 seconds")))

const isPersistError = (e: unknown): e is PersistError => Predicate.isTagged(e, "PersistError")

/**
 * Runs `write` until the database takes it: a PersistError is logged and tried again; other failures (the
 * item is gone) are the caller's to handle. Interruptible between tries, so a stopping server is not held.
 */
export const persistently = <A, E, R>(
  what: string,
  write: Effect.Effect<A, E | PersistError, R>,
): Effect.Effect<A, Exclude<E, PersistError>, R> =>
  write.pipe(
    Effect.tapError((e) =>
      isPersistError(e)
        ? Effect.logWarning(`${what}: the database refused the write (${e.message}); trying again`)
        : Effect.void,
    ),
    Effect.retry({ schedule: persistRetry, while: isPersistError }),
    // Never taken (the schedule does not end): it only tells the type that no PersistError is left.
    Effect.catchIf(isPersistError, (e) => Effect.die(e)),
  )

export const withoutBoot = (job: MergeJob): MergeJob => {
  const { boot: _boot, ...rest } = job
  return rest
}

/** At startup: a job another boot was running (or fixing) has nobody working on it now; it runs again. */
export const requeueStaleJobs = (store: Store["Type"], boot: number) =>
  Effect.gen(function* () {
    for (const job of (yield* store.mergeJobs).jobs) {
      if (job.state === "queued" || job.boot === boot) continue
      yield* Effect.logWarning(
        `the merge of ${job.storyId} was ${job.state} when an earlier server stopped: queued again`,
      )
      // Retried: a stale `fixing` job left as it is would wait for a mergemaster that no longer exists.
      yield* persistently(
        `requeueing the merge of ${job.storyId}`,
        store.setMergeJob(withoutBoot({ ...job, state: "queued" })),
      ).pipe(
        // The item was deleted since: Store.delete removed its job too.
        Effect.catchTag("ItemNotFound", () => Effect.void),
      )
    }
  })
