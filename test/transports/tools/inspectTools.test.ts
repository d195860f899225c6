// test/transports/tools/inspectTools.test.ts — status on an item with a real worktree shows its
// branch, last commit and uncommitted files; dump_state narrows to one item.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ok } from "../../support/tools.js"
import { featureWork, withGitProject, worktreeOf } from "./gitProject.js"

describe("status and dump_state", () => {
  it.effect("status reports the worktree's branch, head commit and uncommitted changes", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const created = yield* ok("create_story", { name: "Add login" })
        const id = String(created["story_id"])
        yield* featureWork(repo, id, 2)
        yield* repo.write(`${worktreeOf(id)}/draft notes.md`, "wip\n")
        const status = yield* ok("status", { story_id: id })
        expect(status["worktree"]).toMatchObject({
          branch: `feature/story-${id}`,
          uncommitted: ["draft notes.md"],
        })
        expect(String((status["worktree"] as { head: string }).head)).toMatch(/^[0-9a-f]{12} work 1$/)
        const dump = yield* ok("dump_state", { story_id: id })
        expect((dump["state"] as { content: string }).content).toContain("name: Add login")
      }),
    ),
  )
})
