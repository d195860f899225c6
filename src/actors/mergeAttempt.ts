// src/actors/mergeAttempt.ts — one merge attempt of one item, as the merge queue runs it: the preflight
// (a branch with commits to merge, a base free to move), the squash in a merge workspace at the base tip,
// the gates there and the compare-and-swap of the base. Says how it ended; never changes the item
// (MergeQueue does). Also the jobs' startup recovery.
import { Effect, Either } from "effect"
import { join } from "node:path"
import type { MergeJob } from "../domain/MergeJob.js"
import { parseStoryDoc } from "../domain/StoryDoc.js"
import { runGate } from "../layers/Gates.js"
import { Git } from "../layers/Git.js"
import { Store } from "../layers/Store.js"

/** Why an attempt did not land. `fixable`: a mergemaster can fix it on the feature branch. */
export interface AttemptFailed {
  readonly _tag: "AttemptFailed"
  readonly why: string
  readonly fixable: boolean
}

export type AttemptResult =
  | { readonly _tag: "Landed"; readonly commit: string }
  | AttemptFailed
  /** The base moved between the squash and the swap: nothing changed, try again on the new tip. */
  | { readonly _tag: "BaseMoved"; readonly why: string }
  /** Nothing wrong with the item: a checkout of the base has uncommitted changes. Try again later. */
  | { readonly _tag: "BaseBusy"; readonly why: string }

export interface AttemptSpec {
  readonly root: string
  readonly storyId: string
  readonly base: string
  readonly featureBranch: string
  readonly message: string
  readonly testCommand: string | undefined
  readonly gatesTimeoutSecs: number
  readonly progress: (message: string) => Effect.Effect<void>
  /** Whether the item still wants merging (nobody moved or deleted it meanwhile). */
  readonly stillWanted: Effect.Effect<boolean>
}

const failed = (why: string, fixable: boolean): AttemptFailed => ({ _tag: "AttemptFailed", why, fixable })

/**
 * Nothing to merge is said before any work starts: an empty branch is a problem upstream (the agent's
 * work was lost or never committed), and no merge or mergemaster session can fix it.
 */
export const preflight = (spec: Pick<AttemptSpec, "root" | "base" | "featureBranch">) =>
  Effect.gen(function* () {
    const git = yield* Git
    const ahead = yield* Effect.either(git.commitsAhead(spec.root, spec.base, spec.featureBranch))
    if (Either.isLeft(ahead))
      return failed(
        `cannot count the commits of ${spec.featureBranch} ahead of ${spec.base}: ${ahead.left.message}. Check that the branch exists (git branch --list ${spec.featureBranch}); nothing was merged`,
        false,
      )
    if (ahead.right < 1)
      return failed(
        `${spec.featureBranch} has no commits ahead of ${spec.base}, so there is nothing to merge: check where the work went (git log ${spec.base}..${spec.featureBranch}, and the agent's log). No merge was attempted`,
        false,
      )
    return { _tag: "Ready", commitsAhead: ahead.right } as const
  })

/** The squash commit's message: the item's name and id, then what was squashed. */
export const squashMessage = (content: string, id: string, featureBranch: string, ahead: number): string => {
  const doc = parseStoryDoc(content)
  const name = Either.isRight(doc) ? doc.right.frontMatter.name : id
  return `${name} (${id})\n\nSquash of ${featureBranch}: ${ahead} commit${ahead === 1 ? "" : "s"}.`
}

/**
 * Why the base cannot move now for reasons outside any item, or undefined: a checkout of it with
 * uncommitted changes, or (update_checkout = false) any checkout of it at all.
 */
export const baseProblem = (root: string, base: string, updateCheckout: boolean) =>
  Effect.gen(function* () {
    const git = yield* Git
    const busy = yield* Effect.either(git.checkBaseCheckouts(root, base))
    if (Either.isLeft(busy)) return busy.left.message
    if (updateCheckout) return undefined
    const checkouts = yield* git.listWorktrees(root).pipe(Effect.orElseSucceed(() => []))
    const held = checkouts.find((w) => w.branch === base && !w.prunable && !w.bare)
    return held === undefined
      ? undefined
      : `${base} is checked out in ${held.path} and [merge] update_checkout = false, so it is not moved under it: check out another branch there, or set update_checkout = true`
  })

/** One attempt on the current base tip. Records the squash commit on the job before the base moves. */
export const attemptMerge = (spec: AttemptSpec) =>
  Effect.gen(function* () {
    const git = yield* Git
    const store = yield* Store
    const { root, storyId: id, base, featureBranch } = spec
    const workspace = yield* git.prepareMergeWorkspace(root, id, base)
    yield* spec.progress(`squashing ${featureBranch} onto ${base} at ${workspace.baseTip.slice(0, 12)}`)
    const squash = yield* git.squashInto(workspace.path, featureBranch, spec.message)
    if (squash._tag === "NothingToMerge")
      return failed(
        `the squash of ${featureBranch} onto ${base} changes nothing (${squash.why}): its changes are already on ${base}. Check whether the work landed another way; nothing was merged`,
        false,
      )
    if (squash._tag === "Conflicts")
      return failed(
        `${featureBranch} conflicts with ${base} in ${squash.files.join(", ")}.\n\n${squash.output}`,
        true,
      )
    const job = (yield* store.mergeJobs).jobs.find((j) => j.storyId === id)
    if (job !== undefined) yield* store.setMergeJob({ ...job, commit: squash.commit }).pipe(Effect.ignore)
    if (spec.testCommand !== undefined) {
      yield* spec.progress(`running the gates on the merged result: \`${spec.testCommand}\``)
      const gate = yield* runGate({
        command: spec.testCommand,
        cwd: workspace.path,
        timeoutMillis: spec.gatesTimeoutSecs * 1000,
        logPath: join(root, ".huskies", "logs", id, `merge-gates-${yield* now}.log`),
        pidRecord: { root, storyId: id, name: "merge-gates" },
      })
      if (!gate.passed)
        return failed(
          `the gates failed on the merged result (\`${spec.testCommand}\` ${gate.timedOut ? `timed out after ${spec.gatesTimeoutSecs} s` : `exited with code ${gate.exitCode ?? gate.signal}`}); ${base} was not changed. The end of the output:\n\n${gate.tail}`,
          true,
        )
    }
    // Last look before the one step that cannot be taken back.
    if (!(yield* spec.stillWanted))
      return failed(`${id} left the merge queue while it was merging; ${base} was not changed`, false)
    yield* spec.progress(`moving ${base} to ${squash.commit.slice(0, 12)}`)
    const advanced = yield* Effect.either(git.advanceBase(root, base, squash.commit, workspace.baseTip))
    if (Either.isRight(advanced)) return { _tag: "Landed", commit: squash.commit } satisfies AttemptResult
    const error = advanced.left
    if (error._tag === "BaseMoved") return { _tag: "BaseMoved", why: error.message } satisfies AttemptResult
    if (error._tag === "BaseCheckoutDirty")
      return { _tag: "BaseBusy", why: error.message } satisfies AttemptResult
    return failed(error.message, false)
  }).pipe(
    Effect.catchTags({
      GitError: (e) => Effect.succeed(failed(`git failed while merging: ${e.message}`, false)),
    }),
  )

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

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
      yield* store.setMergeJob(withoutBoot({ ...job, state: "queued" })).pipe(Effect.ignore)
    }
  })
