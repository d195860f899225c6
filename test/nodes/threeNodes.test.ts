// test/nodes/threeNodes.test.ts — a main node and two workers as real processes on loopback with a bare
// git remote: ten stories all reach Done, each coded by exactly one node (counted from the coders' own
// session logs on every node), and every story's file is on the main node's base branch.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { awaitStage, codedIn, codingIn, createStories, fileOnBase, git, makeCluster } from "./cluster.js"

describe("a main node and two workers", () => {
  it.scopedLive(
    "ten stories reach Done, each coded by exactly one node, nothing lost",
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster({ coderSleepMillis: 300, pushBase: true })
        const workers = yield* Effect.all([cluster.startWorker("w1"), cluster.startWorker("w2")], {
          concurrency: 2,
        })
        const ids = yield* createStories(cluster.url, 10)
        yield* awaitStage(cluster.url, ids, "Done", 60_000).pipe(Effect.tapDefect(() => cluster.report))

        const nodes = [cluster.main, ...workers]
        const coded = nodes.flatMap((n) => codedIn(n.root).map(([id, by]) => ({ id, by, logOf: n.name })))
        const sessions = nodes.flatMap((n) => codingIn(n.root))
        for (const id of ids) {
          const byId = coded.filter((c) => c.id === id)
          // One coder session committed, on one node, whose log is on that node.
          expect(byId, id).toHaveLength(1)
          expect(byId[0]!.by).toBe(byId[0]!.logOf)
          // Exactly one coder session was ever started for it: a claim is confirmed before its agent starts,
          // so two nodes that claimed at the same moment never both start.
          expect(sessions.filter(([s]) => s === id).length, id).toBe(1)
          expect(fileOnBase(cluster.main.root, `${id}.txt`)).toBe(`coded on ${byId[0]!.by}`)
        }
        // The workers took their share.
        expect(coded.filter((c) => c.by !== "main").length).toBeGreaterThan(0)
        // push_base: the remote's base is the main node's, every merge included.
        expect(git(cluster.remote, "rev-parse", "main")).toBe(git(cluster.main.root, "rev-parse", "main"))
      }),
    120_000,
  )
})
