// test/nodes/history.test.ts — an item's history across real node processes: the moves a worker makes
// (its coder's start and exit, its gates) show in the main node's history with their reason and who, the
// main node's (its merge) in the worker's, identical on both; a worker that was stopped catches up on what
// the main node recorded meanwhile when it comes back.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import { HistoryEntry } from "../../src/domain/History.js"
import { mcpClient } from "../support/mcpClient.js"
import { eventually } from "../support/waits.js"
import { awaitStage, codedIn, createStories, makeCluster } from "./cluster.js"

const Status = Schema.Struct({
  history: Schema.Array(Schema.Struct({ ...HistoryEntry.fields, at: Schema.String })),
})
type Entries = (typeof Status.Type)["history"]

const Moved = Schema.Struct({ stage: Schema.Unknown })

/** The item's history on the node at `url` (the status tool), or an empty list while it does not know it. */
const historyAt = (url: string, id: string) =>
  Effect.scoped(
    Effect.flatMap(mcpClient(url), (call) =>
      Effect.map(call(Status, "status", { story_id: id }), (s) => s.history),
    ),
  )

/** Waits until the item's history on the node at `url` satisfies `ok`; returns it. */
const historyWhere = (url: string, id: string, what: string, ok: (entries: Entries) => boolean) =>
  eventually(
    what,
    // A node that does not know the item yet answers with an error: not yet.
    Effect.map(Effect.exit(historyAt(url, id)), (read) =>
      Exit.isSuccess(read) && ok(read.value) ? read.value : undefined,
    ),
    { millis: 30_000, every: "200 millis" },
  )

describe("an item's history across nodes", () => {
  it.scopedLive(
    "a worker's moves show on the main node and the main node's on the worker; a stopped worker catches up",
    () =>
      Effect.gen(function* () {
        // Only the worker starts items: the coder's run and its gates are the worker's moves.
        const cluster = yield* makeCluster({ autoAssign: (node) => node !== "main" })
        const w1 = yield* cluster.startWorker("w1")
        const [id] = yield* createStories(cluster.url, 1)
        const story = id!
        yield* awaitStage(cluster.url, [story], "Done", 60_000).pipe(Effect.tapDefect(() => cluster.report))
        expect(codedIn(w1.root).map(([, node]) => node)).toEqual(["w1"])

        const onMain = yield* historyAt(cluster.url, story)
        // Recorded on the worker: the start (auto-assign), the coder's start and exit, with reason and who.
        expect(onMain).toContainEqual(
          expect.objectContaining({ event: "Start", by: "server", reason: "auto-assign" }),
        )
        expect(onMain).toContainEqual(
          expect.objectContaining({ event: "AgentStarted", reason: "coder coder-1", by: "agent:coder-1" }),
        )
        expect(onMain).toContainEqual(expect.objectContaining({ event: "AgentExited", by: "agent:coder-1" }))
        // Recorded on the main node: the merge; the worker's history ends up the same, entry for entry.
        expect(onMain.at(-1)).toMatchObject({ to: "Done", by: "server" })
        const same = yield* eventually(
          "the worker's history to equal the main node's",
          Effect.gen(function* () {
            const [main, worker] = [
              yield* historyAt(cluster.url, story),
              yield* historyAt(w1.process.url, story),
            ]
            return JSON.stringify(main) === JSON.stringify(worker) ? worker : undefined
          }),
          { millis: 30_000, every: "200 millis" },
        )
        expect(same.length).toBeGreaterThanOrEqual(onMain.length)

        // Stopped, the worker misses what the main node records; back, it catches up.
        const exited = new Promise<number | null>((done) =>
          w1.process.child.once("exit", (code) => done(code)),
        )
        w1.process.child.kill("SIGTERM")
        expect(yield* Effect.promise(() => exited)).toBe(0)
        const [later] = yield* createStories(cluster.url, 1, "while away")
        const blocked = yield* Effect.scoped(
          Effect.flatMap(mcpClient(cluster.url), (call) =>
            call(Moved, "block_story", { story_id: later!, reason: "waits for the design review" }),
          ),
        )
        expect(blocked.stage).toMatchObject({ _tag: "Archived" })
        const back = yield* cluster.startWorker("w1")
        const caughtUp = yield* historyWhere(back.process.url, later!, "the worker to catch up", (e) =>
          e.some((entry) => entry.event === "Block"),
        )
        expect(caughtUp.map(({ event, reason, by }) => ({ event, reason, by }))).toEqual([
          { event: "Created", reason: undefined, by: "mcp:huskies-test" },
          { event: "Block", reason: "waits for the design review", by: "mcp:huskies-test" },
        ])
      }),
    120_000,
  )
})
