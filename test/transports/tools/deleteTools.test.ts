// test/transports/tools/deleteTools.test.ts — delete_story / purge_story remove an item from the Store, its
// real git worktree and branch, and its session logs, report each layer, and are idempotent.
import { StoryId } from "../../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import * as fs from "node:fs/promises"
import { Store } from "../../../src/layers/Store.js"
import { err, ok, withTools } from "../../support/tools.js"
import { featureWork, withGitProject, worktreeOf } from "./gitProject.js"

const notPresent = { status: "not present" }

describe("delete_story", () => {
  it.effect(
    "removes the item, its worktree, its branch and its logs, then finds nothing the second time",
    () =>
      withGitProject((repo) =>
        Effect.gen(function* () {
          const id = (yield* ok("create_story", { name: "Add login" }))["story_id"] as string
          const keep = (yield* ok("create_story", { name: "Keep me" }))["story_id"] as string
          const store = yield* Store
          yield* store.apply(StoryId.make(id), { _tag: "Start", at: yield* Clock.currentTimeMillis })
          yield* featureWork(repo, id, 1)
          // Uncommitted work in the worktree must not stop the delete.
          yield* repo.write(`${worktreeOf(id)}/scratch.txt`, "unsaved\n")
          yield* repo.write(`.huskies/logs/${id}/session-1.log`, "agent output\n")
          expect(yield* repo.exists(worktreeOf(id))).toBe(true)

          const first = yield* ok("delete_story", { story_id: id })
          expect(first["nothing_was_there"]).toBe(false)
          expect(first["store"]).toMatchObject({
            item: { status: "removed" },
            content: { status: "removed" },
            execution: notPresent,
            claim: notPresent,
            merge_job: notPresent,
            timers: notPresent,
            decisions: notPresent,
          })
          expect(first["worktree"]).toMatchObject({
            status: "removed",
            path: `${repo.dir}/${worktreeOf(id)}`,
          })
          expect(first["branch"]).toMatchObject({ status: "removed", name: `feature/story-${id}` })
          expect(first["logs"]).toMatchObject({ status: "removed" })
          expect(first["summary"]).toContain(
            "removed store item, store content, worktree, branch, session logs",
          )

          expect(yield* repo.exists(worktreeOf(id))).toBe(false)
          expect(yield* repo.exists(`.huskies/logs/${id}`)).toBe(false)
          expect(yield* repo.git("branch", "--list", `feature/story-${id}`)).toBe("")
          expect(yield* repo.git("worktree", "list")).not.toContain(id)
          expect(yield* err("status", { story_id: id })).toContain(`no work item ${id}`)
          expect((yield* store.list).items.map((i) => i.id)).toEqual([keep])

          const second = yield* ok("delete_story", { story_id: id })
          expect(second["nothing_was_there"]).toBe(true)
          expect(second["summary"]).toBe(`nothing of ${id} was there to remove`)
          expect(second["worktree"]).toMatchObject(notPresent)
          expect(second["branch"]).toMatchObject(notPresent)
          expect(second["logs"]).toMatchObject(notPresent)
        }),
      ),
  )

  it.effect("removes a worktree directory git no longer knows, and then the branch it held", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = (yield* ok("create_story", { name: "Add login" }))["story_id"] as string
        yield* featureWork(repo, id, 1)
        // A half-broken worktree: its .git link is gone, so `git worktree remove` refuses it.
        yield* Effect.promise(() => fs.rm(`${repo.dir}/${worktreeOf(id)}/.git`))
        const report = yield* ok("purge_story", { story_id: id })
        expect(report["worktree"]).toMatchObject({ status: "removed" })
        expect((report["worktree"] as { detail: string }).detail).toContain("deleted the directory")
        expect(report["branch"]).toMatchObject({ status: "removed" })
        expect(yield* repo.exists(worktreeOf(id))).toBe(false)
        expect(yield* repo.git("branch", "--list", `feature/story-${id}`)).toBe("")
      }),
    ),
  )

  it.effect("an id that never existed is reported as nothing there; a malformed id is an error", () =>
    withTools(() =>
      Effect.gen(function* () {
        const report = yield* ok("purge_story", { story_id: "42_story_never_was" })
        expect(report["nothing_was_there"]).toBe(true)
        expect(report["store"]).toMatchObject({ item: notPresent, content: notPresent })
        expect(report["branch"]).toMatchObject({ status: "not present" })
        expect((report["branch"] as { detail: string }).detail).toContain("not a git repository")
        expect(yield* err("delete_story", { story_id: "../../etc" })).toContain(
          'story_id "../../etc" is not a work item id',
        )
      }),
    ),
  )
})
