// src/actors/MergeQueue.ts — the project's merge queue: items in Merge are squash-merged one at a time, in
// the order they arrived, in a merge workspace at the base tip; the gates run there; the base branch moves
// by compare-and-swap; the item becomes Done and its worktree and branch go. A conflict or failing gates go
// to a mergemaster agent, which fixes the feature branch; then the merge runs again, up to `[merge]
// attempts`. Jobs live in the Store, stamped with the boot that runs them.
import { NodeFileSystem } from "@effect/platform-node"
import { Deferred, Effect, Either, Fiber, Layer, Option, PubSub, Queue, Ref } from "effect"
import type { MergeJob } from "../domain/MergeJob.js"
import type { StoryId } from "../domain/StoryId.js"
import { describeStage } from "../domain/transition.js"
import { loadConfig } from "../layers/Config.js"
import { Git } from "../layers/Git.js"
import { Project } from "../layers/Project.js"
import { Store } from "../layers/Store.js"
import { fitText } from "../layers/runtimes/Runtime.js"
import {
  attemptMerge,
  baseProblem,
  preflight,
  requeueStaleJobs,
  squashMessage,
  withoutBoot,
} from "./mergeAttempt.js"
import { sweepDone } from "./doneSweep.js"
import { Agents } from "./Scheduler.js"
import {
  MergeQueue,
  type MergeQueueShape,
  type CurrentMerge,
  type MergeNews,
  MergeRefused,
  type MergeResult,
  waitForEnd,
  waitForNews,
} from "./mergeWaiting.js"

export { MergeQueue, MergeRefused } from "./mergeWaiting.js"
export type { CurrentMerge, MergeQueueShape, MergeResult } from "./mergeWaiting.js"

/** Times the base may move under a merge before the merge gives up and says so. */
const maxBaseRaces = 3
const failureBytes = 16 * 1024
/** How soon a paused queue (a config file it cannot read, a dirty checkout of the base) looks again. */
const pauseRetryMillis = 10_000

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

const makeMergeQueue = Effect.gen(function* () {
  const store = yield* Store
  const git = yield* Git
  const agents = yield* Agents
  const root = (yield* Project).root
  const boot = (yield* Project).startedAt
  const scope = yield* Effect.scope
  const wake = yield* Queue.sliding<void>(1)
  const news = yield* PubSub.unbounded<MergeNews>()
  const current = yield* Ref.make(Option.none<CurrentMerge>())
  const paused = yield* Ref.make(Option.none<{ readonly why: string; readonly since: number }>())
  const fixers = yield* Ref.make(new Map<string, Fiber.RuntimeFiber<void>>())
  // Held by a merge attempt and by reportFailure, so a failure is never recorded under a landing merge.
  const attemptLock = yield* Effect.makeSemaphore(1)
  const readConfig = loadConfig(root).pipe(Effect.provide(NodeFileSystem.layer))

  const jobOf = (id: string) =>
    Effect.map(store.mergeJobs, (r) => Option.fromNullable(r.jobs.find((j) => j.storyId === id)))

  /** Queues the item's merge. An existing job keeps its place and what it recorded; with `now`, a job
   * waiting for a mergemaster's fix is due again at once (the fix is committed, or the session ended). */
  const enqueue = (id: StoryId, options: { readonly now?: boolean } = {}) =>
    Effect.gen(function* () {
      const job = yield* jobOf(id)
      if (Option.isNone(job))
        yield* (
          store
            .setMergeJob({ storyId: id, state: "queued", enqueuedAt: yield* now })
            // Refused only if the item was deleted meanwhile: then there is nothing to merge.
            .pipe(Effect.ignore)
        )
      else if (options.now === true && job.value.state === "fixing")
        yield* store.setMergeJob(withoutBoot({ ...job.value, state: "queued" })).pipe(Effect.ignore)
      yield* Queue.offer(wake, undefined)
    })

  const dropIdleJob = (id: string) =>
    Effect.flatMap(jobOf(id), (job) =>
      Option.isSome(job) && job.value.state !== "running"
        ? store.clearMergeJob(id).pipe(Effect.ignore)
        : Effect.void,
    )

  const progress = (id: string) => (message: string) =>
    Effect.gen(function* () {
      yield* Ref.set(current, Option.some({ storyId: id, step: message, since: yield* now }))
      yield* PubSub.publish(news, { _tag: "Progress", storyId: id, message })
    })

  const fail = (id: string, why: string) =>
    Effect.gen(function* () {
      yield* Effect.logWarning(`merge of ${id} failed: ${why}`)
      yield* store
        .apply(id, { _tag: "MergeFailed", why: fitText(why, failureBytes), at: yield* now })
        .pipe(Effect.catchAll((e) => Effect.logWarning(`could not record the failed merge: ${e.message}`)))
      yield* store.clearMergeJob(id)
    })

  const landed = (id: string, commit: string) =>
    Effect.gen(function* () {
      const at = yield* now
      yield* store
        .apply(id, { _tag: "Merged", mergeCommit: commit, mergedAt: at, at })
        .pipe(
          Effect.catchAll((e) =>
            Effect.logWarning(`merged, but the item could not be marked Done: ${e.message}`),
          ),
        )
      // Done: the work is on the base branch, so its worktree and feature branch have served their turn.
      yield* git
        .removeWorktree(root, id, { deleteBranch: true })
        .pipe(Effect.catchAll((e) => Effect.logWarning(`worktree of ${id} not removed: ${e.message}`)))
      yield* store.clearMergeJob(id)
      yield* Effect.logInfo(`${id} merged as ${commit.slice(0, 12)}`)
    })

  /** A conflict or failing gates: the mergemaster gets it, or past the attempts the item is archived. */
  const attemptFailed = (id: string, why: string, attempts: number, hasMergemaster: boolean) =>
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
      yield* store.setMergeJob({
        ...rest,
        state: "fixing",
        boot,
        failures,
        lastFailure: fitText(why, failureBytes),
      })
      const running = (yield* Ref.get(fixers)).has(id)
      const next = `${used}: ${running ? "the mergemaster working on it" : "a mergemaster"} fixes the feature branch, and the merge runs again when it calls merge_agent_work or exits`
      yield* PubSub.publish(news, { _tag: "AttemptFailed", storyId: id, why, next })
      if (!running) yield* startFixer(id, why)
    })

  const startFixer = (id: string, why: string): Effect.Effect<void> =>
    Effect.gen(function* () {
      // Registered before it runs, so one that ends at once is not left in the map as if it ran.
      const registered = yield* Deferred.make<void>()
      const fiber = yield* Deferred.await(registered).pipe(
        Effect.zipRight(agents.fixMerge(id, why)),
        Effect.either,
        Effect.flatMap((ended) => afterFix(id, ended)),
        Effect.catchAllCause((cause) => Effect.logError(`after the mergemaster of ${id}`, cause)),
        Effect.ensuring(
          Ref.update(fixers, (m) => {
            const next = new Map(m)
            next.delete(id)
            return next
          }),
        ),
        Effect.forkIn(scope),
      )
      yield* Ref.update(fixers, (m) => new Map(m).set(id, fiber))
      yield* Deferred.succeed(registered, undefined)
    })

  // The merge runs again after any session, unless a person stopped it or no mergemaster could run.
  const afterFix = (
    id: string,
    ended: Either.Either<{ outcome: string; reason: string; resetAt?: number }, { why: string }>,
  ) =>
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
          if (Option.isSome(still) && still.value.state === "fixing" && !(yield* Ref.get(fixers)).has(id))
            yield* startFixer(id, last)
        })
        yield* resume.pipe(Effect.delay(wait), Effect.forkIn(scope))
        return
      }
      yield* enqueue(id as StoryId, { now: true })
    })

  const runJob = (job: MergeJob) =>
    Effect.gen(function* () {
      const id = job.storyId
      const item = yield* Effect.either(store.get(id))
      if (Either.isLeft(item) || item.right.stage._tag !== "Merge") return yield* store.clearMergeJob(id)
      const stage = item.right.stage
      const config = yield* Effect.either(readConfig)
      // Not the item's fault: the job stays queued, and the queue looks again a little later.
      if (Either.isLeft(config)) return yield* pause(job, config.left.message)
      const settings = config.right.project
      const base = settings.baseBranch
      // A merge that moved the base before the server died: it landed, only the bookkeeping is missing.
      // Its own commit must be on the base: the same change landed some other way is not this merge.
      if (job.commit !== undefined) {
        const onBase = yield* git.baseContains(root, base, job.commit).pipe(Effect.orElseSucceed(() => false))
        if (onBase) {
          // Killed between moving the base and updating the checkouts of it: finish that too.
          const caughtUp = yield* git
            .catchUpCheckouts(root, base, `${job.commit}^`, job.commit)
            .pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
          for (const path of caughtUp) yield* Effect.logInfo(`${path} brought to ${job.commit.slice(0, 12)}`)
          // The killed attempt's workspace (every other attempt removes its own).
          yield* git.removeMergeWorkspace(root, id).pipe(Effect.ignore)
          return yield* landed(id, job.commit)
        }
      }
      const ready = yield* preflight({ root, base, featureBranch: stage.featureBranch })
      if (ready._tag === "AttemptFailed") return yield* fail(id, ready.why)
      // Found before the squash and the gates, so a paused queue does not run them again and again.
      const waitFor = yield* baseProblem(root, base, settings.merge.updateCheckout)
      if (waitFor !== undefined) return yield* pause(job, waitFor)
      yield* Ref.set(paused, Option.none())
      yield* store.setMergeJob({ ...job, state: "running", boot })
      const message = squashMessage(
        yield* store.content(id).pipe(Effect.orElseSucceed(() => "")),
        id,
        stage.featureBranch,
        ready.commitsAhead,
      )
      for (let race = 0; race < maxBaseRaces; race++) {
        const outcome = yield* attemptMerge({
          root,
          storyId: id,
          base,
          featureBranch: stage.featureBranch,
          message,
          testCommand: settings.commands.test,
          gatesTimeoutSecs: settings.gatesTimeoutSecs,
          progress: progress(id),
          stillWanted: Effect.map(
            Effect.either(store.get(id)),
            (i) => Either.isRight(i) && i.right.stage._tag === "Merge",
          ),
          // Also when interrupted (the server stopping): the workspace holds nothing worth keeping.
        }).pipe(Effect.ensuring(git.removeMergeWorkspace(root, id).pipe(Effect.ignore)))
        if (outcome._tag === "Landed") return yield* landed(id, outcome.commit)
        if (outcome._tag === "BaseBusy") return yield* pause(job, outcome.why)
        if (outcome._tag === "AttemptFailed") {
          if (!outcome.fixable) return yield* fail(id, outcome.why)
          const hasMergemaster = config.right.agents.some((a) => a.stage === "mergemaster")
          return yield* attemptFailed(id, outcome.why, settings.merge.attempts, hasMergemaster)
        }
        yield* Effect.logInfo(`${base} moved while ${id} was merging: merging again on the new tip`)
      }
      return yield* fail(
        id,
        `${base} kept moving while ${id} was merging (${maxBaseRaces} tries): merge it again when it is quiet`,
      )
    }).pipe(Effect.ensuring(Ref.set(current, Option.none())), Effect.annotateLogs({ storyId: job.storyId }))

  /** Not the item's fault: its job keeps its place, merges wait, and the queue looks again later. */
  const pause = (job: MergeJob, why: string) =>
    Effect.gen(function* () {
      const before = yield* Ref.get(paused)
      if (Option.isNone(before) || before.value.why !== why) yield* Effect.logWarning(`merges wait: ${why}`)
      yield* Ref.set(
        paused,
        Option.some({ why, since: Option.isSome(before) ? before.value.since : yield* now }),
      )
      yield* store.setMergeJob(withoutBoot({ ...job, state: "queued" })).pipe(Effect.ignore)
      yield* PubSub.publish(news, { _tag: "Progress", storyId: job.storyId, message: `waiting: ${why}` })
      return "paused" as const
    })

  const worker = Effect.forever(
    Effect.gen(function* () {
      yield* Queue.take(wake)
      for (;;) {
        // Jobs waiting for a mergemaster's fix keep their place but do not hold up the ones behind them.
        const next = (yield* store.mergeJobs).jobs.find((j) => j.state !== "fixing")
        if (next === undefined) break
        const ran = yield* runJob(next).pipe(
          attemptLock.withPermits(1),
          Effect.catchAllCause((cause) =>
            Effect.logError("merge crashed", cause).pipe(
              Effect.zipRight(fail(next.storyId, "huskies failed while merging: see server_logs")),
            ),
          ),
        )
        if (ran === "paused") {
          yield* Queue.offer(wake, undefined).pipe(Effect.delay(pauseRetryMillis), Effect.forkIn(scope))
          break
        }
      }
    }),
  )

  // ------------------------------------------------------------------------------------------ the API

  const merge = (id: string, onProgress: (message: string) => Effect.Effect<void>) =>
    Effect.scoped(
      Effect.gen(function* () {
        const refuse = (why: string) => new MergeRefused({ storyId: id, why })
        const item = yield* store.get(id).pipe(Effect.mapError((e) => refuse(e.message)))
        if (item.stage._tag === "Done")
          return { _tag: "Merged", commit: item.stage.mergeCommit, item } satisfies MergeResult
        if (item.stage._tag !== "Merge")
          return yield* refuse(
            `it is in ${describeStage(item.stage)}; only items in Merge are merged (approve_qa or accept_story moves an item from QA to Merge)`,
          )
        // Subscribed before queueing, so neither the end nor a step can pass unseen.
        const updates = yield* PubSub.subscribe(news)
        const changes = yield* store.subscribe
        yield* enqueue(item.id, { now: true })
        const ahead = (yield* store.mergeJobs).jobs.filter((j) => j.state !== "fixing")
        const position = ahead.findIndex((j) => j.storyId === id)
        if (position > 0) yield* onProgress(`queued: ${position} merge${position === 1 ? "" : "s"} ahead`)
        return yield* Effect.raceFirst(waitForNews(id, updates, onProgress), waitForEnd(id, changes))
      }),
    )

  const reportFailure = (id: string, why: string) =>
    Effect.gen(function* () {
      const refuse = (reason: string) => new MergeRefused({ storyId: id, why: reason })
      const item = yield* store.get(id).pipe(Effect.mapError((e) => refuse(e.message)))
      if (item.stage._tag !== "Merge")
        return yield* refuse(
          `it is in ${describeStage(item.stage)}; a merge failure is reported for items in Merge`,
        )
      const job = yield* jobOf(id)
      const last = Option.flatMap(job, (j) => Option.fromNullable(j.lastFailure))
      const text = Option.match(last, {
        onNone: () => why,
        onSome: (l) => `${why}\n\nThe last merge attempt: ${l}`,
      })
      const after = yield* store
        .apply(id, { _tag: "MergeFailed", why: fitText(text, failureBytes), at: yield* now })
        .pipe(Effect.mapError((e) => refuse(e.message)))
      yield* store.clearMergeJob(id).pipe(Effect.ignore)
      return after
      // Waits for a running attempt: if that lands, the item is Done and the report is refused.
    }).pipe(attemptLock.withPermits(1))

  // ---------------------------------------------------------------------------------------- startup

  yield* requeueStaleJobs(store, boot)
  // Subscribed before looking, so an item entering Merge in between is not missed.
  const changes = yield* store.subscribe
  const { items } = yield* store.list
  for (const item of items) if (item.stage._tag === "Merge") yield* enqueue(item.id)
  yield* Effect.forkScoped(
    Effect.forever(
      Effect.flatMap(Queue.take(changes), (event) => {
        if (event._tag !== "ItemChanged") return Effect.void
        const [was, is] = [event.before.stage._tag, event.after.stage._tag]
        if (is === "Merge" && was !== "Merge") return enqueue(event.after.id)
        // Moved out by a person: a job waiting its turn or a fix has nothing left to do (a running one
        // sees the move itself before the base moves).
        if (was === "Merge" && is !== "Merge") return dropIdleJob(event.after.id)
        return Effect.void
      }),
    ),
  )
  yield* Effect.forkScoped(worker)
  yield* Effect.forkScoped(sweepDone(store, readConfig))
  yield* Queue.offer(wake, undefined)
  return {
    jobs: Effect.map(store.mergeJobs, (r) => r.jobs),
    current: Ref.get(current),
    paused: Ref.get(paused),
    merge,
    reportFailure,
  } satisfies MergeQueueShape
}).pipe(Effect.annotateLogs({ component: "merge" }))

export const MergeQueueLive: Layer.Layer<MergeQueue, never, Store | Git | Project | Agents> = Layer.scoped(
  MergeQueue,
  makeMergeQueue,
)
