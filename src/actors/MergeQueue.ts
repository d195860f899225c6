// src/actors/MergeQueue.ts — the project's merge queue: items in Merge are squash-merged one at a time, in
// the order they arrived, in a merge workspace at the base tip; the gates run there; the base branch moves
// by compare-and-swap; the item becomes Done and its worktree and branch go. Jobs live in the Store.
import { NodeFileSystem } from "@effect/platform-node"
import { Context, Effect, Either, Layer, Option, Queue } from "effect"
import { join } from "node:path"
import type { MergeJob } from "../domain/MergeJob.js"
import { parseStoryDoc } from "../domain/StoryDoc.js"
import type { StoryId } from "../domain/StoryId.js"
import { loadConfig } from "../layers/Config.js"
import { runGate } from "../layers/Gates.js"
import { Git } from "../layers/Git.js"
import { Project } from "../layers/Project.js"
import { Store } from "../layers/Store.js"
import { fitText } from "../layers/runtimes/Runtime.js"

export interface MergeQueueShape {
  /** The jobs, oldest first. */
  readonly jobs: Effect.Effect<ReadonlyArray<MergeJob>>
}

export class MergeQueue extends Context.Tag("huskies/MergeQueue")<MergeQueue, MergeQueueShape>() {}

/** Times the base may move under a merge before the merge gives up and says so. */
const maxBaseRaces = 3
const failureBytes = 16 * 1024

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

const makeMergeQueue = Effect.gen(function* () {
  const store = yield* Store
  const git = yield* Git
  const project = yield* Project
  const root = project.root
  const boot = project.startedAt
  const wake = yield* Queue.sliding<void>(1)

  const enqueue = (id: StoryId) =>
    Effect.gen(function* () {
      const { jobs } = yield* store.mergeJobs
      // An existing job (one left by an earlier boot) keeps its place and what it recorded.
      if (!jobs.some((j) => j.storyId === id))
        yield* (
          store
            .setMergeJob({ storyId: id, state: "queued", enqueuedAt: yield* now })
            // Refused only if the item was deleted meanwhile: then there is nothing to merge.
            .pipe(Effect.ignore)
        )
      yield* Queue.offer(wake, undefined)
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

  const runJob = (job: MergeJob) =>
    Effect.gen(function* () {
      const id = job.storyId
      const item = yield* Effect.either(store.get(id))
      if (Either.isLeft(item) || item.right.stage._tag !== "Merge") return yield* store.clearMergeJob(id)
      const stage = item.right.stage
      const config = yield* Effect.either(loadConfig(root).pipe(Effect.provide(NodeFileSystem.layer)))
      // Not the item's fault: the job stays queued, and runs once the file is fixed and the server restarted.
      if (Either.isLeft(config)) return yield* Effect.logError(`merges wait: ${config.left.message}`)
      const base = config.right.project.baseBranch
      // A merge that moved the base before the server died: it landed, only the bookkeeping is missing.
      // Its own commit must be on the base: the same change landed some other way is not this merge.
      if (job.commit !== undefined) {
        const recorded = job.commit
        const onBase = yield* git.baseContains(root, base, recorded).pipe(Effect.orElseSucceed(() => false))
        if (onBase) return yield* landed(id, recorded)
      }
      yield* store.setMergeJob({ ...job, state: "running", boot })
      const name = Either.match(
        parseStoryDoc(yield* store.content(id).pipe(Effect.orElseSucceed(() => ""))),
        {
          onLeft: () => id,
          onRight: (doc) => doc.frontMatter.name,
        },
      )
      const message = `${name} (${id})\n\nSquash of ${stage.featureBranch}: ${stage.commitsAhead} commit${stage.commitsAhead === 1 ? "" : "s"}.`
      for (let race = 0; race < maxBaseRaces; race++) {
        const outcome = yield* Effect.either(
          mergeOnce(id, base, stage.featureBranch, message, config.right.project),
        )
        yield* git.removeMergeWorkspace(root, id).pipe(Effect.ignore)
        if (Either.isRight(outcome)) return yield* landed(id, outcome.right)
        if (outcome.left._tag !== "BaseMoved") return yield* fail(id, outcome.left.message)
        yield* Effect.logInfo(`${base} moved while ${id} was merging: merging again on the new tip`)
      }
      return yield* fail(
        id,
        `${base} kept moving while ${id} was merging (${maxBaseRaces} tries): merge it again when it is quiet`,
      )
    }).pipe(Effect.annotateLogs({ storyId: job.storyId }))

  /** One attempt on the current base tip: the squash commit, or why not. */
  const mergeOnce = (
    id: string,
    base: string,
    featureBranch: string,
    message: string,
    settings: { readonly commands: { readonly test?: string }; readonly gatesTimeoutSecs: number },
  ) =>
    Effect.gen(function* () {
      const workspace = yield* git.prepareMergeWorkspace(root, id, base)
      const squash = yield* git.squashInto(workspace.path, featureBranch, message)
      if (squash._tag === "NothingToMerge")
        return yield* Effect.fail({ _tag: "Refused" as const, message: `nothing to merge: ${squash.why}` })
      if (squash._tag === "Conflicts")
        return yield* Effect.fail({
          _tag: "Refused" as const,
          message: `${featureBranch} conflicts with ${base} in ${squash.files.join(", ")}: resolve it on ${featureBranch}, then move the item back to merge\n\n${squash.output}`,
        })
      const job = Option.getOrUndefined(
        Option.fromNullable((yield* store.mergeJobs).jobs.find((j) => j.storyId === id)),
      )
      if (job !== undefined) yield* store.setMergeJob({ ...job, commit: squash.commit }).pipe(Effect.ignore)
      const test = settings.commands.test
      if (test !== undefined) {
        const gate = yield* runGate({
          command: test,
          cwd: workspace.path,
          timeoutMillis: settings.gatesTimeoutSecs * 1000,
          logPath: join(root, ".huskies", "logs", id, `merge-gates-${yield* now}.log`),
        })
        if (!gate.passed)
          return yield* Effect.fail({
            _tag: "Refused" as const,
            message: `the gates failed on the merged result (\`${test}\` ${gate.timedOut ? "timed out" : `exited with code ${gate.exitCode ?? gate.signal}`}); ${base} was not changed. The end of the output:\n\n${gate.tail}`,
          })
      }
      yield* git.advanceBase(root, base, squash.commit, workspace.baseTip)
      return squash.commit
    })

  const worker = Effect.forever(
    Effect.gen(function* () {
      yield* Queue.take(wake)
      for (;;) {
        const { jobs } = yield* store.mergeJobs
        const next = jobs[0]
        if (next === undefined) break
        yield* runJob(next).pipe(
          Effect.catchAllCause((cause) =>
            Effect.logError("merge crashed", cause).pipe(
              Effect.zipRight(fail(next.storyId, "huskies failed while merging: see server_logs")),
            ),
          ),
        )
      }
    }),
  )

  // Subscribed before looking, so an item entering Merge in between is not missed. At startup every item
  // in Merge gets a job; a job left "running" by an earlier boot is simply run again from the start.
  const changes = yield* store.subscribe
  const { items } = yield* store.list
  for (const item of items) if (item.stage._tag === "Merge") yield* enqueue(item.id)
  yield* Effect.forkScoped(
    Effect.forever(
      Effect.flatMap(Queue.take(changes), (event) =>
        event._tag === "ItemChanged" &&
        event.after.stage._tag === "Merge" &&
        event.before.stage._tag !== "Merge"
          ? enqueue(event.after.id)
          : Effect.void,
      ),
    ),
  )
  yield* Effect.forkScoped(worker)
  yield* Queue.offer(wake, undefined)
  return { jobs: Effect.map(store.mergeJobs, (r) => r.jobs) } satisfies MergeQueueShape
}).pipe(Effect.annotateLogs({ component: "merge" }))

export const MergeQueueLive: Layer.Layer<MergeQueue, never, Store | Git | Project> = Layer.scoped(
  MergeQueue,
  makeMergeQueue,
)
