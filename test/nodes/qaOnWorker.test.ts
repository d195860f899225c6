// test/nodes/qaOnWorker.test.ts — with `worker_stages = ["coder", "qa"]` a worker runs QA too: a story it
// coded goes on to QA there (the main node starts nothing itself here), its QA agent approves it on the
// worker's own tools, and the verdict reaches the main node, which merges the story.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { awaitStage, codedIn, createStories, fileOnBase, makeCluster, qaSeenIn } from "./cluster.js"

describe("QA on a worker", () => {
  it.scopedLive(
    "a worker with qa in worker_stages runs QA, and the main node merges on its verdict",
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster({
          qaAgent: true,
          workerStages: ["coder", "qa"],
          autoAssign: (node) => node !== "main",
        })
        const worker = yield* cluster.startWorker("w1")
        const ids = yield* createStories(cluster.url, 2)
        yield* awaitStage(cluster.url, ids, "Done", 60_000).pipe(Effect.tapDefect(() => cluster.report))

        // Coded and checked on the worker, none of it on the main node.
        expect(codedIn(cluster.main.root)).toEqual([])
        expect(qaSeenIn(cluster.main.root)).toEqual([])
        const seen = new Map(qaSeenIn(worker.root))
        for (const id of ids) {
          expect(codedIn(worker.root).map(([s]) => s)).toContain(id)
          expect(seen.get(id), id).toBe("coded on w1")
          expect(fileOnBase(cluster.main.root, `${id}.txt`)).toBe("coded on w1")
        }
      }),
    90_000,
  )
})
