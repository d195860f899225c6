// test/transports/tools/pipelineTools.test.ts — move_story, block_story and unblock_story through the real
// transition: legal moves land, illegal ones list the legal targets, and moves to qa/merge read real git.
import { StoryId } from "../../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { Store } from "../../../src/layers/Store.js"
import { err, ok, withTools } from "../../support/tools.js"
import { featureWork, withGitProject, writeConfig } from "./gitProject.js"

const file = (name: string) => Effect.map(ok("create_story", { name }), (c) => c["story_id"] as string)
const stageOf = (id: string) =>
  Effect.map(
    Effect.flatMap(Store, (s) => s.get(StoryId.make(id))),
    (item) => item.stage,
  )

describe("move_story", () => {
  it.effect("starts, resets, archives and revives, always through transition", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* file("Add login")
        const started = yield* ok("move_story", { story_id: id, to: "coding" })
        expect(started).toMatchObject({
          from: "Backlog",
          event: "Start",
          stage: { _tag: "Coding", summary: "Coding" },
        })
        expect(yield* stageOf(id)).toEqual({ _tag: "Coding" })
        const reset = yield* ok("move_story", { story_id: id, to: "Backlog" })
        expect(reset).toMatchObject({ from: "Coding", event: "Reset" })
        const abandoned = yield* ok("move_story", { story_id: id, to: "archived", reason: "not needed" })
        expect(abandoned).toMatchObject({ event: "Abandon", reason_recorded: false })
        expect(yield* stageOf(id)).toEqual({ _tag: "Archived", reason: { _tag: "Abandoned" } })
        const revived = yield* ok("move_story", { story_id: id, to: "backlog" })
        expect(revived).toMatchObject({ from: "Archived", event: "Unblock" })
        expect(yield* stageOf(id)).toEqual({ _tag: "Backlog" })
      }),
    ),
  )

  it.effect("refuses illegal moves, listing the legal targets in `to` terms", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* file("Add login")
        const toQa = yield* err("move_story", { story_id: id, to: "qa" })
        expect(toQa).toContain(`cannot move ${id} to qa`)
        expect(toQa).toContain("from Backlog you can move to: coding, archived")
        const toDone = yield* err("move_story", { story_id: id, to: "done" })
        expect(toDone).toContain("Done when its merge lands on the base branch")
        const same = yield* err("move_story", { story_id: id, to: "backlog" })
        expect(same).toContain("already there")
        const badTarget = yield* err("move_story", { story_id: id, to: "review" })
        expect(badTarget).toContain('parameter "to"')
        expect(badTarget).toContain("backlog, coding, qa, merge, done, archived")
        // A superseded item is final: nothing is legal, and the message says what to do instead.
        const replaced = yield* ok("move_story", {
          story_id: id,
          to: "archived",
          reason: "Superseded by 9_story_new_login",
        })
        expect(replaced).toMatchObject({ event: "Supersede", reason_recorded: true })
        expect(yield* stageOf(id)).toEqual({
          _tag: "Archived",
          reason: { _tag: "Superseded", by: "9_story_new_login" },
        })
        const stuck = yield* err("move_story", { story_id: id, to: "backlog" })
        expect(stuck).toContain("it cannot move anywhere")
        expect(stuck).toContain("delete_story")
        expect(yield* err("move_story", { story_id: "7_story_ghost", to: "coding" })).toContain(
          "no work item 7_story_ghost",
        )
      }),
    ),
  )

  it.effect("refuses qa and merge when the feature branch is missing or has no commits, and says why", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = yield* file("Add login")
        yield* ok("move_story", { story_id: id, to: "coding" })
        const noBranch = yield* err("move_story", { story_id: id, to: "qa" })
        expect(noBranch).toContain(`branch feature/story-${id} does not exist`)
        expect(noBranch).toContain("from Coding you can move to: backlog, qa, archived")
        yield* featureWork(repo, id, 0)
        const noCommits = yield* err("move_story", { story_id: id, to: "qa" })
        expect(noCommits).toContain(`feature/story-${id} has no commits ahead of main`)
        expect(yield* stageOf(id)).toEqual({ _tag: "Coding" })
        // Merge checks git again, whatever the Qa move was told: here the branch still has nothing.
        const store = yield* Store
        yield* store.apply(StoryId.make(id), {
          _tag: "GatesPassed",
          featureBranch: `feature/story-${id}`,
          commitsAhead: 1,
          qa: "human",
          at: yield* Clock.currentTimeMillis,
        })
        const emptyMerge = yield* err("move_story", { story_id: id, to: "merge" })
        expect(emptyMerge).toContain(`cannot move ${id} to merge`)
        expect(emptyMerge).toContain("has no commits ahead of main")
        expect(yield* stageOf(id)).toEqual({ _tag: "Qa" })
      }),
    ),
  )

  it.effect("moves coding → qa → merge with the commits counted by git, and rejects qa with notes", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = yield* file("Add login")
        yield* ok("move_story", { story_id: id, to: "coding" })
        yield* featureWork(repo, id, 2)
        const toQa = yield* ok("move_story", { story_id: id, to: "qa" })
        expect(toQa).toMatchObject({ event: "GatesPassed", stage: { _tag: "Qa" } })
        const noNotes = yield* err("move_story", { story_id: id, to: "coding" })
        expect(noNotes).toContain("give reason")
        const rejected = yield* ok("move_story", {
          story_id: id,
          to: "coding",
          reason: "the form has no labels",
        })
        expect(rejected).toMatchObject({ event: "QaRejected", reason_recorded: true })
        const store = yield* Store
        expect((yield* store.get(StoryId.make(id))).feedback).toBe("the form has no labels")
        yield* ok("move_story", { story_id: id, to: "QA" })
        const merged = yield* ok("move_story", { story_id: id, to: "merge" })
        expect(merged["stage"]).toMatchObject({
          _tag: "Merge",
          featureBranch: `feature/story-${id}`,
          commitsAhead: 2,
          summary: `Merge (feature/story-${id}, 2 commits ahead)`,
        })
        expect(yield* err("move_story", { story_id: id, to: "qa" })).toContain(
          "from Merge you can move to: backlog, archived",
        )
      }),
    ),
  )

  it.effect("counts commits against base_branch from project.toml", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = yield* file("Add login")
        yield* ok("move_story", { story_id: id, to: "coding" })
        yield* featureWork(repo, id, 1)
        yield* writeConfig(repo, ".huskies/project.toml", 'base_branch = "trunk"\n')
        const missingBase = yield* err("move_story", { story_id: id, to: "qa" })
        expect(missingBase).toContain("ahead of base branch trunk")
        yield* repo.git("branch", "trunk", `feature/story-${id}`)
        const level = yield* err("move_story", { story_id: id, to: "qa" })
        expect(level).toContain("has no commits ahead of trunk")
      }),
    ),
  )
})

describe("move_story from Done", () => {
  it.effect("a Done item can only be archived, as completed", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* file("Add login")
        const store = yield* Store
        const at = yield* Clock.currentTimeMillis
        yield* store.apply(StoryId.make(id), { _tag: "Start", at })
        yield* store.apply(StoryId.make(id), {
          _tag: "GatesPassed",
          featureBranch: "feature/x",
          commitsAhead: 1,
          qa: "none",
          at,
        })
        expect(yield* err("move_story", { story_id: id, to: "done" })).toContain(
          "from Merge you can move to: backlog, archived",
        )
        yield* store.apply(StoryId.make(id), { _tag: "Merged", mergeCommit: "abcdef1", mergedAt: at, at })
        expect(yield* err("move_story", { story_id: id, to: "backlog" })).toContain(
          "from Done you can move to: archived",
        )
        const archived = yield* ok("move_story", { story_id: id, to: "archived" })
        expect(archived).toMatchObject({ from: "Done", event: "Complete" })
        expect(yield* stageOf(id)).toEqual({ _tag: "Archived", reason: { _tag: "Completed" } })
      }),
    ),
  )
})

describe("block_story and unblock_story", () => {
  it.effect("blocks with the reason and unblocks back to Backlog", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* file("Add login")
        yield* ok("move_story", { story_id: id, to: "coding" })
        const blocked = yield* ok("block_story", { story_id: id, reason: "waiting on the API key" })
        expect(blocked).toMatchObject({
          from: "Coding",
          event: "Block",
          stage: { _tag: "Archived", summary: "Archived (blocked: waiting on the API key)" },
        })
        const again = yield* err("block_story", { story_id: id, reason: "twice" })
        expect(again).toContain(`cannot block ${id}`)
        expect(again).toContain("from Archived you can move to: backlog")
        expect(yield* err("block_story", { story_id: id, reason: "  " })).toContain('parameter "reason"')
        const unblocked = yield* ok("unblock_story", { story_id: id })
        expect(unblocked).toMatchObject({ from: "Archived", event: "Unblock", stage: { _tag: "Backlog" } })
        const notArchived = yield* err("unblock_story", { story_id: id })
        expect(notArchived).toContain("only an archived item can be unblocked")
        expect(notArchived).toContain("from Backlog you can move to: coding, archived")
      }),
    ),
  )
})
