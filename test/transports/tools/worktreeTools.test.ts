// test/transports/tools/worktreeTools.test.ts — create_worktree, remove_worktree and list_worktrees on a
// real repository: idempotent creation from the configured base, orphans and dirty worktrees listed,
// removal keeping or deleting the branch, and no removal under a running agent.
import { StoryId } from "../../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { NodeId } from "../../../src/domain/ExecutionState.js"
import { Store } from "../../../src/layers/Store.js"
import { err, ok } from "../../support/tools.js"
import { featureWork, withGitProject, worktreeOf, writeConfig } from "./gitProject.js"

describe("create_worktree", () => {
  it.effect("creates the worktree on its branch from the base branch, then reports it as there", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Add login" }))["story_id"])
        const first = yield* ok("create_worktree", { story_id: id })
        expect(first).toMatchObject({
          story_id: id,
          path: `${repo.dir}/${worktreeOf(id)}`,
          branch: `feature/story-${id}`,
          base_branch: "main",
          created: true,
          branch_created: true,
        })
        expect(yield* repo.git("-C", worktreeOf(id), "branch", "--show-current")).toBe(`feature/story-${id}`)
        expect(yield* repo.git("-C", worktreeOf(id), "rev-parse", "HEAD")).toBe(
          yield* repo.git("rev-parse", "main"),
        )
        const again = yield* ok("create_worktree", { story_id: id })
        expect(again).toMatchObject({ created: false, branch_created: false })
        expect(String(again["summary"])).toContain("already exists")
      }),
    ),
  )

  it.effect("starts from base_branch in project.toml, and says when that branch is missing", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        yield* writeConfig(repo, ".huskies/project.toml", 'base_branch = "develop"\n')
        const id = String((yield* ok("create_story", { name: "x" }))["story_id"])
        expect(yield* err("create_worktree", { story_id: id })).toContain(
          "base branch develop does not exist",
        )
        yield* repo.git("branch", "develop")
        expect(yield* ok("create_worktree", { story_id: id })).toMatchObject({
          base_branch: "develop",
          created: true,
        })
      }),
    ),
  )

  it.effect("refuses an item that does not exist", () =>
    withGitProject(() =>
      Effect.gen(function* () {
        expect(yield* err("create_worktree", { story_id: "9_story_nope" })).toContain("9_story_nope")
        expect(yield* err("create_worktree", { story_id: "../escape" })).toContain("is not a work item id")
      }),
    ),
  )
})

describe("list_worktrees", () => {
  it.effect("lists each worktree with commits ahead, whether its item exists and whether it is dirty", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        expect(yield* ok("list_worktrees", {})).toMatchObject({ worktrees: [], summary: "no worktrees" })
        const id = String((yield* ok("create_story", { name: "Add login" }))["story_id"])
        yield* featureWork(repo, id, 2)
        yield* repo.write(`${worktreeOf(id)}/scratch.txt`, "unsaved\n")
        // A worktree whose item is gone: an orphan.
        yield* featureWork(repo, "77_story_gone", 0)
        const listed = yield* ok("list_worktrees", {})
        const rows = listed["worktrees"] as Array<Record<string, unknown>>
        expect(rows).toHaveLength(2)
        expect(rows.find((r) => r["story_id"] === id)).toMatchObject({
          path: `${repo.dir}/${worktreeOf(id)}`,
          branch: `feature/story-${id}`,
          head: yield* repo.git("-C", worktreeOf(id), "rev-parse", "HEAD"),
          commits_ahead: 2,
          in_store: true,
          orphan: false,
          dirty: true,
          missing: false,
        })
        expect(rows.find((r) => r["story_id"] === "77_story_gone")).toMatchObject({
          commits_ahead: 0,
          in_store: false,
          orphan: true,
          dirty: false,
        })
        expect(listed["summary"]).toBe("2 worktrees, 1 orphan, 1 with uncommitted changes")
      }),
    ),
  )
})

describe("remove_worktree", () => {
  it.effect("removes the worktree, keeps the branch unless asked, and is idempotent", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Add login" }))["story_id"])
        yield* featureWork(repo, id, 1)
        yield* repo.write(`${worktreeOf(id)}/scratch.txt`, "unsaved\n")
        const removed = yield* ok("remove_worktree", { story_id: id })
        expect(removed).toMatchObject({ worktree: "removed", branch_outcome: "kept" })
        expect(yield* repo.exists(worktreeOf(id))).toBe(false)
        expect(yield* repo.git("branch", "--list", `feature/story-${id}`)).toContain(id)

        const again = yield* ok("remove_worktree", { story_id: id, delete_branch: true })
        expect(again).toMatchObject({ worktree: "absent", branch_outcome: "deleted" })
        expect(yield* repo.git("branch", "--list", `feature/story-${id}`)).toBe("")
        expect(yield* ok("remove_worktree", { story_id: id })).toMatchObject({
          worktree: "absent",
          branch_outcome: "kept",
        })
      }),
    ),
  )

  it.effect("removes an orphan's worktree, but not one an agent is running in", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        yield* featureWork(repo, "77_story_gone", 1)
        expect(yield* ok("remove_worktree", { story_id: "77_story_gone" })).toMatchObject({
          worktree: "removed",
        })
        const id = String((yield* ok("create_story", { name: "Busy" }))["story_id"])
        yield* featureWork(repo, id, 0)
        const store = yield* Store
        const at = yield* Clock.currentTimeMillis
        yield* store.apply(StoryId.make(id), { _tag: "Start", at })
        yield* store.apply(StoryId.make(id), {
          _tag: "AgentStarted",
          node: NodeId.make("n1"),
          agent: "coder-1",
          role: "coder",
          at,
        })
        expect(yield* err("remove_worktree", { story_id: id })).toContain("coder-1")
        expect(yield* repo.exists(worktreeOf(id))).toBe(true)
      }),
    ),
  )
})
