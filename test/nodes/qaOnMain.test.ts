// test/nodes/qaOnMain.test.ts — workers code, the main node runs QA: for a story a worker coded, the main
// node's QA agent finds the worker's commit in its own worktree (the branch taken up from the remote, as it
// was never local there), approves it, and the story is merged.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { awaitStage, codedIn, createStories, fileOnBase, makeCluster, qaSeenIn } from "./cluster.js"

describe("QA on the main node of work coded on a worker", () => {
  it.scopedLive(
    "takes the worker's pushed branch up and approves what it finds there",
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster({ qaAgent: true, coderSleepMillis: 200 })
        const workers = yield* Effect.all([cluster.startWorker("w1"), cluster.startWorker("w2")], {
          concurrency: 2,
        })
        const ids = yield* createStories(cluster.url, 4)
        yield* awaitStage(cluster.url, ids, "Done", 60_000).pipe(Effect.tapDefect(() => cluster.report))

        const coded = [cluster.main, ...workers].flatMap((n) => codedIn(n.root))
        const seen = new Map(qaSeenIn(cluster.main.root))
        // Every QA ran on the main node (workers run coders only) and saw the coder's line.
        for (const w of workers) expect(qaSeenIn(w.root)).toEqual([])
        for (const id of ids) {
          const by = coded.find(([s]) => s === id)?.[1]
          expect(seen.get(id), id).toBe(`coded on ${by}`)
          expect(fileOnBase(cluster.main.root, `${id}.txt`)).toBe(`coded on ${by}`)
        }
        expect(coded.some(([, by]) => by !== "main")).toBe(true)
      }),
    90_000,
  )
})
