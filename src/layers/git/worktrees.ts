// src/layers/git/worktrees.ts — the Git service's worktrees: one per work item at .huskies/worktrees/<id>
// on feature/story-<id>. Create (idempotent, reusing the branch), list, remove, and the startup cleanup of
// worktrees no active item owns. Nothing here touches a worktree outside .huskies/worktrees/.
import { Effect } from "effect"
import { readdirSync, readFileSync, statSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { refused, stderrHeadline } from "./GitError.js"
import { parseStatus, parseWorktreeList, type WorktreeEntry } from "./parse.js"
import { featureBranchOf, invalidId, worktreePathOf, worktreesFolder } from "./paths.js"
import { checkRef, deleteWorktreeDir, type makeRepo, pathExists, realPath } from "./repo.js"
import type { GitRunner } from "./run.js"
import { makeWorktreeLock, type WorktreeLock } from "./worktreeLock.js"

export interface WorktreeInfo extends WorktreeEntry {
  /** The work item id when the worktree is huskies' own (directly under .huskies/worktrees/). */
  readonly id: string | undefined
}

export interface CreatedWorktree {
  readonly id: string
  readonly path: string
  readonly branch: string
  /** false: the worktree was already there, on its branch. */
  readonly created: boolean
  /** false: the branch already existed and was reused (its commits kept). */
  readonly branchCreated: boolean
}

export interface RemovedWorktree {
  readonly id: string
  readonly path: string
  readonly branch: string
  /** removed: the directory and git's record of it; pruned: only the record (the directory was gone). */
  readonly worktree: "removed" | "pruned" | "absent"
  /** How it went: "git worktree remove --force", or the fallback used and why. */
  readonly detail: string
  /** "kept" unless `deleteBranch` was asked for. */
  readonly branchOutcome: "deleted" | "absent" | "kept"
}

export interface OrphanCleanup {
  /** Worktrees of ids no active item has, removed (their branches are kept: they may hold work). */
  readonly removed: ReadonlyArray<{
    readonly id: string
    readonly path: string
    readonly branch: string | undefined
    /** It had uncommitted changes, now lost (still worth a line in the log). */
    readonly hadChanges: boolean
  }>
  /** Records of worktrees whose directory was deleted by hand, forgotten. */
  readonly pruned: ReadonlyArray<{ readonly id: string; readonly path: string }>
  /** Left alone, with why (locked worktrees, and directories that are not worktrees at all). */
  readonly skipped: ReadonlyArray<{ readonly path: string; readonly why: string }>
}

/**
 * Whether git may hold a record of a worktree at `target`, read from the repository's own records on disk
 * (no git process): false only when `<root>/.git` is a directory whose worktrees/ has no record pointing
 * there. Anything unusual (a `.git` file, an unreadable record) says it may, so git is asked. The records
 * are a line each, read synchronously (see repo.ts): one start reads every record.
 */
/** `look`'s answer, or undefined when it throws (a file that is not there or cannot be read). */
const attempt = <A>(look: () => A): A | undefined => {
  try {
    return look()
  } catch {
    return undefined
  }
}

const mayHaveRecord = (root: string, target: string): Effect.Effect<boolean> =>
  Effect.gen(function* () {
    const gitDir = path.join(root, ".git")
    if (attempt(() => statSync(gitDir).isDirectory()) !== true) return true
    const records = path.join(gitDir, "worktrees")
    let names: ReadonlyArray<string>
    try {
      names = readdirSync(records)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") return true
      names = []
    }
    // No record at all (a project's first worktree): the target's real path is not needed.
    if (names.length === 0) return false
    const parent = yield* realPath(path.dirname(target))
    const wanted = [path.join(target, ".git"), path.join(parent, path.basename(target), ".git")]
    for (const name of names) {
      const pointer = attempt(() => readFileSync(path.join(records, name, "gitdir"), "utf8"))
      // Unreadable, or relative (worktree.useRelativePaths): git is the one to say where it points.
      if (pointer === undefined || !path.isAbsolute(pointer.trim()) || wanted.includes(pointer.trim()))
        return true
    }
    return false
  })

type Repo = ReturnType<typeof makeRepo>

/**
 * `lock` serializes every command that adds or removes worktrees: git's worktree commands read each
 * other's half-written `.git/worktrees/<id>` records when they run at once ("failed to read
 * .../commondir"), so items starting together would fail. The merge workspaces share it.
 */
export const makeWorktrees = (git: GitRunner, repo: Repo, lock: WorktreeLock = makeWorktreeLock()) => {
  const serialized = lock.exclusive

  const checkId = (root: string, args: ReadonlyArray<string>, id: string) => {
    const why = invalidId(id)
    return why === undefined
      ? Effect.void
      : Effect.fail(refused("InvalidArgument", root, args, `worktree id ${JSON.stringify(id)} refused`, why))
  }

  const listWorktrees = Effect.fn("Git.listWorktrees")(function* (root: string) {
    yield* repo.requireRepo(root)
    const out = yield* git.ok(
      root,
      ["worktree", "list", "--porcelain", "-z"],
      "check that the repository is readable (git 2.36 or newer is needed)",
    )
    // git records real paths; compare against the real folder so a symlinked root still matches.
    const folders = [
      path.join(path.resolve(root), worktreesFolder),
      path.join(yield* realPath(root), worktreesFolder),
    ]
    return parseWorktreeList(out.stdout).map((entry): WorktreeInfo => {
      const parent = path.dirname(entry.path)
      return { ...entry, id: folders.includes(parent) ? path.basename(entry.path) : undefined }
    })
  })

  const findOwn = (entries: ReadonlyArray<WorktreeInfo>, id: string) => entries.find((e) => e.id === id)

  /** Forgets the record of a worktree whose directory is gone, naming it, so no other record is touched. */
  const forget = (root: string, worktreePath: string) =>
    git.ok(
      root,
      ["worktree", "remove", "--force", "--", worktreePath],
      `git still lists ${worktreePath}: check whether it is locked (git worktree unlock) and run git worktree prune`,
    )

  const createWorktree = Effect.fn("Git.createWorktree")(function* (root: string, id: string, base: string) {
    const branch = featureBranchOf(id)
    const target = worktreePathOf(root, id)
    yield* checkId(root, ["worktree", "add"], id)
    yield* checkRef(root, ["worktree", "add"], "base branch", base)
    // The usual case, an item's first start: no directory and no record of one. One git process
    // creates branch and worktree; a branch already there (or a missing base) refuses it without
    // side effects (git creates the branch first), and the look below tells which.
    if (!(yield* pathExists(target)) && !(yield* mayHaveRecord(root, target))) {
      yield* repo.requireRepo(root)
      const args = ["worktree", "add", "--quiet", "--no-track", "-b", branch, "--", target, base]
      const first = yield* git.run(root, args)
      if (first.code === 0) {
        return { id, path: target, branch, created: true, branchCreated: true } satisfies CreatedWorktree
      }
    }
    const existing = findOwn(yield* listWorktrees(root), id)
    if (existing !== undefined && !existing.prunable) {
      if (existing.branch === branch) {
        return { id, path: target, branch, created: false, branchCreated: false } satisfies CreatedWorktree
      }
      return yield* refused(
        "WorktreeConflict",
        root,
        ["worktree", "add", "--", target, branch],
        `the worktree ${target} is on ${existing.branch ?? `a detached HEAD (${existing.head.slice(0, 12)})`}, not ${branch}`,
        `remove it (delete the item's worktree) or check out ${branch} in it`,
      )
    }
    // A record left by a directory deleted by hand would make git refuse the path: forget it first.
    if (existing !== undefined) yield* forget(root, existing.path)
    if (yield* pathExists(target)) {
      const contents = yield* Effect.promise(() => fs.readdir(target).catch(() => ["?"]))
      if (contents.length > 0) {
        return yield* refused(
          "WorktreeConflict",
          root,
          ["worktree", "add", "--", target, branch],
          `${target} exists and is not a git worktree`,
          "move it away or delete it, then create the worktree again",
        )
      }
    }
    if (yield* repo.branchExists(root, branch)) {
      const args = ["worktree", "add", "--quiet", "--", target, branch]
      yield* git.ok(
        root,
        args,
        `check that ${branch} is not checked out in another worktree or in the project root (git worktree list)`,
      )
      return { id, path: target, branch, created: true, branchCreated: false } satisfies CreatedWorktree
    }
    const args = ["worktree", "add", "--quiet", "--no-track", "-b", branch, "--", target, base]
    if (!(yield* repo.branchExists(root, base))) {
      const branches = yield* git.run(root, [
        "for-each-ref",
        "--count=10",
        "--format=%(refname:short)",
        "refs/heads/",
      ])
      const known = branches.stdout.split("\n").filter((b) => b !== "")
      return yield* refused(
        "BaseBranchMissing",
        root,
        args,
        `cannot create ${branch}: the base branch ${base} does not exist in ${root}`,
        `check base_branch in .huskies/project.toml (${
          known.length === 0
            ? "the repository has no branches yet: commit once"
            : `branches: ${known.join(", ")}`
        })`,
      )
    }
    yield* git.ok(root, args, `check that ${target} can be created and ${base} is a branch`)
    return { id, path: target, branch, created: true, branchCreated: true } satisfies CreatedWorktree
  })

  const removeWorktree = Effect.fn("Git.removeWorktree")(function* (
    root: string,
    id: string,
    options: { readonly deleteBranch: boolean },
  ) {
    const branch = featureBranchOf(id)
    const target = worktreePathOf(root, id)
    yield* checkId(root, ["worktree", "remove"], id)
    const onDisk = yield* pathExists(target)
    // The usual cases without a look at git's list: a worktree git removes at once (a lock does not keep
    // it: the item is being removed on purpose), or no directory and no record of one.
    if (onDisk) {
      yield* repo.requireRepo(root)
      const quick = yield* git.run(root, ["worktree", "remove", "--force", "--force", "--", target])
      if (quick.code === 0 && !(yield* pathExists(target))) {
        const branchOutcome = options.deleteBranch
          ? yield* repo.deleteBranch(root, branch)
          : ("kept" as const)
        return {
          id,
          path: target,
          branch,
          worktree: "removed",
          detail: "git worktree remove --force",
          branchOutcome,
        } satisfies RemovedWorktree
      }
    } else if (!(yield* mayHaveRecord(root, target))) {
      const branchOutcome = options.deleteBranch ? yield* repo.deleteBranch(root, branch) : ("kept" as const)
      return {
        id,
        path: target,
        branch,
        worktree: "absent",
        detail: "",
        branchOutcome,
      } satisfies RemovedWorktree
    }
    const entry = findOwn(yield* listWorktrees(root), id)
    let outcome: RemovedWorktree["worktree"] = "absent"
    let detail = ""
    if (onDisk) {
      // The item is being removed on purpose: a lock (twice --force) does not keep its worktree.
      const args = ["worktree", "remove", "--force", ...(entry?.locked === true ? ["--force"] : [])]
      const git1 = entry === undefined ? undefined : yield* git.run(root, [...args, "--", target])
      if (git1?.code === 0 && !(yield* pathExists(target))) {
        outcome = "removed"
        detail = "git worktree remove --force"
      } else {
        // Not a registered worktree, half-created, or its .git link is broken: the directory still has to go.
        const why =
          git1 === undefined
            ? "not a registered worktree"
            : git1.code === 0
              ? "left files behind"
              : stderrHeadline(git1.stderr) || `exit code ${git1.code}`
        yield* deleteWorktreeDir(
          root,
          target,
          `git worktree remove: ${why}; deleting the directory ${target}`,
          "a process",
        )
        outcome = "removed"
        detail = `deleted the directory (git worktree remove: ${why})`
      }
    }
    // Without a record there is none to forget; git removing the worktree removed its record too.
    const removedByGit = detail === "git worktree remove --force"
    const stale = entry === undefined || removedByGit ? undefined : findOwn(yield* listWorktrees(root), id)
    if (stale !== undefined) {
      const forgotten = yield* Effect.either(forget(root, stale.path))
      // The last resort the record of a deleted directory has: git's own prune of every stale record.
      if (forgotten._tag === "Left") yield* git.run(root, ["worktree", "prune"])
      if (findOwn(yield* listWorktrees(root), id) !== undefined) {
        return yield* refused(
          "CommandFailed",
          root,
          ["worktree", "prune"],
          `git still lists the worktree ${target} after its removal`,
          "check whether it is locked (git worktree unlock), then run git worktree prune",
        )
      }
      if (outcome === "absent") {
        outcome = "pruned"
        detail = "forgot the worktree record (its directory was already gone)"
      }
    }
    const branchOutcome = options.deleteBranch ? yield* repo.deleteBranch(root, branch) : ("kept" as const)
    return { id, path: target, branch, worktree: outcome, detail, branchOutcome } satisfies RemovedWorktree
  })

  const hasChanges = (dir: string) =>
    git.run(dir, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]).pipe(
      Effect.map((r) => r.code !== 0 || parseStatus(r.stdout).length > 0),
      // Unreadable means unknown: say it may have had changes rather than that it had none.
      Effect.catchAll(() => Effect.succeed(true)),
    )

  const cleanupOrphanedWorktrees = Effect.fn("Git.cleanupOrphanedWorktrees")(function* (
    root: string,
    knownIds: Iterable<string>,
  ) {
    const known = new Set(knownIds)
    const removed: Array<OrphanCleanup["removed"][number]> = []
    const pruned: Array<OrphanCleanup["pruned"][number]> = []
    const skipped: Array<OrphanCleanup["skipped"][number]> = []
    const entries = yield* listWorktrees(root)
    for (const entry of entries) {
      const id = entry.id
      if (id === undefined) continue
      if (entry.locked) {
        if (!known.has(id) || entry.prunable) {
          skipped.push({
            path: entry.path,
            why: `locked${entry.lockedReason === "" ? "" : ` (${entry.lockedReason})`}: unlock it (git worktree unlock) to let huskies remove it`,
          })
        }
        continue
      }
      if (entry.prunable) {
        // Its directory was deleted by hand: forget the record, whoever owns the id.
        const forgotten = yield* Effect.either(forget(root, entry.path))
        if (forgotten._tag === "Left") skipped.push({ path: entry.path, why: forgotten.left.message })
        else pruned.push({ id, path: entry.path })
        continue
      }
      if (known.has(id)) continue
      const dirty = yield* hasChanges(entry.path)
      const outcome = yield* Effect.either(removeWorktree(root, id, { deleteBranch: false }))
      // One worktree that cannot go must not keep the others: report it and carry on.
      if (outcome._tag === "Left") skipped.push({ path: entry.path, why: outcome.left.message })
      else removed.push({ id, path: entry.path, branch: entry.branch, hadChanges: dirty })
    }
    // Directories under .huskies/worktrees/ that git does not know are not ours to delete: say so.
    const folder = path.join(path.resolve(root), worktreesFolder)
    const registered = new Set(entries.filter((e) => e.id !== undefined).map((e) => e.id))
    const names = yield* Effect.promise(() => fs.readdir(folder).catch((): Array<string> => []))
    for (const name of names) {
      if (registered.has(name)) continue
      skipped.push({
        path: path.join(folder, name),
        why: "not a git worktree: left alone (delete it by hand if it is not needed)",
      })
    }
    return { removed, pruned, skipped } satisfies OrphanCleanup
  })

  return {
    listWorktrees: (root: string) => serialized(listWorktrees(root)),
    createWorktree: (root: string, id: string, base: string) => serialized(createWorktree(root, id, base)),
    removeWorktree: (root: string, id: string, options: { readonly deleteBranch: boolean }) =>
      serialized(removeWorktree(root, id, options)),
    cleanupOrphanedWorktrees: (root: string, knownIds: Iterable<string>) =>
      serialized(cleanupOrphanedWorktrees(root, knownIds)),
  } as const
}
