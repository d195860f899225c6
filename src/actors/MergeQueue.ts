// src/actors/MergeQueue.ts — the merge actor (its loop in mergeActor.ts; a child of serve's tree, as are the
// moves listener and the Done sweep): items in Merge are squash-merged one at a time, in the order they
// arrived, on the base tip (in a merge workspace when gates run there); the base moves by compare-and-swap;
// the item becomes Done and its worktree and branch go. A conflict or failing gates go to a mergemaster
// (mergeFixers.ts), then the merge runs again, up to `[merge] attempts`. Jobs live in the Store, stamped
// with the boot that runs them; every job write is retried until it takes (mergeJobs.ts).
import { Deferred, Effect, Either, Layer, Option, PubSub, Ref } from "effect"
import type { MergeJob } from "../domain/MergeJob.js"
import type { StoryId } from "../domain/StoryId.js"
import { describeStage } from "../domain/transition.js"
import { Git } from "../layers/Git.js"
import { prepareBranch, publishBase } from "./branchSync.js"
import { HuskiesConfig } from "../layers/HuskiesConfig.js"
import { Project } from "../layers/Project.js"
import { Store } from "../layers/Store.js"
import { fitText } from "../layers/runtimes/Runtime.js"
import type * as Actor from "./Actor.js"
import { attemptMerge, baseProblem, preflight, squashMessage, tidyLandedMerge } from "./mergeAttempt.js"
import { isFixable, JobNotMarked } from "./mergeErrors.js"
import { persistently, requeueStaleJobs, withoutBoot } from "./mergeJobs.js"
import { failureBytes, makeFixers } from "./mergeFixers.js"
import { followMoves, type MergeMessage, mergeActor, type RunOutcome } from "./mergeActor.js"
import { ServeTree } from "./rootSupervisor.js"
import { sweepDone } from "./doneSweep.js"
import { Agents } from "./Scheduler.js"
import {
  MergeQueue,
  type MergeQueueShape,
  type CurrentMerge,
  type MergeNews,
  MergeRefused,
  type MergeResult,
  makeWaitingJobs,
  waitForEnd,
  waitForNews,
} from "./mergeWaiting.js"

export { MergeQueue, MergeRefused } from "./mergeWaiting.js"
export type { CurrentMerge, MergeQueueShape, MergeResult } from "./mergeWaiting.js"

/** Times the base may move under a merge before the merge gives up and says so. */
const maxBaseRaces = 3
/** How soon a paused queue (a config file it cannot read, a dirty checkout of the base) looks again. */
const pauseRetryMillis = 10_000

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

const makeMergeQueue = Effect.gen(function* () {
  const store = yield* Store
  const git = yield* Git
  const agents = yield* Agents
  const root = (yield* Project).root
  const boot = (yield* Project).startedAt
  const tree = yield* ServeTree
  // The actor, once spawned: the fixers (made before it) reach it through this.
  const actor = yield* Deferred.make<Actor.ActorRef<MergeMessage>>()
  const news = yield* PubSub.unbounded<MergeNews>()
  const current = yield* Ref.make(Option.none<CurrentMerge>())
  const paused = yield* Ref.make(Option.none<{ readonly why: string; readonly since: number }>())
  const waiting = yield* makeWaitingJobs
  // Held by a merge attempt and by reportFailure, so a failure is never recorded under a landing merge.
  const attemptLock = yield* Effect.makeSemaphore(1)
  const readConfig = (yield* HuskiesConfig).get

  const jobOf = (id: StoryId) =>
    Effect.map(store.mergeJobs, (r) => Option.fromNullable(r.jobs.find((j) => j.storyId === id)))

  // Every job write below goes through `persistently` (a refused write is retried until it takes): the
  // queue's state is the Store's, and a job write lost here would be a merge nobody runs or a lock nobody
  // clears. An ItemNotFound means the item was deleted, and Store.delete removed its job with it.
  const clearJob = (id: StoryId) =>
    persistently(`clearing the merge job of ${id}`, store.clearMergeJob(id)).pipe(
      Effect.zipRight(waiting.clear(id)),
      Effect.zipRight(PubSub.publish(news, { _tag: "Cleared", storyId: id })),
      Effect.asVoid,
    )

  const writeJob = (job: MergeJob) =>
    persistently(`writing the merge job of ${job.storyId}`, store.setMergeJob(job)).pipe(
      Effect.as(true),
      Effect.catchTag("ItemNotFound", () => Effect.succeed(false)),
    )

  /** Queues the item's merge. An existing job keeps its place and what it recorded; with `now`, a job
   * waiting for a mergemaster's fix or for its branch is due again at once (the fix is committed, or the
   * session ended, or someone asks for the merge). */
  const enqueue = (id: StoryId, options: { readonly now?: boolean } = {}) =>
    Effect.gen(function* () {
      const job = yield* jobOf(id)
      if (options.now === true) yield* waiting.dueNow(id)
      if (Option.isNone(job))
        yield* writeJob({ storyId: id as StoryId, state: "queued", enqueuedAt: yield* now })
      else if (options.now === true && job.value.state === "fixing")
        yield* writeJob(withoutBoot({ ...job.value, state: "queued" }))
    })

  /** Asks the actor to queue the merge, and waits until the job is written. */
  const askEnqueue = (storyId: StoryId, now: boolean) =>
    Deferred.await(actor).pipe(
      Effect.flatMap((ref) => ref.ask<void>((reply) => ({ _tag: "Enqueue", storyId, now, reply }))),
      // Only when the queue is stopping (the server shuts down): its jobs stay in the Store for the next.
      Effect.catchTag("ActorStopped", () => Effect.void),
    )

  const dropIdleJob = (id: StoryId) =>
    Effect.flatMap(jobOf(id), (job) =>
      Option.isSome(job) && job.value.state !== "running" ? clearJob(id) : Effect.void,
    )

  const progress = (id: StoryId) => (message: string) =>
    Effect.gen(function* () {
      yield* Ref.set(current, Option.some({ storyId: id, step: message, since: yield* now }))
      yield* PubSub.publish(news, { _tag: "Progress", storyId: id, message })
    })

  const fail = (id: StoryId, why: string) =>
    Effect.gen(function* () {
      yield* Effect.logWarning(`merge of ${id} failed: ${why}`)
      yield* persistently(
        `recording the failed merge of ${id}`,
        store.apply(
          id,
          { _tag: "MergeFailed", why: fitText(why, failureBytes), at: yield* now },
          { by: "server" },
        ),
      ).pipe(
        // Moved or deleted meanwhile: it has left Merge by itself, and nothing waits for this failure.
        Effect.catchAll((e) => Effect.logWarning(`could not record the failed merge: ${e.message}`)),
      )
      yield* clearJob(id)
    })

  const landed = (id: StoryId, commit: string) =>
    Effect.gen(function* () {
      const at = yield* now
      // Retried: the base has moved, and an item left in Merge would be merged again.
      yield* persistently(
        `marking ${id} Done`,
        store.apply(id, { _tag: "Merged", mergeCommit: commit, mergedAt: at, at }, { by: "server" }),
      ).pipe(
        Effect.catchAll((e) =>
          Effect.logWarning(`merged, but the item could not be marked Done: ${e.message}`),
        ),
      )
      const nodes = yield* Effect.option(Effect.map(readConfig, (c) => c.project))
      if (Option.isSome(nodes) && nodes.value.nodes.pushBase)
        yield* publishBase(root, nodes.value.nodes.remote, nodes.value.baseBranch)
      // Done: the work is on the base branch, so its worktree and feature branch have served their turn.
      yield* git
        .removeWorktree(root, id, { deleteBranch: true })
        .pipe(Effect.catchAll((e) => Effect.logWarning(`worktree of ${id} not removed: ${e.message}`)))
      // Last, and retried: until it is gone the job records the commit, so a restart still finishes this.
      yield* clearJob(id)
      yield* Effect.logInfo(`${id} merged as ${commit.slice(0, 12)}`)
    })

  const { attemptFailed } = yield* makeFixers({
    agents,
    boot,
    news,
    jobOf,
    writeJob,
    fail,
    dropIdleJob,
    retry: (id) => askEnqueue(id, true),
  })

  /** A merge that moved the base before the server died: it landed, only the bookkeeping is missing. Its
   * own commit must be on the base: the same change landed some other way is not this merge. */
  const finishLanded = (id: StoryId, base: string, commit: string) =>
    Effect.zipRight(tidyLandedMerge(root, id, base, commit), landed(id, commit))

  const runJob = (job: MergeJob) =>
    Effect.gen(function* () {
      const id = job.storyId
      const item = yield* Effect.either(store.get(id))
      // Moved out or deleted: the job has nothing left to do, and left in place it would head the queue.
      if (Either.isLeft(item) || item.right.stage._tag !== "Merge") return yield* clearJob(id)
      const stage = item.right.stage
      const config = yield* Effect.either(readConfig)
      // Not the item's fault: the job stays queued, and the queue looks again a little later.
      if (Either.isLeft(config)) return yield* pause(job, config.left.message)
      const settings = config.right.project
      const base = settings.baseBranch
      if (job.commit !== undefined) {
        const onBase = yield* Effect.either(git.baseContains(root, base, job.commit))
        // Whether it landed is not known: merging again could archive a merge that did land.
        if (Either.isLeft(onBase)) return yield* pause(job, onBase.left.message)
        if (onBase.right) return yield* finishLanded(id, base, job.commit)
      }
      // Coded on a worker: the branch is on the nodes' remote (taken up here only for such an item).
      const fetched = yield* Effect.either(
        prepareBranch(root, item.right, store.nodeId, base, {
          remote: settings.nodes.remote,
          worker: false,
          claimants: store.claimants,
        }),
      )
      if (Either.isLeft(fetched)) yield* Effect.logWarning(fetched.left.message)
      const ready = yield* Effect.either(preflight({ root, base, featureBranch: stage.featureBranch }))
      // With the fetch failed, what the preflight misses may be what the fetch would have brought (a
      // remote down, git busy): not the item's fault, so the job waits and the queue fetches again.
      if (Either.isLeft(ready) && Either.isLeft(fetched))
        return yield* pause(job, fetched.left.message, "item")
      yield* waiting.clear(id)
      if (Either.isLeft(ready)) return yield* fail(id, ready.left.message)
      // Before the squash and the gates, so a paused queue does not run them again and again. Without
      // gates an attempt costs no more than this look, and advanceBase looks again before the base moves.
      const gates = settings.commands.test !== undefined
      if (gates || !settings.merge.updateCheckout || Option.isSome(yield* Ref.get(paused))) {
        const busy = yield* Effect.either(baseProblem(root, base, settings.merge.updateCheckout))
        if (Either.isLeft(busy)) return yield* pause(job, busy.left.message)
      }
      yield* Ref.set(paused, Option.none())
      // Not started unless marked: a merge killed while running must be recognised by the next boot.
      const marked = yield* store.setMergeJob({ ...job, state: "running", boot }).pipe(Effect.either)
      if (Either.isLeft(marked))
        return marked.left._tag === "ItemNotFound"
          ? undefined
          : yield* pause(job, new JobNotMarked({ storyId: id, detail: marked.left.message }).message)
      const message = squashMessage(
        // Content only words the commit message: without it (deleted meanwhile) the message names the id.
        yield* store.content(id).pipe(Effect.orElseSucceed(() => "")),
        id,
        stage.featureBranch,
        ready.right,
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
        }).pipe(Effect.either)
        if (Either.isRight(outcome)) return yield* landed(id, outcome.right)
        const error = outcome.left
        if (error._tag === "BaseMoved") {
          yield* Effect.logInfo(`${base} moved while ${id} was merging: merging again on the new tip`)
          continue
        }
        if (error._tag === "BaseCheckoutDirty" || error._tag === "CommitNotRecorded")
          return yield* pause(job, error.message)
        if (isFixable(error)) {
          const hasMergemaster = config.right.agents.some((a) => a.stage === "mergemaster")
          return yield* attemptFailed(id, error.message, settings.merge.attempts, hasMergemaster)
        }
        return yield* fail(
          id,
          error._tag === "GitError" ? `git failed while merging: ${error.message}` : error.message,
        )
      }
      return yield* fail(
        id,
        `${base} kept moving while ${id} was merging (${maxBaseRaces} tries): merge it again when it is quiet`,
      )
    }).pipe(Effect.ensuring(Ref.set(current, Option.none())), Effect.annotateLogs({ storyId: job.storyId }))

  /** Not the item's fault: its job keeps its place and is tried again later. Merges wait meanwhile, or with
   * `scope` "item" (its branch could not be fetched) only this one does. */
  const pause = (job: MergeJob, why: string, scope: "queue" | "item" = "queue") =>
    Effect.gen(function* () {
      const before = yield* Ref.get(paused)
      const known =
        scope === "item"
          ? yield* waiting.set(job.storyId, why, yield* now, (yield* now) + pauseRetryMillis)
          : Option.isSome(before) && before.value.why === why
      if (!known)
        yield* Effect.logWarning(
          `${scope === "item" ? `the merge of ${job.storyId} waits` : "merges wait"}: ${why}`,
        )
      if (scope === "queue")
        yield* Ref.set(
          paused,
          Option.some({ why, since: Option.isSome(before) ? before.value.since : yield* now }),
        )
      yield* PubSub.publish(news, { _tag: "Paused", storyId: job.storyId, why })
      // Back to queued when it was marked running: retried, or a restart would take it for one it killed.
      const stored = yield* jobOf(job.storyId)
      if (Option.isSome(stored) && (stored.value.state !== "queued" || stored.value.boot !== undefined))
        yield* writeJob(withoutBoot({ ...job, state: "queued" }))
      return scope === "item" ? ("waiting" as const) : ("paused" as const)
    })

  // ------------------------------------------------------------------------------------------ the API

  const merge = (id: StoryId, onProgress: (message: string) => Effect.Effect<void>) =>
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
        yield* askEnqueue(item.id, true)
        const ahead = (yield* store.mergeJobs).jobs.filter((j) => j.state !== "fixing")
        const position = ahead.findIndex((j) => j.storyId === id)
        if (position > 0) yield* onProgress(`queued: ${position} merge${position === 1 ? "" : "s"} ahead`)
        return yield* Effect.raceFirst(waitForNews(id, updates, onProgress), waitForEnd(id, changes))
      }),
    )

  const reportFailure = (id: StoryId, why: string) =>
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
      // Retried: a job left behind would keep a fixing or queued entry for an item no longer in Merge.
      yield* clearJob(id)
      return after
      // Waits for a running attempt: if that lands, the item is Done and the report is refused.
    }).pipe(attemptLock.withPermits(1))

  // ---------------------------------------------------------------------------------------- startup

  yield* requeueStaleJobs(store, boot)
  // Subscribed before looking, so an item entering Merge in between is not missed.
  const changes = yield* store.subscribe
  const { items } = yield* store.list
  for (const item of items) if (item.stage._tag === "Merge") yield* enqueue(item.id)
  const self = yield* tree.actor(
    "merge",
    mergeActor({
      self: Deferred.await(actor),
      enqueue,
      dropIdleJob,
      nextJob: Effect.gen(function* () {
        const notDue = yield* waiting.notDue(yield* now)
        // Jobs waiting for a mergemaster's fix or a fetch keep their place but hold up none behind them.
        const jobs = (yield* store.mergeJobs).jobs
        return Option.fromNullable(jobs.find((j) => j.state !== "fixing" && !notDue.has(j.storyId)))
      }),
      runJob: (job) =>
        runJob(job).pipe(
          Effect.provideService(Store, store),
          Effect.provideService(Git, git),
          attemptLock.withPermits(1),
          // Only defects reach here: every expected failure is handled in runJob.
          Effect.catchAllCause((cause) =>
            Effect.logError("merge crashed", cause).pipe(
              Effect.zipRight(fail(job.storyId, "huskies failed while merging: see server_logs")),
            ),
          ),
          Effect.map((ran): RunOutcome => (ran === "paused" || ran === "waiting" ? ran : "over")),
        ),
      pauseRetryMillis,
    }),
  )
  yield* Deferred.succeed(actor, self)
  yield* tree.loop(
    "merge-moves",
    followMoves(changes, (id) => askEnqueue(id, false), self),
  )
  yield* tree.loop("done-sweep", sweepDone(store, readConfig))
  return {
    jobs: Effect.map(store.mergeJobs, (r) => r.jobs),
    current: Ref.get(current),
    paused: Ref.get(paused),
    waiting: waiting.view,
    merge,
    reportFailure,
    subscribe: PubSub.subscribe(news),
  } satisfies MergeQueueShape
}).pipe(Effect.annotateLogs({ component: "merge" }))

export const MergeQueueLive: Layer.Layer<
  MergeQueue,
  never,
  Store | Git | Project | Agents | HuskiesConfig | ServeTree
> = Layer.scoped(MergeQueue, makeMergeQueue)
