// test/transports/tools/gitTools.test.ts — git_status, git_diff, git_log, git_add and git_commit in an
// item's real worktree: the whole edit-stage-commit round, git_add refusing to stage "everything" or
// anything outside the worktree, and clear failures when the item has no worktree.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { err, ok } from "../../support/tools.js"
import { featureWork, withGitProject, worktreeOf } from "./gitProject.js"

describe("git tools", () => {
  it.effect("status, add, commit, diff and log round trip in the item's worktree", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Add login" }))["story_id"])
        yield* featureWork(repo, id, 1)
        const wt = worktreeOf(id)
        expect(yield* ok("git_status", { story_id: id })).toMatchObject({
          branch: `feature/story-${id}`,
          clean: true,
          entries: [],
        })

        yield* repo.write(`${wt}/src/login.ts`, "export const login = 1\n")
        yield* repo.write(`${wt}/README.md`, "# changed\n")
        yield* repo.write(`${wt}/notes.txt`, "not for the commit\n")
        const status = yield* ok("git_status", { story_id: id })
        expect(status).toMatchObject({ clean: false, staged: 0, unstaged: 1, untracked: 2 })

        const unstaged = yield* ok("git_diff", { story_id: id })
        expect(unstaged).toMatchObject({ truncated: false, empty: false })
        expect(String(unstaged["diff"])).toContain("+# changed")

        const added = yield* ok("git_add", { story_id: id, paths: ["src/login.ts", "README.md"] })
        expect(added["staged_in_index"]).toEqual(["README.md", "src/login.ts"])
        const staged = yield* ok("git_diff", { story_id: id, staged: true, paths: ["src/login.ts"] })
        expect(String(staged["diff"])).toContain("+export const login = 1")
        expect(String(staged["diff"])).not.toContain("README.md")

        const committed = yield* ok("git_commit", { story_id: id, message: "Add the login module" })
        expect(committed).toMatchObject({ branch: `feature/story-${id}`, subject: "Add the login module" })
        expect(committed["sha"]).toBe(yield* repo.git("-C", wt, "rev-parse", "HEAD"))
        // What was not added stays out of the commit.
        expect(yield* ok("git_status", { story_id: id })).toMatchObject({ untracked: 1, staged: 0 })

        const log = yield* ok("git_log", { story_id: id, limit: 2 })
        expect(log).toMatchObject({ base_branch: "main", commits_ahead: 2 })
        expect((log["commits"] as Array<{ subject: string }>).map((c) => c.subject)).toEqual([
          "Add the login module",
          "work 0",
        ])

        const branchWork = yield* ok("git_diff", { story_id: id, against_base: true })
        expect(branchWork["base_branch"]).toBe("main")
        for (const file of ["work-0.txt", "src/login.ts", "README.md"]) {
          expect(String(branchWork["diff"])).toContain(file)
        }
        expect(yield* err("git_commit", { story_id: id, message: "nothing" })).toContain("nothing is staged")
      }),
    ),
  )

  it.effect("git_add stages named files only: no -A, no '.', no empty list, nothing outside", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Careful" }))["story_id"])
        yield* featureWork(repo, id, 0)
        yield* repo.write(`${worktreeOf(id)}/a.txt`, "a\n")
        const refusals = [
          [["-A"], "is an option"],
          [["--all"], "is an option"],
          [["."], "names the whole worktree"],
          [["./"], "names the whole worktree"],
          [["*"], "names the whole worktree"],
          [[], "at least one path"],
          [["../../../README.md"], '".."'],
          [["/etc/passwd"], "outside the worktree"],
          [[`${repo.dir}/README.md`], "outside the worktree"],
          [[".git/config"], "inside .git"],
        ] as const
        for (const [paths, why] of refusals) {
          expect(yield* err("git_add", { story_id: id, paths })).toContain(why)
        }
        // Nothing got staged along the way, in the worktree or in the project's own repository.
        expect(yield* ok("git_status", { story_id: id })).toMatchObject({ staged: 0, untracked: 1 })
        expect(yield* repo.git("diff", "--cached", "--name-only")).toBe("")
        expect(
          yield* ok("git_add", { story_id: id, paths: [`${repo.dir}/${worktreeOf(id)}/a.txt`] }),
        ).toMatchObject({ staged_in_index: ["a.txt"] })
      }),
    ),
  )

  it.effect("fail clearly when the item has no worktree, even if a plain directory is there", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "No worktree" }))["story_id"])
        yield* repo.write(`${worktreeOf(id)}/stray.txt`, "x\n")
        for (const [tool, args] of [
          ["git_status", {}],
          ["git_diff", {}],
          ["git_log", {}],
          ["git_add", { paths: ["stray.txt"] }],
          ["git_commit", { message: "m" }],
        ] as const) {
          const message = yield* err(tool, { story_id: id, ...args })
          expect(message).toContain(`${id} has no worktree`)
          expect(message).toContain("create_worktree")
        }
        // The stray file was not staged in the project's repository.
        expect(yield* repo.git("diff", "--cached", "--name-only")).toBe("")
      }),
    ),
  )

  it.effect("git_commit refuses a worktree that is not on its feature branch", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Moved" }))["story_id"])
        yield* featureWork(repo, id, 1)
        yield* repo.git("-C", worktreeOf(id), "checkout", "--quiet", "--detach")
        yield* repo.write(`${worktreeOf(id)}/b.txt`, "b\n")
        yield* ok("git_add", { story_id: id, paths: ["b.txt"] })
        expect(yield* err("git_commit", { story_id: id, message: "m" })).toContain("detached HEAD")
      }),
    ),
  )

  it.effect("git_diff cuts a large diff and says so", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Big" }))["story_id"])
        yield* featureWork(repo, id, 0)
        yield* repo.write(`${worktreeOf(id)}/README.md`, "line of text\n".repeat(20_000))
        const diff = yield* ok("git_diff", { story_id: id })
        expect(diff["truncated"]).toBe(true)
        expect(String(diff["diff"]).length).toBeLessThanOrEqual(64 * 1024)
      }),
    ),
  )
})
