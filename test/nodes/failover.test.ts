// test/nodes/failover.test.ts — a worker killed with SIGKILL in the middle of its coder's session: its claim
// runs out (a short lease_secs), the other worker claims the item at the next epoch, takes up the branch the
// dead one pushed, and finishes the story; the merged file shows both hands, in order.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { awaitStage, codingIn, createStories, fileOnBase, killOrphans, makeCluster } from "./cluster.js"
import { eventually } from "../support/waits.js"

describe("a worker killed mid-agent", () => {
  it.scopedLive(
    "loses its claim when the lease runs out, and another node finishes the story from the pushed branch",
    () =>
      Effect.gen(function* () {
        // The main node codes nothing here; the gates want two lines, so the first session's work is pushed
        // and the coder runs again, and that second session is the one killed.
        const cluster = yield* makeCluster({
          leaseSecs: 3,
          autoAssign: (node) => node !== "main",
          testCommand: 'test "$(cat *.txt | wc -l)" -ge 2',
        })
        const workers = [
          yield* cluster.startWorker("w1", { sleepOwnMillis: 120_000 }),
          yield* cluster.startWorker("w2", { sleepOwnMillis: 120_000 }),
        ]
        const [id] = yield* createStories(cluster.url, 1)
        const story = id!
        // The second session of the node that took it: it sleeps until killed.
        const first = yield* eventually(
          "a worker's second coder session",
          Effect.sync(() =>
            workers.find((w) => codingIn(w.root).filter(([s, n]) => s === story && n === w.name).length >= 2),
          ),
          { millis: 45_000, every: "100 millis" },
        )
        const other = workers.find((w) => w !== first)!
        first.process.child.kill("SIGKILL")
        yield* Effect.promise(() => new Promise((done) => first.process.child.once("exit", done)))
        killOrphans(first.root)

        yield* awaitStage(cluster.url, [story], "Done", 60_000)
        expect(fileOnBase(cluster.main.root, `${story}.txt`)).toBe(
          `coded on ${first.name}\ncoded on ${other.name}`,
        )
        // The other node's session took the work over rather than starting again.
        expect(codingIn(other.root)).toEqual([[story, other.name]])
      }),
    150_000,
  )
})
