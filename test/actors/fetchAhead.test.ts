// test/actors/fetchAhead.test.ts — a worker's fetch started with its claim (branchSync.ts), on real
// repositories (a bare remote and a worker's clone): taken once by the worktree's preparation with the
// remote's base and the item's pushed branch in their tracking refs; not taken for another base, when too
// old, or after it was dropped; and a worktree is still prepared (by a fetch then) when none was started.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import * as path from "node:path"
import { type FetchAhead, makeFetchAhead, prepareBranch } from "../../src/actors/branchSync.js"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { makeStoryId } from "../../src/domain/StoryId.js"
import { newWorkItem } from "../../src/domain/WorkItem.js"
import { Git } from "../../src/layers/Git.js"
import { makeGitRepo, makeTempDir } from "../support/gitRepo.js"

const id = makeStoryId(1, "story", "fetched_ahead")
const branch = `feature/story-${id}`
const node = NodeId.make("node-w1")

/** A bare remote whose main and the item's branch are ahead of a worker's clone, and the Git service. */
const setup = Effect.gen(function* () {
  const origin = yield* makeGitRepo({ initialCommit: true })
  const scratch = yield* makeTempDir()
  const bare = path.join(scratch.dir, "remote.git")
  yield* origin.git("clone", "--quiet", "--bare", origin.dir, bare)
  const worker = path.join(scratch.dir, "w1")
  yield* origin.git("clone", "--quiet", bare, worker)
  // Pushed after the worker cloned: only a fetch brings them.
  yield* origin.git("-C", origin.dir, "commit", "--quiet", "--allow-empty", "-m", "merged elsewhere")
  yield* origin.git("-C", origin.dir, "branch", branch)
  yield* origin.git("-C", origin.dir, "push", "--quiet", bare, "main", branch)
  const tip = (ref: string) => origin.git("-C", origin.dir, "rev-parse", ref)
  const git = yield* Effect.provide(Git, Git.layerWith({ env: origin.env }))
  return { origin, worker, git, tip }
})

const fetchAheadIn = (worker: string, git: Git, maxAgeMillis?: number) =>
  makeFetchAhead(worker, Effect.succeed({ remote: "origin", base: "main" }), maxAgeMillis).pipe(
    Effect.provideService(Git, git),
  )

const prepared = (worker: string, git: Git, ahead: FetchAhead) =>
  prepareBranch(worker, newWorkItem(id, "story", 0), node, "main", {
    remote: "origin",
    worker: true,
    fetchedAhead: ahead.take,
  }).pipe(Effect.provideService(Git, git))

describe("a worker's fetch ahead", () => {
  it.scoped("is taken once, with the remote's base and the item's branch fetched", () =>
    Effect.gen(function* () {
      const { worker, git, tip, origin } = yield* setup
      const ahead = yield* fetchAheadIn(worker, git)
      yield* ahead.start(id)
      expect(yield* prepared(worker, git, ahead)).toBe("origin/main")
      const at = (ref: string) => origin.git("-C", worker, "rev-parse", ref)
      expect(yield* at("origin/main")).toBe(yield* tip("main"))
      // Taken up from the remote: the local branch is the pushed one.
      expect(yield* at(branch)).toBe(yield* tip(branch))
      expect(yield* ahead.take(id, "origin", "main")).toEqual(Option.none())
    }),
  )

  it.scoped("is not taken for another base, when older than its limit, or once dropped", () =>
    Effect.gen(function* () {
      const { worker, git } = yield* setup
      const ahead = yield* fetchAheadIn(worker, git)
      yield* ahead.start(id)
      expect(yield* ahead.take(id, "origin", "develop")).toEqual(Option.none())
      yield* ahead.start(id)
      yield* ahead.drop(id)
      expect(yield* ahead.take(id, "origin", "main")).toEqual(Option.none())
      const stale = yield* fetchAheadIn(worker, git, 0)
      yield* stale.start(id)
      yield* TestClock.adjust("5 millis")
      expect(yield* stale.take(id, "origin", "main")).toEqual(Option.none())
    }),
  )

  it.scoped("without one started, the preparation fetches by itself", () =>
    Effect.gen(function* () {
      const { worker, git, tip, origin } = yield* setup
      const ahead = yield* fetchAheadIn(worker, git)
      expect(yield* prepared(worker, git, ahead)).toBe("origin/main")
      expect(yield* origin.git("-C", worker, "rev-parse", "origin/main")).toBe(yield* tip("main"))
    }),
  )
})
