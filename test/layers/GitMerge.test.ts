// test/layers/GitMerge.test.ts — the Git service's squash merge mechanics against real repositories in temp
// dirs: merge workspaces (fresh, replacing a crash's leftovers, concurrent), squash outcomes (one commit,
// nothing to merge, conflicts) in a workspace and in the object store alone, and the compare-and-swap
// advance of the base with the user's checkout.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Git, mergeWorkspacePathOf } from "../../src/layers/Git.js"
import { makeGitRepo } from "../support/gitRepo.js"

/** A repository with one commit on main (checked out in the root), and the Git service for it. */
const setup = Effect.gen(function* () {
  const repo = yield* makeGitRepo({ initialCommit: true })
  const git = yield* Effect.provide(Git, Git.layerWith({ env: repo.env }))
  return { repo, git, root: repo.dir }
})

type Setup = Effect.Effect.Success<typeof setup>

/** Commits `files` on the branch checked out in `dir` (the root by default). */
const commitFiles = ({ repo }: Setup, message: string, files: Record<string, string>, dir = repo.dir) =>
  Effect.gen(function* () {
    for (const [name, content] of Object.entries(files)) {
      yield* Effect.promise(async () => {
        await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true })
        await fs.writeFile(path.join(dir, name), content)
      })
    }
    yield* repo.git("-C", dir, "add", "--", ...Object.keys(files))
    yield* repo.git("-C", dir, "commit", "--quiet", "-m", message)
    return yield* repo.git("-C", dir, "rev-parse", "HEAD")
  })

/** A feature branch for `id` with one commit per entry of `commits`, made in its own worktree. */
const feature = (s: Setup, id: string, commits: ReadonlyArray<Record<string, string>>) =>
  Effect.gen(function* () {
    const made = yield* s.git.createWorktree(s.root, id, "main")
    for (const [i, files] of commits.entries()) yield* commitFiles(s, `${id} step ${i + 1}`, files, made.path)
    return made.branch
  })

const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.either(effect), (result) =>
    Either.isLeft(result)
      ? Effect.succeed(result.left)
      : Effect.dieMessage(`expected a failure, got ${JSON.stringify(result.right)}`),
  )

const exists = (file: string) =>
  Effect.promise(() =>
    fs.lstat(file).then(
      () => true,
      () => false,
    ),
  )

describe("Git squash merge", () => {
  it.scoped("lands two feature commits as one commit on main, and the clean checkout follows", () =>
    Effect.gen(function* () {
      const s = yield* setup
      const { git, root, repo } = s
      const branch = yield* feature(s, "1_story_login", [
        { "src/login.ts": "export const login = 1\n" },
        { "src/login.ts": "export const login = 2\n", "README.md": "# test project\nlogin\n" },
      ])
      const oldTip = yield* repo.git("rev-parse", "main")
      const ws = yield* git.prepareMergeWorkspace(root, "1_story_login", "main")
      expect(ws).toEqual({ path: mergeWorkspacePathOf(root, "1_story_login"), baseTip: oldTip })
      expect(yield* git.currentBranch(ws.path)).toBeUndefined()

      const squashed = yield* git.squashInto(ws.path, branch, "1_story_login: add login")
      if (squashed._tag !== "Merged") return yield* Effect.dieMessage(`expected Merged, got ${squashed._tag}`)
      // Nothing moved yet: the commit lives only in the workspace.
      expect(yield* repo.git("rev-parse", "main")).toBe(oldTip)

      const advanced = yield* git.advanceBase(root, "main", squashed.commit, ws.baseTip)
      expect(advanced).toEqual({ base: "main", from: oldTip, to: squashed.commit, updatedCheckouts: [root] })
      expect(yield* repo.git("rev-parse", "main")).toBe(squashed.commit)
      expect(yield* repo.git("rev-parse", "main^")).toBe(oldTip)
      expect(yield* repo.git("rev-list", "--count", `${oldTip}..main`)).toBe("1")
      expect(yield* repo.git("log", "-1", "--format=%s", "main")).toBe("1_story_login: add login")
      // The tree is exactly base + feature.
      expect(yield* repo.git("rev-parse", "main^{tree}")).toBe(
        yield* repo.git("rev-parse", `${branch}^{tree}`),
      )
      expect(yield* repo.git("diff", "--name-only", oldTip, "main")).toBe("README.md\nsrc/login.ts")
      // The user's checkout shows the new files and nothing to commit.
      expect(yield* repo.read("src/login.ts")).toBe("export const login = 2\n")
      expect(yield* repo.git("status", "--porcelain", "--untracked-files=no")).toBe("")

      expect(yield* git.isMerged(root, "main", branch)).toBe(true)
      expect(yield* git.removeMergeWorkspace(root, "1_story_login")).toBe("removed")
      expect(yield* git.removeMergeWorkspace(root, "1_story_login")).toBe("absent")
      expect(yield* exists(ws.path)).toBe(false)
      expect(yield* git.listWorktrees(root)).toHaveLength(2)
    }),
  )

  it.scoped("a feature whose changes are already on main is NothingToMerge, with no commit", () =>
    Effect.gen(function* () {
      const s = yield* setup
      const { git, root, repo } = s
      const branch = yield* feature(s, "2_bug_fix", [{ "fix.txt": "fixed\n" }])
      expect(yield* git.isMerged(root, "main", branch)).toBe(false)
      yield* commitFiles(s, "the same fix, by hand", { "fix.txt": "fixed\n" })
      expect(yield* git.isMerged(root, "main", branch)).toBe(true)
      const tip = yield* repo.git("rev-parse", "main")

      const ws = yield* git.prepareMergeWorkspace(root, "2_bug_fix", "main")
      const squashed = yield* git.squashInto(ws.path, branch, "2_bug_fix: fix")
      expect(squashed._tag).toBe("NothingToMerge")
      if (squashed._tag === "NothingToMerge") expect(squashed.why).toContain("already on the base branch")
      expect(yield* repo.git("-C", ws.path, "rev-parse", "HEAD")).toBe(tip)
      expect(yield* repo.git("-C", ws.path, "status", "--porcelain")).toBe("")
      expect(yield* repo.git("rev-parse", "main")).toBe(tip)
    }),
  )

  it.scoped(
    "a conflicting change on main is Conflicts naming the file; workspace clean, main unchanged",
    () =>
      Effect.gen(function* () {
        const s = yield* setup
        const { git, root, repo } = s
        const branch = yield* feature(s, "3_story_readme", [
          { "README.md": "# feature title\n", "new.txt": "new\n" },
        ])
        yield* commitFiles(s, "main edits the README", { "README.md": "# main title\n" })
        const tip = yield* repo.git("rev-parse", "main")

        const ws = yield* git.prepareMergeWorkspace(root, "3_story_readme", "main")
        const squashed = yield* git.squashInto(ws.path, branch, "3_story_readme: title")
        if (squashed._tag !== "Conflicts")
          return yield* Effect.dieMessage(`expected Conflicts, got ${squashed._tag}`)
        expect(squashed.files).toEqual(["README.md"])
        expect(squashed.output).toContain("CONFLICT")
        expect(yield* repo.git("-C", ws.path, "status", "--porcelain", "--untracked-files=all")).toBe("")
        expect(yield* repo.git("-C", ws.path, "rev-parse", "HEAD")).toBe(tip)
        expect(yield* exists(path.join(ws.path, "new.txt"))).toBe(false)
        expect(yield* repo.git("rev-parse", "main")).toBe(tip)
        expect(yield* git.isMerged(root, "main", branch)).toBe(false)

        // The workspace can squash again (after a fix on the feature branch, here: a no-conflict one).
        const fixedBranch = yield* feature(s, "3b_story_other", [{ "other.txt": "x\n" }])
        const again = yield* git.squashInto(ws.path, fixedBranch, "3b_story_other: other")
        expect(again._tag).toBe("Merged")
      }),
  )

  it.scoped("main moved by someone else between prepare and advance: BaseMoved, main untouched", () =>
    Effect.gen(function* () {
      const s = yield* setup
      const { git, root, repo } = s
      const branch = yield* feature(s, "4_story_race", [{ "race.txt": "feature\n" }])
      const ws = yield* git.prepareMergeWorkspace(root, "4_story_race", "main")
      const squashed = yield* git.squashInto(ws.path, branch, "4_story_race: race")
      if (squashed._tag !== "Merged") return yield* Effect.dieMessage(`expected Merged, got ${squashed._tag}`)
      const theirs = yield* commitFiles(s, "someone else's commit", { "other.txt": "theirs\n" })

      const moved = yield* failure(git.advanceBase(root, "main", squashed.commit, ws.baseTip))
      expect(moved).toMatchObject({ _tag: "BaseMoved", base: "main", expected: ws.baseTip, actual: theirs })
      expect(yield* repo.git("rev-parse", "main")).toBe(theirs)
      expect(yield* repo.git("status", "--porcelain", "--untracked-files=no")).toBe("")
      expect(yield* exists(path.join(root, "race.txt"))).toBe(false)

      // Advancing to a commit that does not descend from the expected tip is refused (it would drop commits).
      const backwards = yield* failure(git.advanceBase(root, "main", ws.baseTip, theirs))
      expect(backwards).toMatchObject({ _tag: "GitError", reason: "InvalidArgument" })
      expect(yield* repo.git("rev-parse", "main")).toBe(theirs)
    }),
  )

  it.scoped("a dirty checkout of main is left exactly as it was and main is not advanced", () =>
    Effect.gen(function* () {
      const s = yield* setup
      const { git, root, repo } = s
      const branch = yield* feature(s, "5_story_dirty", [{ "feature.txt": "feature\n" }])
      const ws = yield* git.prepareMergeWorkspace(root, "5_story_dirty", "main")
      const squashed = yield* git.squashInto(ws.path, branch, "5_story_dirty: feature")
      if (squashed._tag !== "Merged") return yield* Effect.dieMessage(`expected Merged, got ${squashed._tag}`)
      yield* repo.write("README.md", "my uncommitted edit\n")
      const tip = yield* repo.git("rev-parse", "main")

      const dirty = yield* failure(git.advanceBase(root, "main", squashed.commit, ws.baseTip))
      expect(dirty).toMatchObject({
        _tag: "BaseCheckoutDirty",
        base: "main",
        path: root,
        files: ["README.md"],
      })
      expect(dirty.message).toContain("commit or stash")
      expect(yield* repo.git("rev-parse", "main")).toBe(tip)
      expect(yield* repo.read("README.md")).toBe("my uncommitted edit\n")
      expect(yield* repo.git("status", "--porcelain", "--untracked-files=no")).toBe("M README.md")
      expect(yield* exists(path.join(root, "feature.txt"))).toBe(false)

      // Once the user has committed, the merge goes through from a fresh workspace.
      const mine = yield* commitFiles(s, "my edit", { "README.md": "my uncommitted edit\n" })
      const ws2 = yield* git.prepareMergeWorkspace(root, "5_story_dirty", "main")
      expect(ws2.baseTip).toBe(mine)
      const again = yield* git.squashInto(ws2.path, branch, "5_story_dirty: feature")
      if (again._tag !== "Merged") return yield* Effect.dieMessage(`expected Merged, got ${again._tag}`)
      yield* git.advanceBase(root, "main", again.commit, ws2.baseTip)
      expect(yield* repo.read("feature.txt")).toBe("feature\n")
      expect(yield* repo.read("README.md")).toBe("my uncommitted edit\n")
    }),
  )

  it.scoped("an untracked file in the way of the checkout update puts main back and keeps the file", () =>
    Effect.gen(function* () {
      const s = yield* setup
      const { git, root, repo } = s
      const branch = yield* feature(s, "5b_story_untracked", [{ "added.txt": "from the feature\n" }])
      const ws = yield* git.prepareMergeWorkspace(root, "5b_story_untracked", "main")
      const squashed = yield* git.squashInto(ws.path, branch, "5b_story_untracked: add")
      if (squashed._tag !== "Merged") return yield* Effect.dieMessage(`expected Merged, got ${squashed._tag}`)
      yield* repo.write("added.txt", "my own untracked file\n")

      const blocked = yield* failure(git.advanceBase(root, "main", squashed.commit, ws.baseTip))
      expect(blocked).toMatchObject({ _tag: "BaseCheckoutDirty", path: root })
      expect(blocked.message).toContain("put back")
      expect(yield* repo.git("rev-parse", "main")).toBe(ws.baseTip)
      expect(yield* repo.read("added.txt")).toBe("my own untracked file\n")
      expect(yield* repo.git("status", "--porcelain", "--untracked-files=no")).toBe("")
    }),
  )

  it.scoped("main not checked out anywhere: only the ref moves; the root's own branch is untouched", () =>
    Effect.gen(function* () {
      const s = yield* setup
      const { git, root, repo } = s
      const branch = yield* feature(s, "6_story_elsewhere", [{ "elsewhere.txt": "x\n" }])
      yield* repo.git("switch", "--quiet", "-c", "mine")
      yield* repo.write("README.md", "dirty on my own branch\n")
      const ws = yield* git.prepareMergeWorkspace(root, "6_story_elsewhere", "main")
      const squashed = yield* git.squashInto(ws.path, branch, "6_story_elsewhere: x")
      if (squashed._tag !== "Merged") return yield* Effect.dieMessage(`expected Merged, got ${squashed._tag}`)
      const advanced = yield* git.advanceBase(root, "main", squashed.commit, ws.baseTip)
      expect(advanced.updatedCheckouts).toEqual([])
      expect(yield* repo.git("rev-parse", "main")).toBe(squashed.commit)
      expect(yield* git.currentBranch(root)).toBe("mine")
      expect(yield* repo.read("README.md")).toBe("dirty on my own branch\n")
      expect(yield* exists(path.join(root, "elsewhere.txt"))).toBe(false)
    }),
  )
})

it.scoped("without any configured identity the squash commit uses the fallback identity", () =>
  Effect.gen(function* () {
    const repo = yield* makeGitRepo({ initialCommit: true, identity: false })
    const git = yield* Effect.provide(Git, Git.layerWith({ env: repo.env }))
    const made = yield* git.createWorktree(repo.dir, "9_story_anon", "main")
    yield* Effect.promise(() => fs.writeFile(path.join(made.path, "anon.txt"), "anon\n"))
    yield* git.add(made.path, ["anon.txt"])
    yield* git.commit(made.path, "anon")
    const ws = yield* git.prepareMergeWorkspace(repo.dir, "9_story_anon", "main")
    const squashed = yield* git.squashInto(ws.path, made.branch, "9_story_anon: anon")
    expect(squashed._tag).toBe("Merged")
    expect(yield* repo.git("-C", ws.path, "log", "-1", "--format=%an <%ae>")).toBe(
      "huskies <huskies@localhost>",
    )
    // The same without a workspace, author and committer alike.
    const tree = yield* git.squashCommit(repo.dir, "main", made.branch, "9_story_anon: anon")
    if (tree.squash._tag !== "Merged")
      return yield* Effect.dieMessage(`expected Merged, got ${tree.squash._tag}`)
    expect(yield* repo.git("log", "-1", "--format=%an <%ae> %cn <%ce>", tree.squash.commit)).toBe(
      "huskies <huskies@localhost> huskies <huskies@localhost>",
    )
  }),
)

describe("Git merge workspaces", () => {
  it.scoped("a workspace left by a crash is replaced, whatever state it is in", () =>
    Effect.gen(function* () {
      const s = yield* setup
      const { git, root, repo } = s
      const first = yield* git.prepareMergeWorkspace(root, "7_story_crash", "main")
      // A crash mid-merge: half-merged files, an untracked leftover, and main has moved since.
      yield* Effect.promise(() => fs.writeFile(path.join(first.path, "README.md"), "half merged\n"))
      yield* Effect.promise(() => fs.writeFile(path.join(first.path, "leftover.txt"), "junk\n"))
      const newer = yield* commitFiles(s, "main moves on", { "next.txt": "next\n" })

      const second = yield* git.prepareMergeWorkspace(root, "7_story_crash", "main")
      expect(second).toEqual({ path: first.path, baseTip: newer })
      expect(yield* repo.git("-C", second.path, "rev-parse", "HEAD")).toBe(newer)
      expect(yield* repo.git("-C", second.path, "status", "--porcelain", "--untracked-files=all")).toBe("")

      // Its directory deleted by hand (a stale record) ...
      yield* Effect.promise(() => fs.rm(second.path, { recursive: true, force: true }))
      const third = yield* git.prepareMergeWorkspace(root, "7_story_crash", "main")
      expect(yield* repo.git("-C", third.path, "rev-parse", "HEAD")).toBe(newer)
      // ... or a plain directory where it should be.
      yield* git.removeMergeWorkspace(root, "7_story_crash")
      yield* Effect.promise(() => fs.mkdir(path.join(third.path, "sub"), { recursive: true }))
      const fourth = yield* git.prepareMergeWorkspace(root, "7_story_crash", "main")
      expect(yield* repo.git("-C", fourth.path, "rev-parse", "HEAD")).toBe(newer)
      expect(yield* git.listWorktrees(root)).toHaveLength(2)

      // Only the record left behind: removal prunes it.
      yield* Effect.promise(() => fs.rm(fourth.path, { recursive: true, force: true }))
      expect(yield* git.removeMergeWorkspace(root, "7_story_crash")).toBe("pruned")
      expect(yield* git.listWorktrees(root)).toHaveLength(1)
    }),
  )

  it.scoped("refuses a bad id and a missing base branch", () =>
    Effect.gen(function* () {
      const { git, root } = yield* setup
      expect(yield* failure(git.prepareMergeWorkspace(root, "../escape", "main"))).toMatchObject({
        reason: "InvalidArgument",
      })
      expect(yield* failure(git.prepareMergeWorkspace(root, "8_story_x", "trunk"))).toMatchObject({
        reason: "BaseBranchMissing",
      })
      expect(yield* failure(git.removeMergeWorkspace(root, "a/../b"))).toMatchObject({
        reason: "InvalidArgument",
      })
      const ws = yield* git.prepareMergeWorkspace(root, "8_story_x", "main")
      expect(yield* failure(git.squashInto(ws.path, "feature/story-none", "msg"))).toMatchObject({
        reason: "UnknownRevision",
      })
    }),
  )

  it.scoped("workspaces and item worktrees made and removed at once all succeed (one lock)", () =>
    Effect.gen(function* () {
      const { git, root } = yield* setup
      const ids = Array.from({ length: 6 }, (_, i) => `${i + 10}_story_parallel`)
      const made = yield* Effect.all(
        [
          Effect.forEach(ids, (id) => git.prepareMergeWorkspace(root, id, "main"), {
            concurrency: "unbounded",
          }),
          Effect.forEach(ids, (id) => git.createWorktree(root, id, "main"), { concurrency: "unbounded" }),
        ],
        { concurrency: "unbounded" },
      )
      expect(new Set(made[0].map((w) => w.path)).size).toBe(ids.length)
      expect(yield* git.listWorktrees(root)).toHaveLength(2 * ids.length + 1)
      yield* Effect.all(
        [
          Effect.forEach(ids, (id) => git.removeMergeWorkspace(root, id), { concurrency: "unbounded" }),
          Effect.forEach(ids, (id) => git.removeWorktree(root, id, { deleteBranch: true }), {
            concurrency: "unbounded",
          }),
        ],
        { concurrency: "unbounded" },
      )
      expect(yield* git.listWorktrees(root)).toHaveLength(1)
    }),
  )
})

describe("Git squash merge without a checkout (squashCommit)", () => {
  it.scoped("lands as the same one commit the workspace squash makes, touching no worktree", () =>
    Effect.gen(function* () {
      const s = yield* setup
      const { git, root, repo } = s
      const branch = yield* feature(s, "20_story_tree", [
        { "src/a.ts": "export const a = 1\n" },
        { "src/a.ts": "export const a = 2\n", "README.md": "# test project\na\n" },
      ])
      const oldTip = yield* repo.git("rev-parse", "main")
      const before = yield* git.listWorktrees(root)

      const { baseTip, squash } = yield* git.squashCommit(root, "main", branch, "20_story_tree: a")
      if (squash._tag !== "Merged") return yield* Effect.dieMessage(`expected Merged, got ${squash._tag}`)
      expect(baseTip).toBe(oldTip)
      // Only in the object store: no ref, no worktree, no checkout has changed.
      expect(yield* repo.git("rev-parse", "main")).toBe(oldTip)
      expect(yield* git.listWorktrees(root)).toEqual(before)
      expect(yield* exists(mergeWorkspacePathOf(root, "20_story_tree"))).toBe(false)
      expect(yield* repo.git("rev-parse", `${squash.commit}^`)).toBe(oldTip)
      expect(yield* repo.git("rev-parse", `${squash.commit}^{tree}`)).toBe(
        yield* repo.git("rev-parse", `${branch}^{tree}`),
      )
      expect(yield* repo.git("log", "-1", "--format=%s", squash.commit)).toBe("20_story_tree: a")
      // The configured identity, as on the feature's own commits (the fallback is only for none).
      expect(yield* repo.git("log", "-1", "--format=%an <%ae>", squash.commit)).toBe(
        yield* repo.git("log", "-1", "--format=%an <%ae>", branch),
      )

      const advanced = yield* git.advanceBase(root, "main", squash.commit, baseTip)
      expect(advanced).toEqual({ base: "main", from: oldTip, to: squash.commit, updatedCheckouts: [root] })
      expect(yield* repo.git("status", "--porcelain", "--untracked-files=no")).toBe("")
      expect(yield* repo.git("show", "main:src/a.ts")).toBe("export const a = 2")
    }),
  )

  it.scoped("says NothingToMerge for changes already on main, and Conflicts naming the file", () =>
    Effect.gen(function* () {
      const s = yield* setup
      const { git, root, repo } = s
      const same = yield* feature(s, "21_bug_same", [{ "fix.txt": "fixed\n" }])
      const clash = yield* feature(s, "22_story_clash", [
        { "README.md": "# feature title\n", "n.txt": "n\n" },
      ])
      yield* commitFiles(s, "main has both", { "fix.txt": "fixed\n", "README.md": "# main title\n" })
      const tip = yield* repo.git("rev-parse", "main")

      const nothing = yield* git.squashCommit(root, "main", same, "21_bug_same: fix")
      expect(nothing.squash._tag).toBe("NothingToMerge")
      const conflict = yield* git.squashCommit(root, "main", clash, "22_story_clash: title")
      if (conflict.squash._tag !== "Conflicts")
        return yield* Effect.dieMessage(`expected Conflicts, got ${conflict.squash._tag}`)
      expect(conflict.squash.files).toEqual(["README.md"])
      expect(conflict.squash.output).toContain("CONFLICT")
      expect(yield* repo.git("rev-parse", "main")).toBe(tip)
      expect(yield* repo.git("status", "--porcelain", "--untracked-files=no")).toBe("")
    }),
  )

  it.scoped("refuses a missing feature branch, a missing base and an empty message", () =>
    Effect.gen(function* () {
      const { git, root } = yield* setup
      expect(yield* failure(git.squashCommit(root, "main", "feature/story-none", "msg"))).toMatchObject({
        reason: "UnknownRevision",
      })
      expect(yield* failure(git.squashCommit(root, "trunk", "main", "msg"))).toMatchObject({
        reason: "BaseBranchMissing",
      })
      expect(yield* failure(git.squashCommit(root, "main", "main", " "))).toMatchObject({
        reason: "InvalidArgument",
      })
    }),
  )
})
