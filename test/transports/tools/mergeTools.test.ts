// test/transports/tools/mergeTools.test.ts — merge_agent_work, get_merge_status, list_merge_queue,
// report_merge_failure and accept_story on a real server and repository, auto mode off: each test puts
// its items in place with a real feature branch, and the real merge queue merges them.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Store } from "../../../src/layers/Store.js"
import { toolRegistry } from "../../../src/transports/tools/registry.js"
import {
  awaitItem,
  awaitNoMergeJobs,
  codedItem,
  gatesPassed,
  story,
  withPipeline,
} from "../../support/pipeline.js"
import { err, ok } from "../../support/tools.js"
import { eventually, holds } from "../../support/waits.js"
import { itemWithWork } from "./gitProject.js"

// The gates take a moment, so a second call can find the merge running.
const setup = {
  projectToml: `base_branch = "main"\n[commands]\ntest = "sleep 1"\n`,
  agentsToml: `[[agent]]\nname = "coder-1"\nstage = "coder"\nruntime = "command"\ncommand = ["true"]\n`,
  autoAssign: false,
  mergeQueue: true,
}

/** get_merge_status once the item's merge job is in `state`. Merge-job writes publish no Store event. */
const mergeStatus = (id: string, state: "running" | "fixing") =>
  eventually(
    `the merge job of ${id} to be ${state}`,
    Effect.map(ok("get_merge_status", { story_id: id }), (status) =>
      (status["job"] as { state?: string } | null)?.state === state ? status : undefined,
    ),
  )

/** list_merge_queue once the queue says it is paused (queue state, not in the Store). */
const pausedQueue = eventually(
  "the merge queue to pause",
  Effect.map(ok("list_merge_queue", {}), (queue) => (queue["paused"] === null ? undefined : queue)),
)

const callWithProgress = (name: string, args: unknown) =>
  Effect.gen(function* () {
    const messages: Array<string> = []
    const outcome = yield* toolRegistry.call(name, args, {
      progress: (_p, _t, message) =>
        Effect.sync(() => void (message === undefined || messages.push(message))),
    })
    if (outcome._tag !== "Ok") return yield* Effect.dieMessage(`${name} failed: ${outcome.message}`)
    return { value: outcome.value as Record<string, unknown>, messages }
  })

describe("merge tools", () => {
  it.live(
    "merge_agent_work blocks with progress; a second call joins the same merge; status and queue show it",
    () =>
      withPipeline(setup, ({ repo }) =>
        Effect.gen(function* () {
          const before = yield* repo.git("rev-parse", "main")
          const id = yield* itemWithWork(repo, "Joined", "joined.txt", "none")
          const first = yield* Effect.fork(callWithProgress("merge_agent_work", { story_id: id }))
          // Caught mid-merge: the job runs, and the queue says what it is doing.
          const status = yield* mergeStatus(id, "running")
          expect(status).toMatchObject({
            story_id: id,
            attempts: 0,
            attempts_limit: 3,
            job: { state: "running", position: 0 },
          })
          const queue = yield* ok("list_merge_queue", {})
          expect(queue["jobs"]).toMatchObject([{ story_id: id, state: "running", failed_attempts: 0 }])
          const second = yield* callWithProgress("merge_agent_work", { story_id: id })
          const firstDone = yield* first.await.pipe(Effect.flatten)
          for (const answer of [firstDone.value, second.value]) {
            expect(answer).toMatchObject({ story_id: id, merged: true, why: null, stage: { _tag: "Done" } })
          }
          expect(firstDone.value["merge_commit"]).toBe(second.value["merge_commit"])
          expect(firstDone.messages.join("\n")).toContain("squashing feature/story-")
          expect(firstDone.messages.join("\n")).toContain("running the gates on the merged result")
          // One merge, not two: exactly one commit on top of the old tip.
          expect(yield* repo.git("rev-parse", "main~1")).toBe(before)
          expect(yield* repo.git("rev-parse", "main")).toBe(firstDone.value["merge_commit"])
          // The job is cleared last, once the worktree and branch are gone.
          yield* eventually(
            "the merge job to be cleared",
            Effect.map(ok("get_merge_status", { story_id: id }), (s) => holds(s["job"] === null)),
          )
          expect(yield* ok("get_merge_status", { story_id: id })).toMatchObject({ stage: { _tag: "Done" } })
          // Done already: the answer at once, no new merge.
          expect(yield* ok("merge_agent_work", { story_id: id })).toMatchObject({ merged: true })
        }),
      ),
    60_000,
  )

  it.live(
    "get_merge_status counts the attempts used, apart from the [merge] attempts limit",
    () =>
      withPipeline(
        {
          ...setup,
          // The gates fail on every merged result; the mergemaster only waits, so the job stays in fixing.
          projectToml: `base_branch = "main"\n[commands]\ntest = "exit 1"\n[merge]\nattempts = 4\n`,
          agentsToml: `${setup.agentsToml}[[agent]]\nname = "merger"\nstage = "mergemaster"\nruntime = "command"\ncommand = ["sleep", "60"]\n`,
        },
        ({ repo }) =>
          Effect.gen(function* () {
            const id = yield* itemWithWork(repo, "Fails once", "once.txt", "none")
            const status = yield* mergeStatus(id, "fixing")
            expect(status).toMatchObject({
              attempts: 1,
              attempts_limit: 4,
              job: { state: "fixing", failed_attempts: 1 },
            })
          }),
      ),
    60_000,
  )

  it.live("merges run one at a time in arrival order; list_merge_queue shows the line", () =>
    withPipeline(setup, ({ repo }) =>
      Effect.gen(function* () {
        const store = yield* Store
        // Every branch first: once an item is in Merge the queue adds its merge workspace, and a git of
        // the test's own in the same repository meanwhile can read that half-written worktree record.
        const coded = [
          yield* codedItem(repo, "First", "first.txt"),
          yield* codedItem(repo, "Second", "second.txt"),
          yield* codedItem(repo, "Third", "third.txt"),
        ]
        for (const item of coded) yield* gatesPassed(item, "none")
        const ids = coded.map((item) => item.id)
        // Each item's job is queued as its move to Merge is seen.
        yield* eventually(
          "three merge jobs",
          Effect.map(store.mergeJobs, ({ jobs }) => holds(jobs.length === 3)),
        )
        const queue = yield* ok("list_merge_queue", {})
        expect((queue["jobs"] as Array<{ story_id: string }>).map((j) => j.story_id)).toEqual(ids)
        expect((queue["jobs"] as Array<{ position: number }>).map((j) => j.position)).toEqual([0, 1, 2])
        for (const id of ids) yield* awaitItem(id, (i) => i.stage._tag === "Done")
        const subjects = (yield* repo.git("log", "-3", "--format=%s", "main")).split("\n").reverse()
        expect(subjects).toEqual(["First", "Second", "Third"].map((n, i) => `${n} (${ids[i]})`))
        yield* awaitNoMergeJobs
      }),
    ),
  )

  it.live("accept_story moves a human-QA item to Merge, and the queue takes it to Done", () =>
    withPipeline(setup, ({ repo }) =>
      Effect.gen(function* () {
        const id = yield* itemWithWork(repo, "Human checked", "human.txt", "human")
        expect((yield* (yield* Store).get(id)).stage._tag).toBe("Qa")
        const accepted = yield* ok("accept_story", { story_id: id, notes: "looked fine" })
        expect(accepted).toMatchObject({ stage: { _tag: "Merge", commitsAhead: 1 } })
        expect(yield* ok("merge_agent_work", { story_id: id })).toMatchObject({ merged: true })
        expect(yield* repo.git("show", "main:human.txt")).toBe("Human checked")
      }),
    ),
  )

  it.live("refusals name the stage and what to do", () =>
    withPipeline(setup, ({ repo }) =>
      Effect.gen(function* () {
        const store = yield* Store
        const backlog = (yield* store.create(story("Not yet"))).id
        expect(yield* err("merge_agent_work", { story_id: backlog })).toContain(
          "it is in Backlog; only items in Merge are merged",
        )
        expect(yield* err("accept_story", { story_id: backlog })).toContain(
          "it is in Backlog; accept_story approves items in QA",
        )
        expect(yield* err("report_merge_failure", { story_id: backlog, reason: "x" })).toContain(
          "a merge failure is reported for items in Merge",
        )
        expect(yield* err("report_merge_failure", { story_id: backlog, reason: "  " })).toContain("reason")
        const id = yield* itemWithWork(repo, "Merged already", "merged.txt", "none")
        yield* awaitItem(id, (i) => i.stage._tag === "Done")
        expect(yield* err("report_merge_failure", { story_id: id, reason: "too late" })).toContain(
          "it is in Done",
        )
        expect(yield* err("accept_story", { story_id: "999_story_nothing" })).toContain("999_story_nothing")
      }),
    ),
  )

  it.live(
    "a checkout of main with uncommitted changes pauses the queue (the item keeps its place) until it is clean",
    () =>
      withPipeline(setup, ({ repo }) =>
        Effect.gen(function* () {
          const store = yield* Store
          yield* repo.write("notes.txt", "mine\n")
          yield* repo.git("add", "notes.txt")
          yield* repo.git("commit", "-q", "-m", "notes")
          const before = yield* repo.git("rev-parse", "main")
          yield* repo.write("notes.txt", "mine, being edited\n")
          const id = yield* itemWithWork(repo, "Waits politely", "polite.txt", "none")
          const queue = yield* pausedQueue
          expect(JSON.stringify(queue["paused"])).toContain("uncommitted changes (notes.txt)")
          expect(queue["jobs"]).toMatchObject([{ story_id: id, state: "queued" }])
          expect((yield* store.get(id)).stage._tag).toBe("Merge")
          expect(yield* repo.git("rev-parse", "main")).toBe(before)
          // The edit is the user's: untouched. Once it is committed, the merge goes through.
          expect(yield* repo.read("notes.txt")).toBe("mine, being edited\n")
          yield* repo.git("commit", "-q", "-am", "my edit")
          expect(yield* ok("merge_agent_work", { story_id: id })).toMatchObject({ merged: true })
          expect(yield* ok("list_merge_queue", {})).toMatchObject({ paused: null })
          expect(yield* repo.read("notes.txt")).toBe("mine, being edited\n")
          expect(yield* repo.read("polite.txt")).toBe("Waits politely\n")
        }),
      ),
    60_000,
  )

  it.live("with update_checkout = false, merges wait while main is checked out, and go once it is not", () =>
    withPipeline(
      { ...setup, projectToml: `${setup.projectToml}[merge]\nupdate_checkout = false\n` },
      ({ repo }) =>
        Effect.gen(function* () {
          const before = yield* repo.git("rev-parse", "main")
          const id = yield* itemWithWork(repo, "Hands off", "hands.txt", "none")
          const queue = yield* pausedQueue
          expect(JSON.stringify(queue["paused"])).toContain("update_checkout = false")
          expect(yield* repo.git("rev-parse", "main")).toBe(before)
          // The project root leaves main: the merge goes through, and that checkout is not touched.
          yield* repo.git("checkout", "-q", "--detach", "main")
          expect(yield* ok("merge_agent_work", { story_id: id })).toMatchObject({ merged: true })
          expect(yield* repo.git("rev-parse", "HEAD")).toBe(before)
          expect(yield* repo.git("show", "main:hands.txt")).toBe("Hands off")
        }),
    ),
  )
})
