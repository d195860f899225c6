// test/layers/Git.test.ts — the Git service against real repositories in temp dirs: worktrees (create,
// reuse, list, remove, orphan cleanup, pruning), inspection (commits ahead, status, diff, log) and writes
// that only ever touch the paths they are given.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Git, GitError } from "../../src/layers/Git.js"
import { gitEnvironment } from "../../src/layers/git/run.js"
import { makeGitRepo, makeTempDir, type GitRepoOptions } from "../support/gitRepo.js"

const wt = (id: string) => `.huskies/worktrees/${id}`

/** A repository with one commit on main, and the Git service running in its isolated environment. */
const setup = (options: GitRepoOptions = {}) =>
  Effect.gen(function* () {
    const repo = yield* makeGitRepo({ initialCommit: true, ...options })
    const git = yield* Effect.provide(Git, Git.layerWith({ env: repo.env }))
    return { repo, git, root: repo.dir }
  })

/** The GitError an effect fails with (the test fails if it succeeds or fails otherwise). */
const gitError = <A, R>(effect: Effect.Effect<A, GitError, R>) =>
  Effect.flatMap(Effect.either(effect), (result) =>
    Either.isLeft(result)
      ? Effect.succeed(result.left)
      : Effect.dieMessage(`expected a GitError, got ${JSON.stringify(result.right)}`),
  )

const exists = (file: string) =>
  Effect.promise(() =>
    fs.lstat(file).then(
      () => true,
      () => false,
    ),
  )

describe("Git worktrees", () => {
  it.scoped("create, list and remove round trip, each idempotent", () =>
    Effect.gen(function* () {
      const { repo, git, root } = yield* setup()
      const main = yield* repo.git("rev-parse", "HEAD")
      const created = yield* git.createWorktree(root, "1_story_login", "main")
      expect(created).toEqual({
        id: "1_story_login",
        path: path.join(root, wt("1_story_login")),
        branch: "feature/story-1_story_login",
        created: true,
        branchCreated: true,
      })
      expect(yield* git.currentBranch(created.path)).toBe("feature/story-1_story_login")
      expect(yield* repo.read(`${wt("1_story_login")}/README.md`)).toBe("# test project\n")

      const again = yield* git.createWorktree(root, "1_story_login", "main")
      expect(again).toMatchObject({ created: false, branchCreated: false })

      const listed = yield* git.listWorktrees(root)
      expect(listed).toHaveLength(2)
      expect(listed[0]).toMatchObject({ path: root, branch: "main", head: main, id: undefined })
      expect(listed[1]).toEqual({
        path: created.path,
        head: main,
        branch: "feature/story-1_story_login",
        detached: false,
        bare: false,
        locked: false,
        lockedReason: "",
        prunable: false,
        prunableReason: "",
        id: "1_story_login",
      })

      const removed = yield* git.removeWorktree(root, "1_story_login", { deleteBranch: true })
      expect(removed).toMatchObject({
        worktree: "removed",
        detail: "git worktree remove --force",
        branchOutcome: "deleted",
      })
      expect(yield* exists(created.path)).toBe(false)
      expect(yield* git.listWorktrees(root)).toHaveLength(1)
      expect(yield* git.branchExists(root, "feature/story-1_story_login")).toBe(false)

      const twice = yield* git.removeWorktree(root, "1_story_login", { deleteBranch: true })
      expect(twice).toMatchObject({ worktree: "absent", branchOutcome: "absent" })
    }),
  )

  it.scoped("reuses an existing feature branch with its commits", () =>
    Effect.gen(function* () {
      const { repo, git, root } = yield* setup()
      const { path: dir, branch } = yield* git.createWorktree(root, "2_bug_crash", "main")
      yield* repo.write(`${wt("2_bug_crash")}/fix.txt`, "fixed\n")
      yield* git.add(dir, ["fix.txt"])
      yield* git.commit(dir, "Fix the crash")
      const kept = yield* git.removeWorktree(root, "2_bug_crash", { deleteBranch: false })
      expect(kept.branchOutcome).toBe("kept")
      expect(yield* git.branchExists(root, branch)).toBe(true)

      // main moves on meanwhile: reusing the branch must not restart it from main.
      yield* repo.write("other.txt", "x\n")
      yield* repo.git("add", "--", "other.txt")
      yield* repo.git("commit", "--quiet", "-m", "other")

      const back = yield* git.createWorktree(root, "2_bug_crash", "main")
      expect(back).toMatchObject({ created: true, branchCreated: false })
      expect(yield* repo.read(`${wt("2_bug_crash")}/fix.txt`)).toBe("fixed\n")
      expect(yield* exists(path.join(dir, "other.txt"))).toBe(false)
      expect((yield* git.log(dir, { base: "main", limit: 10 })).map((c) => c.subject)).toEqual([
        "Fix the crash",
      ])
    }),
  )

  it.scoped("refuses a missing base branch, a bad id and a path taken by another branch", () =>
    Effect.gen(function* () {
      const { repo, git, root } = yield* setup()
      const missing = yield* gitError(git.createWorktree(root, "3_story_x", "trunk"))
      expect(missing.reason).toBe("BaseBranchMissing")
      expect(missing.message).toContain("the base branch trunk does not exist")
      expect(missing.message).toContain("check base_branch in .huskies/project.toml (branches: main)")
      expect(yield* repo.exists(wt("3_story_x"))).toBe(false)
      expect(yield* git.branchExists(root, "feature/story-3_story_x")).toBe(false)

      const badId = yield* gitError(git.createWorktree(root, "../escape", "main"))
      expect(badId.reason).toBe("InvalidArgument")
      expect(yield* exists(path.join(root, ".huskies", "escape"))).toBe(false)

      yield* repo.git("worktree", "add", "--quiet", "-b", "someone-else", wt("4_story_y"))
      const taken = yield* gitError(git.createWorktree(root, "4_story_y", "main"))
      expect(taken.reason).toBe("WorktreeConflict")
      expect(taken.message).toContain("is on someone-else, not feature/story-4_story_y")

      yield* repo.write(`${wt("5_story_z")}/notes.txt`, "mine\n")
      const plain = yield* gitError(git.createWorktree(root, "5_story_z", "main"))
      expect(plain.reason).toBe("WorktreeConflict")
      expect(plain.message).toContain("exists and is not a git worktree")
      expect(yield* repo.read(`${wt("5_story_z")}/notes.txt`)).toBe("mine\n")
    }),
  )

  it.scoped("cleanup removes only unknown worktrees under .huskies/worktrees and reports them", () =>
    Effect.gen(function* () {
      const { repo, git, root } = yield* setup()
      yield* git.createWorktree(root, "1_story_active", "main")
      yield* git.createWorktree(root, "2_story_gone", "main")
      const dirty = yield* git.createWorktree(root, "3_story_dirty", "main")
      yield* repo.write(`${wt("3_story_dirty")}/unsaved.txt`, "lost\n")
      // Worktrees huskies does not own: elsewhere in the project, and outside it.
      const outside = path.join(path.dirname(root), "outside")
      yield* repo.git("worktree", "add", "--quiet", "-b", "mine", outside)
      yield* repo.git("worktree", "add", "--quiet", "-b", "nested", ".huskies/other/9_story_x")
      yield* repo.write(`${wt("stray")}/file.txt`, "not a worktree\n")
      const locked = yield* git.createWorktree(root, "4_story_locked", "main")
      yield* repo.git("worktree", "lock", "--reason", "on a USB disk", locked.path)

      const report = yield* git.cleanupOrphanedWorktrees(root, ["1_story_active"])
      expect(report.removed).toEqual([
        {
          id: "2_story_gone",
          path: path.join(root, wt("2_story_gone")),
          branch: "feature/story-2_story_gone",
          hadChanges: false,
        },
        { id: "3_story_dirty", path: dirty.path, branch: "feature/story-3_story_dirty", hadChanges: true },
      ])
      expect(report.pruned).toEqual([])
      expect(report.skipped).toEqual([
        { path: locked.path, why: expect.stringContaining("locked (on a USB disk)") },
        { path: path.join(root, wt("stray")), why: expect.stringContaining("not a git worktree") },
      ])

      const left = (yield* git.listWorktrees(root)).map((w) => w.path)
      expect(left.sort()).toEqual(
        [
          root,
          path.join(root, wt("1_story_active")),
          outside,
          path.join(root, ".huskies/other/9_story_x"),
          locked.path,
        ].sort(),
      )
      expect(yield* repo.exists(wt("2_story_gone"))).toBe(false)
      expect(yield* repo.exists(wt("stray/file.txt"))).toBe(true)
      // Branches may hold committed work: cleanup never deletes them.
      expect(yield* git.branchExists(root, "feature/story-2_story_gone")).toBe(true)
      expect(yield* git.branchExists(root, "feature/story-3_story_dirty")).toBe(true)

      const quiet = yield* git.cleanupOrphanedWorktrees(root, ["1_story_active"])
      expect(quiet.removed).toEqual([])
    }),
  )

  it.scoped("a worktree whose directory was deleted by hand is pruned, and can be created again", () =>
    Effect.gen(function* () {
      const { repo, git, root } = yield* setup()
      const known = yield* git.createWorktree(root, "5_story_known", "main")
      const other = yield* git.createWorktree(root, "6_story_other", "main")
      const outside = path.join(path.dirname(root), "outside")
      yield* repo.git("worktree", "add", "--quiet", "-b", "mine", outside)
      for (const dir of [known.path, other.path, outside])
        yield* Effect.promise(() => fs.rm(dir, { recursive: true }))

      const stale = yield* git.listWorktrees(root)
      expect(
        stale
          .filter((w) => w.prunable)
          .map((w) => w.path)
          .sort(),
      ).toEqual([known.path, other.path, outside].sort())

      const report = yield* git.cleanupOrphanedWorktrees(root, ["5_story_known"])
      expect(report.pruned).toEqual([
        { id: "5_story_known", path: known.path },
        { id: "6_story_other", path: other.path },
      ])
      expect(report.removed).toEqual([])
      // The stale record outside .huskies/worktrees is not huskies' to forget.
      expect((yield* git.listWorktrees(root)).map((w) => w.path)).toEqual([root, outside])

      const again = yield* git.createWorktree(root, "5_story_known", "main")
      expect(again).toMatchObject({ created: true, branchCreated: false })

      // removeWorktree on a deleted directory forgets the record too.
      yield* Effect.promise(() => fs.rm(again.path, { recursive: true }))
      const removed = yield* git.removeWorktree(root, "5_story_known", { deleteBranch: true })
      expect(removed).toMatchObject({ worktree: "pruned", branchOutcome: "deleted" })
      expect((yield* git.listWorktrees(root)).map((w) => w.path)).toEqual([root, outside])
    }),
  )

  it.scoped("removes a worktree whose .git link is broken by deleting the directory", () =>
    Effect.gen(function* () {
      const { git, root } = yield* setup()
      const made = yield* git.createWorktree(root, "7_story_broken", "main")
      yield* Effect.promise(() => fs.rm(path.join(made.path, ".git")))
      const removed = yield* git.removeWorktree(root, "7_story_broken", { deleteBranch: true })
      expect(removed.worktree).toBe("removed")
      expect(removed.detail).toContain("deleted the directory")
      expect(removed.branchOutcome).toBe("deleted")
      expect(yield* exists(made.path)).toBe(false)
      expect(yield* git.listWorktrees(root)).toHaveLength(1)
    }),
  )
})

it.scoped("many items creating and removing worktrees at once all succeed", () =>
  Effect.gen(function* () {
    const { git, root } = yield* setup()
    // Run unserialized, git's worktree commands read each other's half-written records and fail.
    const ids = Array.from({ length: 12 }, (_, i) => `${i + 1}_story_together`)
    const made = yield* Effect.forEach(ids, (id) => git.createWorktree(root, id, "main"), {
      concurrency: "unbounded",
    })
    expect(made.every((m) => m.created)).toBe(true)
    expect(yield* git.listWorktrees(root)).toHaveLength(ids.length + 1)
    yield* Effect.forEach(ids, (id) => git.removeWorktree(root, id, { deleteBranch: true }), {
      concurrency: "unbounded",
    })
    expect(yield* git.listWorktrees(root)).toHaveLength(1)
  }),
)

describe("Git repository checks", () => {
  it.scoped("isRepo, currentBranch, branchExists, revParse, deleteBranch", () =>
    Effect.gen(function* () {
      const { repo, git, root } = yield* setup()
      const plain = yield* makeTempDir()
      expect(yield* git.isRepo(root)).toBe(true)
      expect(yield* git.isRepo(plain.dir)).toBe(false)
      expect(yield* git.isRepo(path.join(plain.dir, "missing"))).toBe(false)
      expect((yield* gitError(git.currentBranch(plain.dir))).reason).toBe("NotARepository")

      const head = yield* repo.git("rev-parse", "HEAD")
      expect(yield* git.revParse(root, "HEAD")).toBe(head)
      expect(yield* git.revParse(root, "main")).toBe(head)
      expect((yield* gitError(git.revParse(root, "nope"))).reason).toBe("UnknownRevision")
      expect((yield* gitError(git.revParse(root, "--all"))).reason).toBe("InvalidArgument")

      expect(yield* git.currentBranch(root)).toBe("main")
      yield* repo.git("checkout", "--quiet", "--detach")
      expect(yield* git.currentBranch(root)).toBeUndefined()
      yield* repo.git("checkout", "--quiet", "main")

      expect(yield* git.branchExists(root, "main")).toBe(true)
      expect(yield* git.branchExists(root, "feature/none")).toBe(false)
      expect(yield* git.deleteBranch(root, "feature/none")).toBe("absent")
      yield* repo.git("branch", "spare")
      expect(yield* git.deleteBranch(root, "spare")).toBe("deleted")
      const inUse = yield* gitError(git.deleteBranch(root, "main"))
      expect(inUse.reason).toBe("CommandFailed")
      expect(inUse.args).toEqual(["branch", "-D", "--", "main"])
      expect(inUse.message).toContain("is checked out in a worktree")
    }),
  )

  it.scoped("a failed command reports its arguments, exit code and stderr", () =>
    Effect.gen(function* () {
      const { git, root } = yield* setup()
      const error = yield* gitError(git.add(root, ["no-such-file.txt"]))
      expect(error).toBeInstanceOf(GitError)
      expect(error.reason).toBe("CommandFailed")
      expect(error.args).toEqual(["--literal-pathspecs", "add", "--", "no-such-file.txt"])
      expect(error.exitCode).toBe(128)
      expect(error.stderr).toContain("did not match any files")
      expect(error.message).toContain("check that each path exists")
    }),
  )

  it.scoped("a git that runs past the timeout is stopped and reported", () =>
    Effect.gen(function* () {
      const { repo, root } = yield* setup()
      // The hook records its pid so the test can stop it: git's timeout stops git, not git's children.
      const pidFile = path.join(root, ".git", "hook.pid")
      yield* repo.write(".git/hooks/pre-commit", `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 10\n`)
      yield* Effect.addFinalizer(() =>
        Effect.promise(async () => {
          const pid = Number(await fs.readFile(pidFile, "utf8").catch(() => ""))
          if (pid > 0) process.kill(pid)
          // An already-ended hook cannot be killed, which is the outcome wanted.
        }).pipe(Effect.catchAllDefect(() => Effect.void)),
      )
      yield* Effect.promise(() => fs.chmod(path.join(root, ".git/hooks/pre-commit"), 0o755))
      const git = yield* Effect.provide(Git, Git.layerWith({ env: repo.env, timeoutMs: 500 }))
      yield* repo.write("a.txt", "a\n")
      yield* git.add(root, ["a.txt"])
      const error = yield* gitError(git.commit(root, "slow"))
      expect(error.reason).toBe("Timeout")
      expect(error.exitCode).toBeNull()
      expect(error.message).toContain("was stopped after 500 ms")
    }),
  )

  it.scoped("variables that would point git at another index are not inherited", () =>
    Effect.gen(function* () {
      const saved = process.env["GIT_INDEX_FILE"]
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          process.env["GIT_INDEX_FILE"] = "/nonexistent/index"
        }),
        () =>
          Effect.sync(() => {
            if (saved === undefined) delete process.env["GIT_INDEX_FILE"]
            else process.env["GIT_INDEX_FILE"] = saved
          }),
      )
      const env = gitEnvironment({ HOME: "/somewhere" })
      expect(env["GIT_INDEX_FILE"]).toBeUndefined()
      expect(env["GIT_TERMINAL_PROMPT"]).toBe("0")
      expect(env["HOME"]).toBe("/somewhere")
    }),
  )
})

describe("Git inspection", () => {
  it.scoped("commitsAhead counts the branch's own commits and names a missing ref", () =>
    Effect.gen(function* () {
      const { repo, git, root } = yield* setup()
      const { path: dir, branch } = yield* git.createWorktree(root, "8_story_count", "main")
      expect(yield* git.commitsAhead(root, "main", branch)).toBe(0)
      for (const n of [1, 2]) {
        yield* repo.write(`${wt("8_story_count")}/f${n}.txt`, `${n}\n`)
        yield* git.add(dir, [`f${n}.txt`])
        yield* git.commit(dir, `commit ${n}`)
      }
      expect(yield* git.commitsAhead(root, "main", branch)).toBe(2)
      expect(yield* git.commitsAhead(dir, "main", "HEAD")).toBe(2)
      const missing = yield* gitError(git.commitsAhead(root, "trunk", branch))
      expect(missing.reason).toBe("UnknownRevision")
      expect(missing.message).toContain("trunk does not exist")
    }),
  )

  it.scoped("status, diff and log parse file names with spaces and unicode", () =>
    Effect.gen(function* () {
      const { repo, git, root } = yield* setup()
      const { path: dir } = yield* git.createWorktree(root, "9_story_names", "main")
      const at = (file: string) => `${wt("9_story_names")}/${file}`
      yield* repo.write(at("docs/my notes.md"), "first\n")
      yield* git.add(dir, ["docs/my notes.md"])
      yield* git.commit(dir, "Add notes — with ünïcødé", {
        author: { name: "Zoë Coder", email: "zoe@example.test" },
      })
      yield* repo.write(at("docs/my notes.md"), "first\nsecond\n")
      yield* repo.write(at("ünïcødé файл.txt"), "new\n")
      yield* repo.write(at("staged one.txt"), "staged\n")
      yield* git.add(dir, ["staged one.txt"])
      yield* repo.git("-C", dir, "mv", "README.md", "READ ME.md")

      const entries = yield* git.status(dir)
      expect([...entries].sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual([
        { index: "R", workTree: " ", path: "READ ME.md", from: "README.md", staged: true, untracked: false },
        {
          index: " ",
          workTree: "M",
          path: "docs/my notes.md",
          from: undefined,
          staged: false,
          untracked: false,
        },
        {
          index: "A",
          workTree: " ",
          path: "staged one.txt",
          from: undefined,
          staged: true,
          untracked: false,
        },
        {
          index: "?",
          workTree: "?",
          path: "ünïcødé файл.txt",
          from: undefined,
          staged: false,
          untracked: true,
        },
      ])

      const unstaged = yield* git.diff(dir)
      expect(unstaged.truncated).toBe(false)
      expect(unstaged.text).toContain("diff --git a/docs/my notes.md b/docs/my notes.md")
      expect(unstaged.text).toContain("+second")
      expect(unstaged.text).not.toContain("staged one.txt")
      const staged = yield* git.diff(dir, { staged: true })
      expect(staged.text).toContain("+++ b/staged one.txt")
      expect(staged.text).not.toContain("my notes.md")
      const sinceMain = yield* git.diff(dir, { base: "main", paths: ["docs/my notes.md"] })
      expect(sinceMain.text).toContain("+first")
      expect(sinceMain.text).toContain("+second")
      expect(sinceMain.text).not.toContain("staged one.txt")

      yield* git.add(dir, ["ünïcødé файл.txt"])
      const unicode = yield* git.diff(dir, { staged: true, paths: ["ünïcødé файл.txt"] })
      expect(unicode.text).toContain("diff --git a/ünïcødé файл.txt b/ünïcødé файл.txt")

      const commits = yield* git.log(dir, { limit: 5 })
      expect(commits.map((c) => c.subject)).toEqual(["Add notes — with ünïcødé", "initial"])
      const [latest] = commits
      expect(latest).toMatchObject({ author: "Zoë Coder", email: "zoe@example.test" })
      expect(latest?.sha).toBe(yield* repo.git("-C", dir, "rev-parse", "HEAD"))
      expect(Math.abs((latest?.time ?? 0) - Date.now())).toBeLessThan(5 * 60_000)
      expect(yield* git.log(dir, { limit: 1 })).toHaveLength(1)
      expect((yield* git.log(dir, { base: "main", limit: 5 })).map((c) => c.subject)).toEqual([
        "Add notes — with ünïcødé",
      ])
    }),
  )

  it.scoped("diff output is bounded and says when it was cut", () =>
    Effect.gen(function* () {
      const { repo, git, root } = yield* setup()
      yield* repo.write("README.md", "é".repeat(50_000))
      const cut = yield* git.diff(root, { maxBytes: 1001 })
      expect(cut.truncated).toBe(true)
      expect(Buffer.byteLength(cut.text)).toBeLessThanOrEqual(1001)
      expect(cut.text).not.toContain("\uFFFD")
      expect(cut.text.startsWith("diff --git a/README.md b/README.md")).toBe(true)
      const whole = yield* git.diff(root)
      expect(whole.truncated).toBe(false)
      expect(Buffer.byteLength(whole.text)).toBeGreaterThan(100_000)
    }),
  )
})

describe("Git changes", () => {
  it.scoped("add refuses empty lists, traversal, the whole worktree and absolute paths outside it", () =>
    Effect.gen(function* () {
      const { repo, git, root } = yield* setup()
      const { path: dir } = yield* git.createWorktree(root, "10_story_paths", "main")
      yield* repo.write("outside.txt", "root file\n")
      yield* repo.write(`${wt("10_story_paths")}/inside.txt`, "in\n")
      yield* repo.write(`${wt("10_story_paths")}/*.txt`, "a file named star\n")

      const refusals: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [[], "huskies never stages everything"],
        [["../../../outside.txt"], 'contains ".."'],
        [["sub/../inside.txt"], 'contains ".."'],
        [[path.join(root, "outside.txt")], "is outside the worktree"],
        [["/etc/passwd"], "is outside the worktree"],
        [["."], "names the whole worktree"],
        [[dir], "names the whole worktree"],
        [[".git/config"], "inside .git"],
        [["inside.txt", ""], "an empty path names nothing"],
      ]
      for (const [paths, message] of refusals) {
        const error = yield* gitError(git.add(dir, paths))
        expect(error.reason, JSON.stringify(paths)).toBe("InvalidArgument")
        expect(error.message).toContain(message)
      }
      // Nothing was staged by any refusal, not even the good path listed beside a bad one.
      expect(yield* git.status(dir)).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: "inside.txt", untracked: true })]),
      )
      expect((yield* git.status(root)).filter((e) => e.staged)).toEqual([])

      // An absolute path inside the worktree is fine, and a glob is a file name, not a pattern.
      yield* git.add(dir, [path.join(dir, "inside.txt")])
      yield* git.add(dir, ["*.txt"])
      const staged = (yield* git.status(dir)).filter((e) => e.staged).map((e) => e.path)
      expect(staged.sort()).toEqual(["*.txt", "inside.txt"])
    }),
  )

  it.scoped("add + commit of named paths leaves a file the user staged staged and uncommitted", () =>
    Effect.gen(function* () {
      const { repo, git, root } = yield* setup()
      const { path: dir } = yield* git.createWorktree(root, "11_story_only", "main")
      yield* repo.write(`${wt("11_story_only")}/agent.txt`, "agent work\n")
      yield* repo.write(`${wt("11_story_only")}/user.txt`, "user's own\n")
      yield* repo.git("-C", dir, "add", "--", "user.txt")

      yield* git.add(dir, ["agent.txt"])
      const made = yield* git.commit(dir, "Agent work", { paths: ["agent.txt"] })
      expect(made.subject).toBe("Agent work")
      expect(made.sha).toBe(yield* repo.git("-C", dir, "rev-parse", "HEAD"))
      expect(yield* repo.git("-C", dir, "show", "--name-only", "--format=", "HEAD")).toBe("agent.txt")
      expect(yield* git.status(dir)).toEqual([
        { index: "A", workTree: " ", path: "user.txt", from: undefined, staged: true, untracked: false },
      ])
      // The main checkout's index is untouched by anything done in the worktree.
      expect((yield* git.status(root)).filter((e) => !e.untracked)).toEqual([])
      expect(yield* repo.git("ls-files")).toBe("README.md")
    }),
  )

  it.scoped("a commit with nothing to record is refused", () =>
    Effect.gen(function* () {
      const { repo, git, root } = yield* setup()
      const head = yield* repo.git("rev-parse", "HEAD")
      const nothingStaged = yield* gitError(git.commit(root, "Empty"))
      expect(nothingStaged.reason).toBe("NothingToCommit")
      expect(nothingStaged.message).toContain("nothing is staged")
      const unchanged = yield* gitError(git.commit(root, "Empty", { paths: ["README.md"] }))
      expect(unchanged.reason).toBe("NothingToCommit")
      expect(unchanged.message).toContain("README.md has no changes to commit")
      expect((yield* gitError(git.commit(root, "  "))).reason).toBe("InvalidArgument")
      expect((yield* gitError(git.commit(root, "x", { paths: [] }))).reason).toBe("InvalidArgument")
      expect(yield* repo.git("rev-parse", "HEAD")).toBe(head)
    }),
  )

  it.scoped("commits as huskies only when no identity is configured", () =>
    Effect.gen(function* () {
      const anonymous = yield* setup({ identity: false })
      yield* anonymous.repo.write("a.txt", "a\n")
      yield* anonymous.git.add(anonymous.root, ["a.txt"])
      yield* anonymous.git.commit(anonymous.root, "No identity")
      expect(yield* anonymous.repo.git("log", "-1", "--format=%an <%ae> / %cn <%ce>")).toBe(
        "huskies <huskies@localhost> / huskies <huskies@localhost>",
      )

      const named = yield* setup()
      yield* named.repo.write("a.txt", "a\n")
      yield* named.git.add(named.root, ["a.txt"])
      yield* named.git.commit(named.root, "Configured", {
        author: { name: "Agent", email: "agent@huskies.invalid" },
      })
      expect(yield* named.repo.git("log", "-1", "--format=%an <%ae> / %cn <%ce>")).toBe(
        "Agent <agent@huskies.invalid> / Huskies Test <test@huskies.invalid>",
      )
    }),
  )
})
