// src/actors/mergeAttempt.ts — one merge attempt of one item, as the merge queue runs it: the preflight
// (a branch with commits to merge, a base free to move), the squash in a merge workspace at the base tip,
// the gates there and the compare-and-swap of the base. Lands (the squash commit) or fails with why
// (mergeErrors.ts); never changes the item (MergeQueue does). Also what a merge killed after it landed left
// undone on disk.
import { Effect, Either } from "effect"
import { join } from "node:path"
import { parseStoryDoc } from "../domain/StoryDoc.js"
import { runGate } from "../layers/Gates.js"
import { Git } from "../layers/Git.js"
import { Store } from "../layers/Store.js"
import {
  BaseCheckedOut,
  BranchUnreadable,
  CommitNotRecorded,
  GatesFailed,
  LeftQueue,
  MergeConflict,
  NoCommitsAhead,
  SquashEmpty,
} from "./mergeErrors.js"
import type { StoryId } from "../domain/StoryId.js"

export interface AttemptSpec {
  readonly root: string
  readonly storyId: StoryId
  readonly base: string
  readonly featureBranch: string
  readonly message: string
  readonly testCommand: string | undefined
  readonly gatesTimeoutSecs: number
  readonly progress: (message: string) => Effect.Effect<void>
  /** Whether the item still wants merging (nobody moved or deleted it meanwhile). */
  readonly stillWanted: Effect.Effect<boolean>
}

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

/**
 * The commits to merge, counted before any work starts: an empty branch is a problem upstream (the agent's
 * work was lost or never committed), and no merge or mergemaster session can fix it.
 */
export const preflight = (spec: Pick<AttemptSpec, "root" | "base" | "featureBranch">) =>
  Effect.gen(function* () {
    const git = yield* Git
    const { base, featureBranch } = spec
    const ahead = yield* git
      .commitsAhead(spec.root, base, featureBranch)
      .pipe(Effect.mapError((e) => new BranchUnreadable({ featureBranch, base, detail: e.message })))
    if (ahead < 1) return yield* new NoCommitsAhead({ featureBranch, base })
    return ahead
  })

/** The squash commit's message: the item's name and id, then what was squashed. */
export const squashMessage = (content: string, id: string, featureBranch: string, ahead: number): string => {
  const doc = parseStoryDoc(content)
  const name = Either.isRight(doc) ? doc.right.frontMatter.name : id
  return `${name} (${id})\n\nSquash of ${featureBranch}: ${ahead} commit${ahead === 1 ? "" : "s"}.`
}

/**
 * Fails when the base cannot move now for reasons outside any item: a checkout of it with uncommitted
 * changes, or (update_checkout = false) any checkout of it at all.
 */
export const baseProblem = (root: string, base: string, updateCheckout: boolean) =>
  Effect.gen(function* () {
    const git = yield* Git
    yield* git.checkBaseCheckouts(root, base)
    if (updateCheckout) return
    const checkouts = yield* git.listWorktrees(root)
    const held = checkouts.find((w) => w.branch === base && !w.prunable && !w.bare)
    if (held !== undefined) return yield* new BaseCheckedOut({ base, path: held.path })
  })

/** The squash of the feature branch onto the base tip, and the merge workspace it was made in, if any. */
const squashOf = (spec: AttemptSpec) =>
  Effect.gen(function* () {
    const git = yield* Git
    const { root, storyId: id, base, featureBranch } = spec
    if (spec.testCommand === undefined) {
      // No gates: nothing needs the merged files, so the squash is made in the object store, no workspace.
      yield* spec.progress(`squashing ${featureBranch} onto ${base}`)
      return { ...(yield* git.squashCommit(root, base, featureBranch, spec.message)), workspace: undefined }
    }
    const workspace = yield* git.prepareMergeWorkspace(root, id, base)
    yield* spec.progress(`squashing ${featureBranch} onto ${base} at ${workspace.baseTip.slice(0, 12)}`)
    const squash = yield* git.squashInto(workspace.path, featureBranch, spec.message)
    return { squash, baseTip: workspace.baseTip, workspace: workspace.path }
  })

/**
 * A merge workspace left behind goes: it holds nothing worth keeping, and a leftover is replaced by the next
 * attempt's prepareMergeWorkspace anyway, so failing here is logged and nothing more.
 */
export const removeWorkspace = (root: string, id: string) =>
  Effect.flatMap(Git, (git) =>
    git
      .removeMergeWorkspace(root, id)
      .pipe(Effect.catchAll((e) => Effect.logWarning(`merge workspace of ${id} not removed: ${e.message}`))),
  )

/**
 * What a merge killed after it moved the base left undone: the checkouts of the base brought to its commit,
 * and its merge workspace removed (every other attempt removes its own). The bookkeeping is the queue's.
 */
export const tidyLandedMerge = (root: string, id: string, base: string, commit: string) =>
  Effect.gen(function* () {
    const caughtUp = yield* Effect.flatMap(Git, (git) =>
      git.catchUpCheckouts(root, base, `${commit}^`, commit),
    ).pipe(
      Effect.catchAll((e) =>
        Effect.as(Effect.logWarning(`checkouts of ${base} not brought up to date: ${e.message}`), []),
      ),
    )
    for (const path of caughtUp) yield* Effect.logInfo(`${path} brought to ${commit.slice(0, 12)}`)
    yield* removeWorkspace(root, id)
  })

/** One attempt on the current base tip: the squash commit once the base is at it. */
export const attemptMerge = (spec: AttemptSpec) =>
  // Only an attempt with gates makes a workspace; it goes with the attempt, also an interrupted one.
  spec.testCommand === undefined
    ? attempt(spec)
    : attempt(spec).pipe(Effect.ensuring(removeWorkspace(spec.root, spec.storyId)))

const attempt = (spec: AttemptSpec) =>
  Effect.gen(function* () {
    const git = yield* Git
    const store = yield* Store
    const { root, storyId: id, base, featureBranch } = spec
    const { squash, baseTip, workspace } = yield* squashOf(spec)
    if (squash._tag === "NothingToMerge")
      return yield* new SquashEmpty({ featureBranch, base, detail: squash.why })
    if (squash._tag === "Conflicts")
      return yield* new MergeConflict({ featureBranch, base, files: squash.files, output: squash.output })
    // Recorded before the base moves, so a crash after the move is recognised at the next start. A job
    // that is gone was deleted with its item; one that cannot be written stops the attempt here.
    const job = (yield* store.mergeJobs).jobs.find((j) => j.storyId === id)
    if (job === undefined) return yield* new LeftQueue({ storyId: id, base })
    yield* store.setMergeJob({ ...job, commit: squash.commit }).pipe(
      Effect.catchTags({
        ItemNotFound: () => new LeftQueue({ storyId: id, base }),
        PersistError: (e) => new CommitNotRecorded({ storyId: id, base, detail: e.message }),
      }),
    )
    if (spec.testCommand !== undefined && workspace !== undefined) {
      yield* spec.progress(`running the gates on the merged result: \`${spec.testCommand}\``)
      const gate = yield* runGate({
        command: spec.testCommand,
        cwd: workspace,
        timeoutMillis: spec.gatesTimeoutSecs * 1000,
        logPath: join(root, ".huskies", "logs", id, `merge-gates-${yield* now}.log`),
        pidRecord: { root, storyId: id, name: "merge-gates" },
      })
      if (!gate.passed)
        return yield* new GatesFailed({
          command: spec.testCommand,
          base,
          ended: gate.timedOut
            ? `timed out after ${spec.gatesTimeoutSecs} s`
            : `exited with code ${gate.exitCode ?? gate.signal}`,
          tail: gate.tail,
        })
    }
    // Last look before the one step that cannot be taken back.
    if (!(yield* spec.stillWanted)) return yield* new LeftQueue({ storyId: id, base })
    yield* spec.progress(`moving ${base} to ${squash.commit.slice(0, 12)}`)
    yield* git.advanceBase(root, base, squash.commit, baseTip)
    return squash.commit
  })
