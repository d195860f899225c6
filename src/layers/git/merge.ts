// src/layers/git/merge.ts — the Git service's squash merge mechanics for the merge queue: a merge workspace
// (a detached worktree at .huskies/merge/<id>), the squash of a feature branch into it, and the
// compare-and-swap advance of the base branch. Never touches a user's uncommitted change.
import { Effect } from "effect"
import * as path from "node:path"
import type { makeChanges } from "./changes.js"
import { missingBase, missingFeatureBranch, refused, stderrHeadline, stderrTail } from "./GitError.js"
import { parseStatus, parseWorktreeList } from "./parse.js"
import { invalidId } from "./paths.js"
import { checkRef, deleteWorktreeDir, type makeRepo, pathExists, realPath } from "./repo.js"
import { makeAncestry } from "./ancestry.js"
import { commandFailed, type GitRunner } from "./run.js"
import type { WorktreeLock } from "./worktreeLock.js"

import {
  BaseCheckoutDirty,
  BaseMoved,
  type MergeWorkspace,
  mergeWorkspacePathOf,
  SquashResult,
  type AdvancedBase,
} from "./mergeTypes.js"

export {
  BaseCheckoutDirty,
  BaseMoved,
  mergeFolder,
  mergeWorkspacePathOf,
  SquashResult,
} from "./mergeTypes.js"
export type { AdvancedBase, MergeWorkspace } from "./mergeTypes.js"

type Repo = ReturnType<typeof makeRepo>
type Changes = ReturnType<typeof makeChanges>

/** How much of a merge's output a Conflicts result keeps: the end, where the CONFLICT lines are. */
const outputTailChars = 8000

export const makeMerge = (git: GitRunner, repo: Repo, changes: Changes, lock: WorktreeLock) => {
  const { isAncestor } = makeAncestry(git, repo)
  const serialized = lock.exclusive

  const checkId = (root: string, args: ReadonlyArray<string>, id: string) => {
    const why = invalidId(id)
    return why === undefined
      ? Effect.void
      : Effect.fail(
          refused("InvalidArgument", root, args, `merge workspace id ${JSON.stringify(id)} refused`, why),
        )
  }

  const worktrees = (root: string) =>
    Effect.map(
      git.ok(root, ["worktree", "list", "--porcelain", "-z"], "check that the repository is readable"),
      (out) => parseWorktreeList(out.stdout),
    )

  /** git's record of the worktree at `target` (git records real paths). */
  const recordOf = (root: string, target: string) =>
    Effect.gen(function* () {
      const candidates = [target, path.join(yield* realPath(path.dirname(target)), path.basename(target))]
      return (yield* worktrees(root)).find((e) => candidates.includes(e.path))
    })

  /** Tracked files changed (staged or not) in `dir`, and unmerged ones. */
  const trackedChanges = (dir: string) =>
    Effect.map(
      git.ok(dir, ["status", "--porcelain=v1", "-z", "--untracked-files=no"], `check the worktree ${dir}`),
      (r) => parseStatus(r.stdout).map((e) => e.path),
    )

  /** The full name of the commit at local branch `branch`, or undefined when there is no such branch. */
  const branchTip = (root: string, branch: string) =>
    Effect.map(git.run(root, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`]), (r) =>
      r.code === 0 ? r.stdout.trim() : undefined,
    )

  /** Removes the workspace at `target` and git's record of it, whatever state a crash left them in. */
  const removeAt = (root: string, target: string) =>
    Effect.gen(function* () {
      let outcome: "removed" | "pruned" | "absent" = "absent"
      const record = yield* recordOf(root, target)
      let removedByGit = false
      if (record !== undefined && !record.prunable) {
        // Ours alone, so a lock (a second --force) does not keep it.
        const removed = yield* git.run(root, ["worktree", "remove", "--force", "--force", "--", target])
        removedByGit = removed.code === 0
      }
      if (yield* pathExists(target)) {
        yield* deleteWorktreeDir(root, target, `deleting the merge workspace ${target}`, "a process (a gate)")
        outcome = "removed"
      } else if (record !== undefined && !record.prunable) {
        outcome = "removed"
      }
      // Without a record there is none to forget; git removing the worktree removed its record too.
      const stale = record === undefined || removedByGit ? undefined : yield* recordOf(root, target)
      if (stale !== undefined) {
        const forgotten = yield* git.run(root, ["worktree", "remove", "--force", "--force", "--", stale.path])
        if (forgotten.code !== 0) yield* git.run(root, ["worktree", "prune"])
        if ((yield* recordOf(root, target)) !== undefined) {
          return yield* refused(
            "CommandFailed",
            root,
            ["worktree", "prune"],
            `git still lists the merge workspace ${target} after its removal`,
            "check whether it is locked (git worktree unlock), then run git worktree prune",
          )
        }
        if (outcome === "absent") outcome = "pruned"
      }
      return outcome
    })

  const prepareMergeWorkspace = Effect.fn("Git.prepareMergeWorkspace")(function* (
    root: string,
    id: string,
    base: string,
  ) {
    const target = mergeWorkspacePathOf(root, id)
    const args = ["worktree", "add", "--quiet", "--detach", "--", target]
    yield* checkId(root, args, id)
    yield* checkRef(root, args, "base branch", base)
    yield* repo.requireRepo(root)
    const baseTip = yield* branchTip(root, base)
    if (baseTip === undefined) {
      return yield* missingBase(root, args, base)
    }
    // The usual case, no workspace there, costs one git process; a workspace or record left by a crash
    // (or an earlier attempt) holds nothing worth keeping: it goes, and the workspace is made again.
    if (!(yield* pathExists(target))) {
      const added = yield* git.run(root, [...args, baseTip])
      if (added.code === 0) return { path: target, baseTip } satisfies MergeWorkspace
    }
    yield* removeAt(root, target)
    yield* git.ok(root, [...args, baseTip], `check that ${target} can be created`)
    return { path: target, baseTip } satisfies MergeWorkspace
  })

  const removeMergeWorkspace = Effect.fn("Git.removeMergeWorkspace")(function* (root: string, id: string) {
    const target = mergeWorkspacePathOf(root, id)
    yield* checkId(root, ["worktree", "remove"], id)
    yield* repo.requireRepo(root)
    // The usual case, a workspace git knows, costs one git process; anything else is looked into.
    if (yield* pathExists(target)) {
      const removed = yield* git.run(root, ["worktree", "remove", "--force", "--force", "--", target])
      if (removed.code === 0 && !(yield* pathExists(target))) return "removed" as const
    }
    return yield* removeAt(root, target)
  })

  /** Puts the workspace back at its HEAD: only ever run in a merge workspace, which holds no one's work. */
  const resetWorkspace = (workspace: string) =>
    Effect.gen(function* () {
      yield* git.ok(
        workspace,
        ["reset", "--quiet", "--hard", "HEAD"],
        `check the merge workspace ${workspace}`,
      )
      yield* git.ok(workspace, ["clean", "-ffdq"], `check the merge workspace ${workspace}`)
    })

  const squashInto = Effect.fn("Git.squashInto")(function* (
    workspace: string,
    featureBranch: string,
    message: string,
  ) {
    const args = ["merge", "--squash", "--no-commit", "--no-stat", "--no-autostash", featureBranch]
    yield* checkRef(workspace, args, "feature branch", featureBranch)
    if (message.trim() === "") {
      return yield* refused(
        "InvalidArgument",
        workspace,
        args,
        "squash merge with an empty message refused",
        "name the item in the message",
      )
    }
    // No git look at the workspace or the branch first: git refuses to merge into staged changes, and a
    // failed merge is looked into below (not a repository, no such branch), so the usual case costs fewer
    // processes. A workspace that is not there at all is said as such (NotARepository).
    if (!(yield* pathExists(workspace))) yield* repo.requireRepo(workspace)
    const result = yield* git.run(workspace, args)
    if (result.code !== 0) {
      const unmerged = yield* git.run(workspace, ["diff", "--name-only", "--diff-filter=U", "-z"])
      const files = unmerged.code === 0 ? unmerged.stdout.split("\0").filter((f) => f !== "") : []
      if (files.length === 0) {
        yield* repo.requireRepo(workspace)
        if ((yield* branchTip(workspace, featureBranch)) === undefined) {
          return yield* missingFeatureBranch(workspace, args, featureBranch)
        }
        yield* resetWorkspace(workspace)
        return yield* commandFailed(workspace, args, result, `check that ${featureBranch} can be merged`)
      }
      yield* resetWorkspace(workspace)
      const output = `${result.stdout}${result.stderr}`.trim()
      return SquashResult.Conflicts({
        files,
        output: output.length <= outputTailChars ? output : `…${output.slice(-outputTailChars)}`,
      })
    }
    const staged = yield* git.run(workspace, ["diff", "--cached", "--quiet"])
    if (staged.code === 0) {
      yield* resetWorkspace(workspace)
      const featureTip = (yield* branchTip(workspace, featureBranch)) ?? featureBranch
      const head = (yield* repo.revParse(workspace, "HEAD")).slice(0, 12)
      return SquashResult.NothingToMerge({
        why: `${featureBranch} (${featureTip.slice(0, 12)}) changes nothing on ${head}: its changes are already on the base branch`,
      })
    }
    if (staged.code !== 1)
      return yield* commandFailed(
        workspace,
        ["diff", "--cached", "--quiet"],
        staged,
        "check the merge workspace",
      )
    const commit = yield* Effect.tapError(changes.commitStaged(workspace, message), () =>
      // The workspace is thrown away after the attempt anyway: this only leaves it tidy for a look.
      Effect.ignore(resetWorkspace(workspace)),
    )
    return SquashResult.Merged({ commit })
  })

  /** The checkouts of `base`, which must all be clean for it to move: BaseCheckoutDirty names one that is not. */
  const cleanCheckoutsOf = (root: string, base: string) =>
    Effect.gen(function* () {
      const checkouts = (yield* worktrees(root)).filter((e) => e.branch === base && !e.prunable && !e.bare)
      for (const checkout of checkouts) {
        const files = yield* trackedChanges(checkout.path)
        if (files.length > 0) {
          return yield* new BaseCheckoutDirty({
            base,
            path: checkout.path,
            files: files.slice(0, 20),
            detail: `${base} is checked out in ${checkout.path} with uncommitted changes (${files.slice(0, 5).join(", ")}${files.length > 5 ? ", …" : ""}), so it was not advanced`,
          })
        }
      }
      return checkouts
    })

  const advanceBase = Effect.fn("Git.advanceBase")(function* (
    root: string,
    base: string,
    newCommit: string,
    expectedOldTip: string,
  ) {
    const ref = `refs/heads/${base}`
    const asked = ["update-ref", ref, newCommit, expectedOldTip]
    yield* checkRef(root, asked, "base branch", base)
    yield* checkRef(root, asked, "new commit", newCommit)
    yield* checkRef(root, asked, "expected tip", expectedOldTip)
    yield* repo.requireRepo(root)
    // The usual case in one git process: both commits, the base's tip, and the new commit's parent (a
    // squash is a child of the tip it was made on, which proves it descends from it).
    const read = yield* git.run(root, [
      "rev-parse",
      `${newCommit}^{commit}`,
      `${expectedOldTip}^{commit}`,
      `${newCommit}^{commit}^`,
      "--",
    ])
    const [readTo, readFrom, parent] = read.stdout.split("\n")
    const quick = read.code === 0 && readTo && readFrom && parent
    const to = quick ? readTo : yield* repo.revParse(root, `${newCommit}^{commit}`)
    const from = quick ? readFrom : yield* repo.revParse(root, `${expectedOldTip}^{commit}`)
    const casArgs = ["update-ref", "-m", "huskies: squash merge", ref, to, from]
    // Only ever forward: a "merge" that drops commits from the base is the bug this queue exists to avoid.
    if (!(quick && parent === from) && !(yield* isAncestor(root, from, to))) {
      return yield* refused(
        "InvalidArgument",
        root,
        casArgs,
        `${to.slice(0, 12)} does not descend from ${from.slice(0, 12)}: advancing ${base} to it would drop commits`,
        "squash onto the base tip recorded by the merge workspace",
      )
    }
    // No look at the tip first: the compare-and-swap below is the look, and a base that moved fails it.

    const checkouts = yield* cleanCheckoutsOf(root, base)

    const cas = yield* git.run(root, casArgs)
    if (cas.code !== 0) {
      const actual = yield* branchTip(root, base)
      if (actual !== from) return yield* new BaseMoved({ base, expected: from, actual: actual ?? "" })
      return yield* commandFailed(root, casArgs, cas, `check that ${ref} is writable (a stale ${ref}.lock?)`)
    }

    const updatedCheckouts: Array<string> = []
    for (const checkout of checkouts) {
      // Two-tree merge from the old tip to the new: git refuses (and changes nothing) where a file
      // edited since the check above would be overwritten, so no edit is ever lost.
      yield* git.run(checkout.path, ["update-index", "-q", "--refresh"])
      const moved = yield* git.run(checkout.path, ["read-tree", "-m", "-u", from, to])
      if (moved.code === 0) {
        updatedCheckouts.push(checkout.path)
        continue
      }
      // Put the branch back so it and the checkout agree again, and say why (as if it had been dirty).
      const back = yield* git.run(root, ["update-ref", "-m", "huskies: squash merge undone", ref, from, to])
      return yield* new BaseCheckoutDirty({
        base,
        path: checkout.path,
        files: [stderrTail(moved.stderr)],
        detail:
          back.code === 0
            ? `${checkout.path} changed while ${base} was advanced (${stderrHeadline(moved.stderr)}), so ${base} was put back at ${from.slice(0, 12)}`
            : `${checkout.path} changed while ${base} was advanced (${stderrHeadline(moved.stderr)}) and ${base} could not be put back at ${from.slice(0, 12)} (${stderrHeadline(back.stderr)}): run git status there before committing`,
      })
    }
    return { base, from, to, updatedCheckouts } satisfies AdvancedBase
  })

  /**
   * Checkouts of `base` whose index still holds `from`'s tree after `base` moved from `from` to `to` (a
   * crash between the two steps of advanceBase) are brought to `to`, as advanceBase would have done; a
   * commit there would otherwise revert the merge. Only while `base` is still at `to`.
   */
  const catchUpCheckouts = Effect.fn("Git.catchUpCheckouts")(function* (
    root: string,
    base: string,
    from: string,
    to: string,
  ) {
    yield* checkRef(root, ["read-tree", "-m", "-u", from, to], "base branch", base)
    if ((yield* branchTip(root, base)) !== (yield* repo.revParse(root, `${to}^{commit}`))) return []
    const fromTree = yield* repo.revParse(root, `${from}^{tree}`)
    const caughtUp: Array<string> = []
    for (const checkout of (yield* worktrees(root)).filter(
      (e) => e.branch === base && !e.prunable && !e.bare,
    )) {
      const index = yield* git.run(checkout.path, ["write-tree"])
      if (index.code !== 0 || index.stdout.trim() !== fromTree) continue
      yield* git.run(checkout.path, ["update-index", "-q", "--refresh"])
      // As in advanceBase: git refuses (and changes nothing) where a file edited since would be overwritten.
      const moved = yield* git.run(checkout.path, ["read-tree", "-m", "-u", from, to])
      if (moved.code === 0) caughtUp.push(checkout.path)
    }
    return caughtUp
  })

  return {
    prepareMergeWorkspace: (root: string, id: string, base: string) =>
      serialized(prepareMergeWorkspace(root, id, base)),
    removeMergeWorkspace: (root: string, id: string) => serialized(removeMergeWorkspace(root, id)),
    squashInto,
    advanceBase,
    /** Fails with BaseCheckoutDirty while a checkout of `base` has uncommitted changes (so it cannot move). */
    checkBaseCheckouts: (root: string, base: string) =>
      Effect.asVoid(
        Effect.flatMap(checkRef(root, ["status"], "base branch", base), () => cleanCheckoutsOf(root, base)),
      ),
    catchUpCheckouts,
  } as const
}
