// test/actors/MergeRemote.test.ts — the merge queue on the main node and the nodes' remote. An item a
// worker claimed is merged from the branch it pushed there; when that remote cannot be read, its merge
// waits, saying why, instead of failing the item for a branch it has, while the items queued behind it
// merge; it lands once the remote answers.
// An item no other node ever claimed is merged as it is here: the remote is not asked.
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import * as path from "node:path"
import * as Y from "yjs"
import { MergeQueue, MergeQueueLive } from "../../src/actors/MergeQueue.js"
import { NodeId } from "../../src/domain/ExecutionState.js"
import type { StoryId } from "../../src/domain/StoryId.js"
import { docMaps } from "../../src/layers/docModel.js"
import { Store } from "../../src/layers/Store.js"
import { writeClaimEntry } from "../../src/layers/storeClaims.js"
import { makeTempDir, type TempDir } from "../support/gitRepo.js"
import { awaitNews, gatesPassed, mergeQueueByTest, story, withPipeline } from "../support/pipeline.js"
import { awaitStore, holds } from "../support/waits.js"

const setup = mergeQueueByTest

/** A worker's claim on `id`, given back when it pushed its work, as it reaches the main node by sync. */
const claimedByWorker = (id: StoryId) =>
  Effect.gen(function* () {
    const store = yield* Store
    const worker = new Y.Doc()
    Y.applyUpdate(worker, yield* store.diff())
    const seen = Y.encodeStateVector(worker)
    writeClaimEntry(docMaps(worker), id, NodeId.make("node-worker"), {
      epoch: 1,
      leaseUntil: 2_000,
      claimedAt: 1_000,
      released: true,
    })
    yield* store.applyRemote(Y.encodeStateAsUpdate(worker, seen), "node-worker")
    worker.destroy()
  })

/** A bare remote `origin` of `repo`, holding `branch` with one commit adding `file`; absent from `repo`. */
const branchOnRemote = (repo: TempDir, branch: string, file: string) =>
  Effect.gen(function* () {
    const scratch = yield* makeTempDir()
    const bare = path.join(scratch.dir, "remote.git")
    yield* repo.git("init", "--quiet", "--bare", bare)
    yield* repo.git("checkout", "-q", "-b", branch, "main")
    yield* repo.write(file, "from a worker\n")
    yield* repo.git("add", file)
    yield* repo.git("commit", "-q", "-m", "worker's work")
    yield* repo.git("push", "--quiet", bare, `${branch}:${branch}`, "main:main")
    yield* repo.git("checkout", "-q", "main")
    yield* repo.git("branch", "-q", "-D", branch)
    return { bare, scratch: scratch.dir }
  })

/** `branch` in `repo` with one commit adding local.txt, made on this node; main stays checked out. */
const branchHere = (repo: TempDir, branch: string) =>
  Effect.gen(function* () {
    yield* repo.git("checkout", "-q", "-b", branch, "main")
    yield* repo.write("local.txt", "coded here\n")
    yield* repo.git("add", "local.txt")
    yield* repo.git("commit", "-q", "-m", "work here")
    yield* repo.git("checkout", "-q", "main")
  })

const intoMerge = (id: StoryId, branch: string) =>
  Effect.flatMap(Store, (store) => store.apply(id, { _tag: "Start", at: 1 })).pipe(
    Effect.zipRight(gatesPassed({ id, branch }, "none")),
  )

describe("the merge queue and the nodes' remote", () => {
  it.live(
    "a branch a worker pushed to an unreachable remote: its merge waits, saying why, the next one lands, and it lands once the remote answers",
    () =>
      withPipeline(setup, ({ repo }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const queue = Context.get(yield* Layer.build(MergeQueueLive), MergeQueue)
          const news = yield* queue.subscribe
          const item = yield* store.create(story("Coded elsewhere"))
          const branch = `feature/story-${item.id}`
          const { bare, scratch } = yield* branchOnRemote(repo, branch, "feature.txt")
          yield* repo.git("remote", "add", "origin", path.join(scratch, "gone.git"))
          const before = yield* repo.git("rev-parse", "main")

          yield* claimedByWorker(item.id)
          yield* intoMerge(item.id, branch)
          const why = yield* awaitNews(news, item.id, (n) => (n._tag === "Paused" ? n.why : undefined))
          expect(why).toContain("origin")
          expect((yield* store.get(item.id)).stage._tag).toBe("Merge")
          expect((yield* store.mergeJobs).jobs).toMatchObject([{ storyId: item.id, state: "queued" }])
          expect(yield* repo.git("rev-parse", "main")).toBe(before)

          // Queued behind it and coded here: it does not wait for the remote.
          const next = yield* store.create(story("Coded here"))
          const nextBranch = `feature/story-${next.id}`
          yield* branchHere(repo, nextBranch)
          yield* intoMerge(next.id, nextBranch)
          expect((yield* queue.merge(next.id, () => Effect.void))._tag).toBe("Merged")
          expect(yield* repo.git("show", "main:local.txt")).toBe("coded here")
          expect((yield* store.get(item.id)).stage._tag).toBe("Merge")
          expect(Option.isNone(yield* queue.paused)).toBe(true)
          // Shown as waiting alone, with why (list_merge_queue, get_merge_status and the chat's queue read it).
          expect((yield* queue.waiting).get(item.id)?.why).toBe(why)

          // The queue tidies a landed merge after answering (its worktree and branch go, and deleting a
          // branch rewrites .git/config), then clears its job: changing the remote before that could meet
          // git's lock on the config file.
          yield* awaitStore(
            `${next.id}'s merge job to be cleared`,
            Effect.map(store.mergeJobs, ({ jobs }) => holds(!jobs.some((j) => j.storyId === next.id))),
          )
          yield* repo.git("remote", "set-url", "origin", bare)
          expect((yield* queue.merge(item.id, () => Effect.void))._tag).toBe("Merged")
          expect((yield* store.get(item.id)).stage._tag).toBe("Done")
          expect(yield* repo.git("show", "main:feature.txt")).toBe("from a worker")
          expect((yield* queue.waiting).size).toBe(0)
        }),
      ),
    60_000,
  )

  it.live(
    "an item no other node claimed is merged from its branch here, without asking the remote",
    () =>
      withPipeline(setup, ({ repo }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const queue = Context.get(yield* Layer.build(MergeQueueLive), MergeQueue)
          const item = yield* store.create(story("Coded here"))
          const branch = `feature/story-${item.id}`
          // The remote has the branch with a commit this node never made: a fetch would merge it too.
          const { bare } = yield* branchOnRemote(repo, branch, "remote.txt")
          yield* repo.git("remote", "add", "origin", bare)
          yield* branchHere(repo, branch)

          yield* intoMerge(item.id, branch)
          expect((yield* queue.merge(item.id, () => Effect.void))._tag).toBe("Merged")
          expect(yield* repo.git("show", "main:local.txt")).toBe("coded here")
          expect(yield* repo.git("ls-tree", "--name-only", "main")).not.toContain("remote.txt")
          expect(yield* repo.git("for-each-ref", "refs/remotes/origin")).toBe("")
        }),
      ),
    60_000,
  )
})
