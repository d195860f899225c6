// test/nodes/partition.test.ts — two workers claim the same item while one of them is cut off from the main
// node (a TCP proxy drops its connection): after healing, every replica names the same winner, the loser's
// agent was stopped and pushed nothing (the remote branch holds the winner's commits only), the winner's
// work is merged, and the three replicas' documents are identical.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { mcpClient } from "../support/mcpClient.js"
import { eventually } from "../support/waits.js"
import { awaitStage, codedIn, createStories, fileOnBase, git, makeCluster } from "./cluster.js"
import { makeProxy } from "../support/proxy.js"

const Dump = Schema.Struct({ state: Schema.Unknown })
const Started = Schema.Struct({ story_id: Schema.String })

/** JSON with every object's keys sorted: replicas agree on content, not on the order a map lists keys in. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  )

/** The whole document of the node at `url` (dump_state), canonical. */
const dumpAt = (url: string) =>
  Effect.scoped(Effect.flatMap(mcpClient(url), (call) => call(Dump, "dump_state"))).pipe(
    Effect.map((d) => canonical(d.state)),
  )

interface ClaimEntries {
  readonly [node: string]: { readonly epoch: number; readonly released?: boolean }
}

describe("a partition while two workers claim the same item", () => {
  it.scopedLive(
    "converges on one winner; the loser stops without pushing; the replicas end identical",
    () =>
      Effect.gen(function* () {
        // Nobody starts items by itself: each worker is told to, one of them while cut off.
        const cluster = yield* makeCluster({ leaseSecs: 3, autoAssign: () => false })
        const proxy = yield* makeProxy(cluster.url)
        const w1 = yield* cluster.startWorker("w1", { sleepMillis: 6_000 })
        const w2 = yield* cluster.startWorker("w2", { sleepMillis: 6_000, rendezvous: proxy.url })
        const [id] = yield* createStories(cluster.url, 1)
        const story = id!
        // Both replicas have the item before the cut.
        for (const w of [w1, w2])
          yield* eventually(
            `${w.name} to have ${story}`,
            Effect.map(dumpAt(w.process.url), (d) => (d.includes(story) ? true : undefined)),
            { millis: 15_000, every: "100 millis" },
          )
        yield* proxy.cut
        for (const w of [w1, w2])
          yield* Effect.scoped(
            Effect.flatMap(mcpClient(w.process.url), (call) =>
              call(Started, "start_agent", { story_id: story }),
            ),
          )
        // Both claimed at the same epoch, each unaware of the other.
        yield* Effect.sleep("1 second")
        yield* proxy.heal

        yield* awaitStage(cluster.url, [story], "Done", 60_000)
        const entries = (dump: string) =>
          (JSON.parse(dump) as { claims: Record<string, ClaimEntries> }).claims[story] ?? {}
        const claims = entries(yield* dumpAt(cluster.url))
        const epochs = Object.values(claims).map((c) => c.epoch)
        expect(epochs, JSON.stringify(claims)).toEqual([1, 1])
        // The coded line on the base is the winner's alone, and the remote branch has only its commits.
        const winners = [w1, w2].filter((w) => codedIn(w.root).some(([s]) => s === story))
        expect(winners).toHaveLength(1)
        const winner = winners[0]!
        const loser = winner === w1 ? w2 : w1
        expect(fileOnBase(cluster.main.root, `${story}.txt`)).toBe(`coded on ${winner.name}`)
        const authors = git(cluster.remote, "log", "--format=%an", "main..feature/story-" + story)
        expect(authors.split("\n")).toEqual([winner.name])
        // The loser's session log shows its agent was stopped before it committed.
        expect(codedIn(loser.root)).toEqual([])

        // Every replica holds the same document.
        const dumps = yield* eventually(
          "three identical replicas",
          Effect.gen(function* () {
            const all = [
              yield* dumpAt(cluster.url),
              yield* dumpAt(w1.process.url),
              yield* dumpAt(w2.process.url),
            ]
            return all.every((d) => d === all[0]) ? all : undefined
          }),
          { millis: 20_000, every: "250 millis" },
        ).pipe(
          Effect.tapDefect(() =>
            Effect.gen(function* () {
              const all = [
                yield* dumpAt(cluster.url),
                yield* dumpAt(w1.process.url),
                yield* dumpAt(w2.process.url),
              ]
              const parsed = all.map((d) => JSON.parse(d) as Record<string, unknown>)
              for (const key of Object.keys(parsed[0]!))
                if (new Set(parsed.map((p) => JSON.stringify(p[key]))).size > 1)
                  console.error(
                    key,
                    parsed.map((p) => JSON.stringify(p[key])),
                  )
            }),
          ),
        )
        expect(dumps[0]).toContain(story)
      }),
    120_000,
  )
})
