// test/nodes/claimRace.test.ts — two connected workers claim the same item at the same moment, one of them on
// a slow link (every byte to and from the main node held 1.5 s), so neither claim can have seen the other:
// both claims are written at the same epoch, yet the agents' own session logs show exactly one agent ever
// started for the item, on the node the holder rule names, and the other node's start was refused.
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Either, Schema } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { mcpClient } from "../support/mcpClient.js"
import { eventually } from "../support/waits.js"
import { awaitStage, codingIn, createStories, fileOnBase, makeCluster, type Node } from "./cluster.js"
import { makeSlowLink } from "./slowLink.js"

const Dump = Schema.Struct({ state: Schema.Unknown })
const Started = Schema.Struct({ story_id: Schema.String })

interface ClaimEntries {
  readonly [node: string]: { readonly epoch: number; readonly released?: boolean }
}

/** The whole document of the node at `url` (dump_state), as JSON text. */
const dumpAt = (url: string) =>
  Effect.scoped(Effect.flatMap(mcpClient(url), (call) => call(Dump, "dump_state"))).pipe(
    Effect.map((d) => JSON.stringify(d.state)),
  )

/** The node id a worker was admitted as (it keeps it in .huskies/run/admission.json). */
const nodeIdOf = (node: Node): string =>
  (JSON.parse(readFileSync(join(node.root, ".huskies", "run", "admission.json"), "utf8")) as { node: string })
    .node

const startAgentOn = (node: Node, story: string) =>
  Effect.scoped(
    Effect.flatMap(mcpClient(node.process.url), (call) => call(Started, "start_agent", { story_id: story })),
  ).pipe(
    // The node that loses is refused: a failed call is its answer, kept as the test's evidence.
    Effect.sandbox,
    Effect.either,
  )

describe("two connected workers claim the same item at the same moment", () => {
  it.scopedLive(
    "exactly one agent ever starts, on the node the holder rule names",
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster({ autoAssign: () => false })
        const slow = yield* makeSlowLink(cluster.url, 1_500)
        const w1 = yield* cluster.startWorker("w1", { sleepMillis: 2_000 })
        const w2 = yield* cluster.startWorker("w2", { sleepMillis: 2_000, rendezvous: slow.url })
        const [id] = yield* createStories(cluster.url, 1)
        const story = id!
        for (const w of [w1, w2])
          yield* eventually(
            `${w.name} to have ${story}`,
            Effect.map(dumpAt(w.process.url), (d) => (d.includes(story) ? true : undefined)),
            { millis: 20_000, every: "100 millis" },
          )
        // Within the slow link's delay of each other: neither node has the other's claim when it writes its own.
        const [on1, on2] = yield* Effect.all([startAgentOn(w1, story), startAgentOn(w2, story)], {
          concurrency: 2,
        })

        yield* awaitStage(cluster.url, [story], "Done", 60_000).pipe(Effect.tapDefect(() => cluster.report))
        const dump = JSON.parse(yield* dumpAt(cluster.url)) as { claims: Record<string, ClaimEntries> }
        const claims = dump.claims[story] ?? {}
        // Both wrote a claim at epoch 1: the race took place.
        const ids = { w1: nodeIdOf(w1), w2: nodeIdOf(w2) }
        expect(Object.keys(claims).sort(), JSON.stringify(claims)).toEqual([ids.w1, ids.w2].sort())
        expect(Object.values(claims).map((c) => c.epoch)).toEqual([1, 1])
        // The holder rule at equal epochs: the lower node id.
        const winner = ids.w1 < ids.w2 ? w1 : w2
        const loser = winner === w1 ? w2 : w1
        const sessions = [cluster.main, w1, w2].flatMap((n) => codingIn(n.root).filter(([s]) => s === story))
        expect(sessions).toEqual([[story, winner.name]])
        expect(fileOnBase(cluster.main.root, `${story}.txt`)).toBe(`coded on ${winner.name}`)
        // The winner's start was accepted; the loser's refused, naming the winner.
        const [won, lost] = winner === w1 ? [on1, on2] : [on2, on1]
        expect(Either.isRight(won)).toBe(true)
        expect(Either.isLeft(lost)).toBe(true)
        expect(Either.isLeft(lost) ? Cause.pretty(lost.left) : "").toContain(ids[winner.name as "w1" | "w2"])
        expect(loser.name).not.toBe(winner.name)
      }),
    120_000,
  )
})
