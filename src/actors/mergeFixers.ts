// src/actors/mergeFixers.ts — the merge queue's mergemaster sessions: a conflict or failing gates go to a
// mergemaster (one session per item, in a FiberMap), and when the session ends the merge runs again, or the
// item is archived when no fix can come. Used by MergeQueue, which gives it the job writes it needs.
import { Cause, Effect, Either, Exit, Fiber, FiberMap, Option, PubSub } from "effect"
import type { MergeJob } from "../domain/MergeJob.js"
import type { StoryId } from "../domain/StoryId.js"
import { Store } from "../layers/Store.js"
import { fitText } from "../layers/runtimes/Runtime.js"
import type { AgentRunResult } from "./agentContract.js"
import type { MergeFixRefused } from "./mergemaster.js"
import type { MergeNews } from "./mergeWaiting.js"
import type { AgentsShape } from "./Scheduler.js"

/** What the fixers need of the queue: its news, its job reads and writes, and its ways to end a merge. */
export interface FixersContext {
  readonly agents: AgentsShape
  readonly boot: number
  readonly news: PubSub.PubSub<MergeNews>
  readonly jobOf: (id: StoryId) => Effect.Effect<Option.Option<MergeJob>>
  /** Writes the job (retried until the database takes it); false when the item is gone. */
  readonly writeJob: (job: MergeJob) => Effect.Effect<boolean>
  /** Archives the item as MergeFailed with `why` and clears its job. */
  readonly fail: (id: StoryId, why: string) => Effect.Effect<void>
  readonly dropIdleJob: (id: StoryId) => Effect.Effect<void>
  /** Queues the merge again, due at once. */
  readonly retry: (id: StoryId) => Effect.Effect<void>
}

/** Bounds what a job keeps of a failure. */
export const failureBytes = 16 * 1024

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

export const makeFixers = (ctx: FixersContext) =>
  Effect.gen(function* () {
    const store = yield* Store
    const scope = yield* Effect.scope
    const { agents, boot, news, jobOf, writeJob, fail, dropIdleJob } = ctx
    // The mergemaster sessions, one per item at most: an entry leaves the map when its fiber ends, and
    // every session still running is interrupted when the queue's scope closes.
    const fixers = yield* FiberMap.make<string, Either.Either<AgentRunResult, MergeFixRefused>>()

    /** A conflict or failing gates: the mergemaster gets it, or past the attempts the item is archived. */
    const attemptFailed = (id: StoryId, why: string, attempts: number, hasMergemaster: boolean) =>
      Effect.gen(function* () {
        const job = yield* jobOf(id)
        if (Option.isNone(job)) return
        const failures = (job.value.failures ?? 0) + 1
        const used = `${failures} of ${attempts} merge attempt${attempts === 1 ? "" : "s"} used`
        if (failures >= attempts) return yield* fail(id, `${why}\n\n(${used})`)
        if (!hasMergemaster)
          return yield* fail(
            id,
            `${why}\n\nNo mergemaster agent is configured to fix it: add one to agents.toml with stage = "mergemaster"`,
          )
        const { commit: _commit, ...rest } = job.value
        const written = yield* writeJob({
          ...rest,
          state: "fixing",
          boot,
          failures,
          lastFailure: fitText(why, failureBytes),
        })
        if (!written) return
        const running = yield* FiberMap.has(fixers, id)
        const next = `${used}: ${running ? "the mergemaster working on it" : "a mergemaster"} fixes the feature branch, and the merge runs again when it calls merge_agent_work or exits`
        yield* PubSub.publish(news, { _tag: "AttemptFailed", storyId: id, why, next })
        if (!running) yield* startFixer(id, why)
      })

    const startFixer = (id: StoryId, why: string): Effect.Effect<void> =>
      Effect.gen(function* () {
        const session = yield* FiberMap.run(fixers, id, Effect.either(agents.fixMerge(id, why)), {
          onlyIfMissing: true,
        })
        // Watched from outside: FiberMap drops the entry as the session ends, before this await resumes, so
        // a merge the end sets off sees no mergemaster running and starts one if it fails again.
        yield* Fiber.await(session).pipe(
          Effect.flatMap(
            Exit.match({
              onSuccess: (ended) => afterFix(id, ended),
              // Interrupted: the queue is stopping (or a session for the item already ran).
              onFailure: (cause) =>
                Cause.isInterruptedOnly(cause)
                  ? Effect.void
                  : Effect.logError(`the mergemaster of ${id}`, cause),
            }),
          ),
          Effect.catchAllCause((cause) => Effect.logError(`after the mergemaster of ${id}`, cause)),
          Effect.forkIn(scope),
        )
      })

    // The merge runs again after any session, unless a person stopped it or no mergemaster could run.
    const afterFix = (id: StoryId, ended: Either.Either<AgentRunResult, MergeFixRefused>) =>
      Effect.gen(function* () {
        const job = yield* jobOf(id)
        const item = yield* Effect.option(store.get(id))
        if (Option.isNone(job) || job.value.state !== "fixing") return
        if (Option.isNone(item) || item.value.stage._tag !== "Merge") return yield* dropIdleJob(id)
        const last = job.value.lastFailure ?? "the merge failed"
        if (Either.isLeft(ended))
          return yield* fail(id, `${last}\n\nNo mergemaster could fix it: ${ended.left.why}`)
        if (ended.right.outcome === "stopped")
          return yield* fail(id, `${last}\n\nThe mergemaster was stopped: ${ended.right.reason}`)
        if (ended.right.outcome === "rateLimited") {
          // Not an attempt: the same fix resumes once the limit resets (a restart re-queues the merge).
          const wait = Math.max(1000, (ended.right.resetAt ?? (yield* now) + 60_000) - (yield* now))
          yield* Effect.logInfo(
            `the mergemaster of ${id} is rate-limited: it resumes in ${Math.ceil(wait / 1000)} s`,
          )
          const resume = Effect.gen(function* () {
            // Unless the merge moved on meanwhile (merge_agent_work, a person) or another fix started.
            const still = yield* jobOf(id)
            if (Option.isSome(still) && still.value.state === "fixing" && !(yield* FiberMap.has(fixers, id)))
              yield* startFixer(id, last)
          })
          yield* resume.pipe(Effect.delay(wait), Effect.forkIn(scope))
          return
        }
        yield* ctx.retry(id as StoryId)
      })

    return { attemptFailed } as const
  })
