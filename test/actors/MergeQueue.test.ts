// test/actors/MergeQueue.test.ts — the merge queue on a real server and repository with `command` agents:
// a story goes Backlog -> Done as one squash commit on main; gates failing on the merged result and a
// conflict with main (with gates, in a workspace; without, in the object store) each end MergeFailed with
// the reason, leaving main as it was; restarts finish or requeue what an earlier boot left.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { MergeQueueLive } from "../../src/actors/MergeQueue.js"
import type { StoryId } from "../../src/domain/StoryId.js"
import { Store } from "../../src/layers/Store.js"
import {
  awaitItem,
  awaitNoMergeJobs,
  commandAgent,
  story,
  twoStepCoder,
  withPipeline,
} from "../support/pipeline.js"

const projectToml = (test: string) => `base_branch = "main"
default_qa = "none"
[commands]
test = ${JSON.stringify(test)}
`

const agentsToml = commandAgent("coder-1", "coder", "coder.sh")

const setup = (test = "test -f feature.txt") => ({
  projectToml: projectToml(test),
  agentsToml,
  scripts: { "coder.sh": twoStepCoder },
  mergeQueue: true,
})

describe("merge queue", () => {
  it.live(
    "a story lands on main as one squash commit naming it, becomes Done, and its worktree and branch go",
    () =>
      withPipeline(setup(), ({ root, repo }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const before = yield* repo.git("rev-parse", "main")
          const item = yield* store.create(story("Land it"))
          const done = yield* awaitItem(
            item.id,
            (i) => i.stage._tag === "Done" || i.stage._tag === "Archived",
          )
          expect(done.stage._tag).toBe("Done")
          // The job is cleared last, after the worktree and branch are gone.
          yield* awaitNoMergeJobs
          const mergeCommit = done.stage._tag === "Done" ? done.stage.mergeCommit : ""
          expect(yield* repo.git("rev-parse", "main")).toBe(mergeCommit)
          // One commit on top of the old tip, with exactly the coder's change.
          expect(yield* repo.git("rev-parse", "main~1")).toBe(before)
          expect(yield* repo.git("log", "-1", "--format=%s", "main")).toBe(`Land it (${item.id})`)
          expect(yield* repo.git("diff", "--name-only", `${before}..main`)).toBe("feature.txt")
          expect(yield* repo.git("show", "main:feature.txt")).toBe(`feature of ${item.id}\nmore`)
          expect(existsSync(join(root, ".huskies", "worktrees", item.id))).toBe(false)
          expect(existsSync(join(root, ".huskies", "merge", item.id))).toBe(false)
          expect((yield* repo.gitResult("rev-parse", "--verify", `feature/story-${item.id}`)).code).not.toBe(
            0,
          )
          expect((yield* store.mergeJobs).jobs).toEqual([])
        }),
      ),
    60_000,
  )

  it.live(
    "gates that fail on the merged result end MergeFailed with their output, and main is not moved",
    () =>
      // Passes in the coder's worktree, fails in the merge workspace: what a bad interaction with main looks like.
      withPipeline(
        setup('case "$(pwd -P)" in */.huskies/merge/*) echo MERGED-RESULT-BROKEN; exit 1;; esac'),
        ({ repo }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const before = yield* repo.git("rev-parse", "main")
            const item = yield* store.create(story("Breaks main"))
            const failed = yield* awaitItem(item.id, (i) => i.stage._tag === "Archived")
            expect(failed.stage).toMatchObject({ _tag: "Archived", reason: { _tag: "MergeFailed" } })
            const why = JSON.stringify(failed.stage)
            expect(why).toContain("the gates failed on the merged result")
            expect(why).toContain("MERGED-RESULT-BROKEN")
            expect(yield* repo.git("rev-parse", "main")).toBe(before)
            expect((yield* store.mergeJobs).jobs).toEqual([])
          }),
      ),
    60_000,
  )

  it.live(
    "a conflict with main ends MergeFailed naming the file, and main keeps its own change",
    () =>
      withPipeline(
        {
          ...setup(),
          // The coder waits until main has its own feature.txt, so the squash must conflict.
          scripts: {
            "coder.sh": `#!/bin/sh\nwhile [ ! -f "$HUSKIES_WORKTREE/../go" ]; do sleep 0.1; done\n${twoStepCoder.replace("#!/bin/sh\n", "")}`,
          },
        },
        ({ root, repo }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("Collides"))
            yield* awaitItem(item.id, (i) => Object.values(i.execution).some((e) => e._tag === "Running"))
            yield* repo.write("feature.txt", "main's own version\n")
            yield* repo.git("add", "feature.txt")
            yield* repo.git("commit", "-q", "-m", "main changes feature.txt")
            const mainTip = yield* repo.git("rev-parse", "main")
            yield* repo.write(".huskies/worktrees/go", "")
            const failed = yield* awaitItem(item.id, (i) => i.stage._tag === "Archived")
            const why = JSON.stringify(failed.stage)
            expect(why).toContain("conflicts with main in feature.txt")
            expect(yield* repo.git("rev-parse", "main")).toBe(mainTip)
            expect(yield* repo.git("show", "main:feature.txt")).toBe("main's own version")
            expect(existsSync(join(root, ".huskies", "merge", item.id))).toBe(false)
          }),
      ),
    60_000,
  )

  it.live(
    "without gates (no workspace needed): a conflict with main ends MergeFailed naming the file, a clean branch lands and the checkout of main follows",
    () =>
      withPipeline(
        { ...setup(), projectToml: `base_branch = "main"\ndefault_qa = "none"\n`, autoAssign: false },
        ({ root, repo }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const branchOf = (id: string) => `feature/story-${id}`
            const coded = (name: string, file: string) =>
              Effect.gen(function* () {
                const item = yield* store.create(story(name))
                yield* store.apply(item.id, { _tag: "Start", at: 1 })
                yield* repo.git("checkout", "-q", "-b", branchOf(item.id), "main")
                yield* repo.write(file, `${name}\n`)
                yield* repo.git("add", file)
                yield* repo.git("commit", "-q", "-m", name)
                yield* repo.git("checkout", "-q", "main")
                return item.id
              })
            const clashing = yield* coded("Clashes", "feature.txt")
            const clean = yield* coded("Lands", "other.txt")
            yield* repo.write("feature.txt", "main's own version\n")
            yield* repo.git("add", "feature.txt")
            yield* repo.git("commit", "-q", "-m", "main changes feature.txt")
            const mainTip = yield* repo.git("rev-parse", "main")
            const toMerge = (id: StoryId) =>
              store.apply(id, {
                _tag: "GatesPassed",
                featureBranch: branchOf(id),
                commitsAhead: 1,
                qa: "none",
                at: 2,
              })
            yield* toMerge(clashing)
            const failed = yield* awaitItem(clashing, (i) => i.stage._tag === "Archived")
            expect(JSON.stringify(failed.stage)).toContain("conflicts with main in feature.txt")
            expect(yield* repo.git("rev-parse", "main")).toBe(mainTip)
            expect(yield* repo.git("show", "main:feature.txt")).toBe("main's own version")

            yield* toMerge(clean)
            const done = yield* awaitItem(
              clean,
              (i) => i.stage._tag === "Done" || i.stage._tag === "Archived",
            )
            expect(done.stage).toMatchObject({
              _tag: "Done",
              mergeCommit: yield* repo.git("rev-parse", "main"),
            })
            expect(yield* repo.git("rev-parse", "main~1")).toBe(mainTip)
            expect(yield* repo.git("show", "main:other.txt")).toBe("Lands")
            // The checkout of main followed, and no merge workspace is there or known to git.
            expect(yield* repo.git("status", "--porcelain", "--untracked-files=no")).toBe("")
            expect(readdirSync(join(root, ".huskies", "merge"))).toEqual([])
            expect(yield* repo.git("worktree", "list", "--porcelain")).not.toContain(".huskies/merge")
          }),
      ),
    60_000,
  )

  it.live(
    "a job whose commit reached main before a crash is finished on restart, without merging again, and the checkout of main catches up",
    () =>
      withPipeline({ ...setup(), autoAssign: false }, ({ repo }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("Half done"))
          yield* store.apply(item.id, { _tag: "Start", at: 1 })
          const branch = `feature/story-${item.id}`
          yield* repo.git("branch", branch, "main")
          yield* repo.git("checkout", "-q", branch)
          yield* repo.write("feature.txt", "the work\n")
          yield* repo.git("add", "feature.txt")
          yield* repo.git("commit", "-q", "-m", "work")
          // What a merge killed between its two last steps did: main moved to its squash commit (the
          // branch's tree on top of main), but the checkout of main still holds the old tip's files.
          yield* repo.git("checkout", "-q", "main")
          const oldTip = yield* repo.git("rev-parse", "main")
          const landed = yield* repo.git(
            "commit-tree",
            `${branch}^{tree}`,
            "-p",
            oldTip,
            "-m",
            `Half done (${item.id})`,
          )
          yield* repo.git("update-ref", "refs/heads/main", landed, oldTip)
          expect(yield* repo.git("status", "--porcelain", "--untracked-files=no")).toBe("D  feature.txt")
          // ...and its job, left running by an earlier boot, recorded that commit.
          yield* store.setMergeJob({
            storyId: item.id,
            state: "running",
            enqueuedAt: 1,
            boot: 1,
            commit: landed,
          })
          yield* store.apply(item.id, {
            _tag: "GatesPassed",
            featureBranch: branch,
            commitsAhead: 1,
            qa: "none",
            at: 2,
          })
          const done = yield* awaitItem(
            item.id,
            (i) => i.stage._tag === "Done" || i.stage._tag === "Archived",
          )
          expect(done.stage).toMatchObject({ _tag: "Done", mergeCommit: landed })
          expect(yield* repo.git("rev-parse", "main")).toBe(landed)
          // The checkout caught up, so a commit there cannot revert the merge.
          expect(yield* repo.git("status", "--porcelain", "--untracked-files=no")).toBe("")
          expect(yield* repo.git("show", ":feature.txt")).toBe("the work")
        }),
      ),
    60_000,
  )

  it.live(
    "jobs an earlier boot left running or waiting for a fix are queued again at startup and merged in order",
    () =>
      withPipeline({ ...setup("true"), autoAssign: false, mergeQueue: false }, ({ repo }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const ids: Array<StoryId> = []
          for (const name of ["Left fixing", "Left running"]) {
            const item = yield* store.create(story(name))
            yield* store.apply(item.id, { _tag: "Start", at: 1 })
            const branch = `feature/story-${item.id}`
            yield* repo.git("checkout", "-q", "-b", branch, "main")
            yield* repo.write(`${item.id}.txt`, name)
            yield* repo.git("add", ".")
            yield* repo.git("commit", "-q", "-m", name)
            yield* repo.git("checkout", "-q", "main")
            ids.push(item.id)
          }
          const [fixing, running] = ids as [StoryId, StoryId]
          // What a server killed mid-merge leaves: jobs stamped with its own boot. A job waiting for a
          // mergemaster that died with it would wait for ever if nothing looked at the boot.
          yield* store.setMergeJob({
            storyId: fixing,
            state: "fixing",
            enqueuedAt: 1,
            boot: 1,
            failures: 1,
            lastFailure: "a conflict",
          })
          yield* store.setMergeJob({ storyId: running, state: "running", enqueuedAt: 2, boot: 1 })
          for (const id of ids)
            yield* store.apply(id, {
              _tag: "GatesPassed",
              featureBranch: `feature/story-${id}`,
              commitsAhead: 1,
              qa: "none",
              at: 2,
            })
          // The queue of this (new) boot starts now.
          yield* Layer.build(MergeQueueLive)
          for (const id of ids) yield* awaitItem(id, (i) => i.stage._tag === "Done")
          const subjects = (yield* repo.git("log", "-2", "--format=%s", "main")).split("\n").reverse()
          expect(subjects).toEqual([`Left fixing (${fixing})`, `Left running (${running})`])
        }),
      ),
    60_000,
  )

  it.live("items Done for longer than archive_done_after_secs are archived as Completed", () =>
    withPipeline(
      {
        ...setup(),
        projectToml: `${projectToml("test -f feature.txt")}[merge]\narchive_done_after_secs = 1\n`,
      },
      () =>
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("Old news"))
          yield* awaitItem(item.id, (i) => i.stage._tag === "Done" || i.stage._tag === "Archived")
          const archived = yield* awaitItem(item.id, (i) => i.stage._tag === "Archived", 10_000)
          expect(archived.stage).toEqual({ _tag: "Archived", reason: { _tag: "Completed" } })
        }),
    ),
  )
})
