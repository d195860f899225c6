// test/actors/MergeJobWrites.test.ts — the merge queue when the real SQLite file refuses its job writes (a
// trigger on the updates log stands in for a full or failing disk): a merge whose job cannot be marked
// running is not started, one whose squash commit cannot be recorded does not move main (both wait and
// land later), and a job clear that is refused is retried until it takes.
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Context, Effect, Layer, Option } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import * as Y from "yjs"
import { MergeQueue, MergeQueueLive } from "../../src/actors/MergeQueue.js"
import { Project } from "../../src/layers/Project.js"
import { Store } from "../../src/layers/Store.js"
import { awaitNews, codedItem, gatesPassed, mergeQueueByTest, withPipeline } from "../support/pipeline.js"

const setup = mergeQueueByTest

/**
 * A second connection to the server's own database that makes it refuse the writes `when` matches (an SQL
 * condition on NEW.data, the Yjs update), counting each refusal in `refusals`; closed by the scope.
 */
const refuseWrites = (root: string, when: string) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => new Database(join(root, ".huskies", "huskies.db"))),
      (db) => Effect.sync(() => db.close()),
    ),
    (db) => {
      db.pragma("busy_timeout = 5000")
      db.exec(`CREATE TABLE refusals (n INTEGER NOT NULL); INSERT INTO refusals VALUES (0);
        CREATE TRIGGER refuse BEFORE INSERT ON updates WHEN ${when}
        BEGIN UPDATE refusals SET n = n + 1; SELECT RAISE(FAIL, 'disk refused the write'); END;`)
      return {
        refusals: () => (db.prepare("SELECT n FROM refusals").get() as { n: number }).n,
        allow: () => db.exec("DROP TRIGGER IF EXISTS refuse"),
        /** The merge jobs in the state on disk (snapshot and updates), as a server started now reads them. */
        storedJobs: () => {
          const doc = new Y.Doc()
          const rows = db
            .prepare("SELECT data FROM snapshots UNION ALL SELECT data FROM updates")
            .all() as Array<{ data: Uint8Array }>
          for (const row of rows) Y.applyUpdate(doc, row.data)
          return [...doc.getMap("mergeJobs").keys()]
        },
      }
    },
  )

describe("merge job writes the database refuses", () => {
  it.live(
    "a job that cannot be marked running is not merged: the queue waits, saying why, and merges once writes are taken",
    () =>
      withPipeline(setup, ({ root, repo }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const queue = Context.get(yield* Layer.build(MergeQueueLive), MergeQueue)
          const news = yield* queue.subscribe
          const { id, branch } = yield* codedItem(repo, "Marked first", "feature.txt")
          const before = yield* repo.git("rev-parse", "main")
          // Only the job's `running` mark: every other write (the move to Merge, the queued job) is taken.
          const disk = yield* refuseWrites(root, "instr(NEW.data, CAST('running' AS BLOB)) > 0")
          yield* gatesPassed({ id, branch }, "none")

          const why = yield* awaitNews(news, id, (n) => (n._tag === "Paused" ? n.why : undefined))
          expect(why).toContain("could not be marked running")
          expect(disk.refusals()).toBeGreaterThanOrEqual(1)
          // Nothing was started: main, the item and its job are as they were, and no workspace was made.
          expect(yield* repo.git("rev-parse", "main")).toBe(before)
          expect((yield* store.get(id)).stage._tag).toBe("Merge")
          expect((yield* store.mergeJobs).jobs).toMatchObject([{ storyId: id, state: "queued" }])
          expect(disk.storedJobs()).toEqual([id])
          expect(existsSync(join(root, ".huskies", "merge", id))).toBe(false)
          expect(yield* queue.paused).toMatchObject({ _tag: "Some", value: { why } })

          disk.allow()
          const result = yield* queue.merge(id, () => Effect.void)
          expect(result._tag).toBe("Merged")
          yield* awaitNews(news, id, (n) => (n._tag === "Cleared" ? true : undefined))
          const done = yield* store.get(id)
          expect(done.stage).toMatchObject({
            _tag: "Done",
            mergeCommit: yield* repo.git("rev-parse", "main"),
          })
          expect(yield* repo.git("rev-parse", "main~1")).toBe(before)
          expect((yield* store.mergeJobs).jobs).toEqual([])
          expect(Option.isNone(yield* queue.paused)).toBe(true)
        }),
      ),
    60_000,
  )

  it.live(
    "a squash commit that cannot be recorded on the job does not move main: the merge waits and lands once writes are taken",
    () =>
      withPipeline(setup, ({ root, repo }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const queue = Context.get(yield* Layer.build(MergeQueueLive), MergeQueue)
          const news = yield* queue.subscribe
          const { id, branch } = yield* codedItem(repo, "Recorded first", "feature.txt")
          const before = yield* repo.git("rev-parse", "main")
          // Only the running job's write that adds the squash commit (its `commit` key): without it a crash
          // after main moved could not be told from a merge that never happened.
          const disk = yield* refuseWrites(
            root,
            "instr(NEW.data, CAST('running' AS BLOB)) > 0 AND instr(NEW.data, CAST('commit' AS BLOB)) > 0",
          )
          yield* gatesPassed({ id, branch }, "none")

          const why = yield* awaitNews(news, id, (n) => (n._tag === "Paused" ? n.why : undefined))
          expect(why).toContain("could not be recorded")
          expect(disk.refusals()).toBeGreaterThanOrEqual(1)
          expect(yield* repo.git("rev-parse", "main")).toBe(before)
          expect((yield* store.get(id)).stage._tag).toBe("Merge")
          // Back in line, with no commit recorded: the next attempt squashes again from main's tip.
          const [job] = (yield* store.mergeJobs).jobs
          expect(job).toMatchObject({ storyId: id, state: "queued" })
          expect(job?.commit).toBeUndefined()

          disk.allow()
          expect((yield* queue.merge(id, () => Effect.void))._tag).toBe("Merged")
          yield* awaitNews(news, id, (n) => (n._tag === "Cleared" ? true : undefined))
          expect(yield* repo.git("rev-parse", "main~1")).toBe(before)
          expect((yield* store.get(id)).stage).toMatchObject({
            _tag: "Done",
            mergeCommit: yield* repo.git("rev-parse", "main"),
          })
          expect(disk.storedJobs()).toEqual([])
        }),
      ),
    60_000,
  )

  it.live(
    "the job of an item moved out of Merge while it waits for a fix is cleared, however often the database refuses it",
    () =>
      withPipeline(setup, ({ root, repo }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const { id, branch } = yield* codedItem(repo, "Waits for a fix", "feature.txt")
          // What a failed attempt handed to a mergemaster leaves: a job of this boot waiting for the fix,
          // which nothing but the item leaving Merge clears (the queue passes it by).
          yield* store.setMergeJob({
            storyId: id,
            state: "fixing",
            enqueuedAt: 1,
            boot: (yield* Project).startedAt,
            failures: 1,
            lastFailure: "a conflict",
          })
          yield* gatesPassed({ id, branch }, "none")
          const queue = Context.get(yield* Layer.build(MergeQueueLive), MergeQueue)
          const news = yield* queue.subscribe
          // A Yjs update whose first byte (its count of clients with new structs) is 0 only deletes: here,
          // the only such write is the job's clear. The first three are refused.
          const disk = yield* refuseWrites(
            root,
            "substr(NEW.data, 1, 1) = x'00' AND (SELECT n FROM refusals) < 3",
          )
          // A person takes the item back: the mergemaster's fix is not wanted any more.
          yield* store.apply(id, { _tag: "Reset", at: 3 })

          yield* awaitNews(news, id, (n) => (n._tag === "Cleared" ? true : undefined))
          expect(disk.refusals()).toBe(3)
          expect((yield* store.mergeJobs).jobs).toEqual([])
          // What the database holds agrees: a server started on it now finds no job to run.
          expect(disk.storedJobs()).toEqual([])
          expect((yield* store.get(id)).stage._tag).toBe("Backlog")
        }),
      ),
  )
})
