// test/nodes/shutdown.test.ts — SIGTERM to a worker whose coder is running: the worker stops its agent,
// gives its claim back (released on the main node's replica at once, long before the lease would run out),
// and exits with code 0; started again on its clone, it signs in without a token (its admission is kept).
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { mcpClient } from "../support/mcpClient.js"
import { eventually } from "../support/waits.js"
import { codingIn, createStories, makeCluster } from "./cluster.js"

const Dump = Schema.Struct({ state: Schema.Unknown })
const Started = Schema.Struct({ story_id: Schema.String })

interface ItemDump {
  readonly claim?: Record<string, { readonly released?: boolean }>
}

describe("a worker stopped with SIGTERM", () => {
  it.scopedLive(
    "releases its claims and exits cleanly; it comes back without a token",
    () =>
      Effect.gen(function* () {
        // A lease far longer than the test: only a release can free the item in time.
        const cluster = yield* makeCluster({ leaseSecs: 600, autoAssign: () => false })
        const w1 = yield* cluster.startWorker("w1", { sleepMillis: 60_000 })
        const [id] = yield* createStories(cluster.url, 1)
        const story = id!
        const main = yield* mcpClient(cluster.url)
        yield* eventually(
          `w1 to have ${story}`,
          Effect.scoped(
            Effect.flatMap(mcpClient(w1.process.url), (call) =>
              call(Dump, "dump_state", { story_id: story }),
            ),
          ).pipe(Effect.map((d) => ((d.state as { item?: unknown }).item === undefined ? undefined : true))),
          { millis: 15_000, every: "100 millis" },
        )
        yield* Effect.scoped(
          Effect.flatMap(mcpClient(w1.process.url), (call) =>
            call(Started, "start_agent", { story_id: story }),
          ),
        )
        yield* eventually(
          "w1's coder to start",
          Effect.sync(() => (codingIn(w1.root).some(([s]) => s === story) ? true : undefined)),
          { millis: 15_000, every: "100 millis" },
        )
        const claimOnMain = Effect.map(main(Dump, "dump_state", { story_id: story }), (d) =>
          Object.values((d.state as ItemDump).claim ?? {}),
        )
        expect((yield* claimOnMain).map((c) => c.released ?? false)).toEqual([false])

        const exited = new Promise<number | null>((done) =>
          w1.process.child.once("exit", (code) => done(code)),
        )
        w1.process.child.kill("SIGTERM")
        expect(yield* Effect.promise(() => exited)).toBe(0)
        const released = yield* eventually(
          "the claim released on the main node",
          Effect.map(claimOnMain, (claims) =>
            claims.every((c) => c.released === true) ? claims : undefined,
          ),
          { millis: 10_000, every: "100 millis" },
        )
        expect(released).toHaveLength(1)

        // Its admission is kept: started again with no token, it is let in (its node RPC client attaches
        // with the ticket of a Welcome).
        expect(existsSync(join(w1.root, ".huskies", "run", "admission.json"))).toBe(true)
        const again = yield* cluster.startWorker("w1")
        expect(again.process.child.spawnargs).not.toContain("--token")
        yield* eventually(
          "w1 to be admitted again",
          Effect.sync(() => (again.process.output().includes("attached to main node") ? true : undefined)),
          { millis: 15_000, every: "100 millis" },
        )
      }),
    90_000,
  )
})
