// test/actors/MergeRemote.test.ts — the merge queue on the main node when an item's branch is on the
// nodes' remote only (coded on a worker) and that remote cannot be read: the merge waits, saying why,
// instead of failing the item for a branch it has, and lands once the remote answers.
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Queue } from "effect"
import * as path from "node:path"
import { MergeQueue, MergeQueueLive } from "../../src/actors/MergeQueue.js"
import type { MergeNews } from "../../src/actors/mergeWaiting.js"
import { Store } from "../../src/layers/Store.js"
import { makeTempDir } from "../support/gitRepo.js"
import { commandAgent, story, withPipeline } from "../support/pipeline.js"

const setup = {
  projectToml: `base_branch = "main"\ndefault_qa = "none"\n`,
  agentsToml: commandAgent("coder-1", "coder", "coder.sh"),
  scripts: { "coder.sh": "#!/bin/sh\n" },
  autoAssign: false,
  // Built by the test, so it can subscribe to the queue's news before anything merges.
  mergeQueue: false,
}

const newsOf = (news: Queue.Dequeue<MergeNews>, id: string, tag: MergeNews["_tag"]) =>
  Effect.gen(function* () {
    for (;;) {
      const n = yield* Queue.take(news)
      if (n.storyId === id && n._tag === tag) return n
    }
  }).pipe(
    Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error(`no ${tag} news of ${id}`) }),
    Effect.orDie,
  )

describe("a merge whose branch is on an unreachable remote", () => {
  it.live(
    "waits, saying why, instead of failing the item, and lands once the remote answers",
    () =>
      withPipeline(setup, ({ repo }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const queue = Context.get(yield* Layer.build(MergeQueueLive), MergeQueue)
          const news = yield* queue.subscribe
          const item = yield* store.create(story("Coded elsewhere"))
          const branch = `feature/story-${item.id}`
          // The worker's branch, pushed to a bare remote and absent here.
          const scratch = yield* makeTempDir()
          const bare = path.join(scratch.dir, "remote.git")
          yield* repo.git("init", "--quiet", "--bare", bare)
          yield* repo.git("checkout", "-q", "-b", branch, "main")
          yield* repo.write("feature.txt", "from a worker\n")
          yield* repo.git("add", "feature.txt")
          yield* repo.git("commit", "-q", "-m", "worker's work")
          yield* repo.git("push", "--quiet", bare, `${branch}:${branch}`, "main:main")
          yield* repo.git("checkout", "-q", "main")
          yield* repo.git("branch", "-q", "-D", branch)
          yield* repo.git("remote", "add", "origin", path.join(scratch.dir, "gone.git"))
          const before = yield* repo.git("rev-parse", "main")

          yield* store.apply(item.id, { _tag: "Start", at: 1 })
          yield* store.apply(item.id, {
            _tag: "GatesPassed",
            featureBranch: branch,
            commitsAhead: 1,
            qa: "none",
            at: 2,
          })
          const paused = yield* newsOf(news, item.id, "Paused")
          expect(paused._tag === "Paused" ? paused.why : "").toContain("origin")
          expect((yield* store.get(item.id)).stage._tag).toBe("Merge")
          expect((yield* store.mergeJobs).jobs).toMatchObject([{ storyId: item.id, state: "queued" }])
          expect(yield* repo.git("rev-parse", "main")).toBe(before)

          yield* repo.git("remote", "set-url", "origin", bare)
          expect((yield* queue.merge(item.id, () => Effect.void))._tag).toBe("Merged")
          expect((yield* store.get(item.id)).stage._tag).toBe("Done")
          expect(yield* repo.git("show", "main:feature.txt")).toBe("from a worker")
        }),
      ),
    60_000,
  )
})
