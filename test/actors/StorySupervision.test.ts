// test/actors/StorySupervision.test.ts — story actors under their supervisor, on a real server, repository
// and SQLite file: a story actor that crashes (its agent's start cannot be written: the database refuses it,
// as a full disk would) is restarted and re-reads the item from the Store; one that keeps crashing is
// contained: its item is archived as Blocked with the reason, and the server and other items go on.
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { join } from "node:path"
import { Agents } from "../../src/actors/Scheduler.js"
import { Store } from "../../src/layers/Store.js"
import { awaitItem, commandAgent, gitIdentity, story, withPipeline } from "../support/pipeline.js"
import { eventually, holds } from "../support/waits.js"

const setup = {
  projectToml: `base_branch = "main"\ndefault_qa = "none"\n[commands]\ntest = "test -f feature.txt"\n`,
  agentsToml: commandAgent("coder-1", "coder", "coder.sh"),
  scripts: {
    "coder.sh": `#!/bin/sh\nset -e\n${gitIdentity}\necho "feature of $HUSKIES_STORY_ID" > feature.txt\ngit add feature.txt\ngit commit -q -m "the feature"\n`,
  },
}

/**
 * Makes the server's own database refuse every write that records a running agent, the way a full disk
 * refuses it (the Store's writes are Yjs updates, whose strings are stored as they are). Returns the undo.
 */
const refuseAgentStarts = (root: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const db = new Database(join(root, ".huskies", "huskies.db"))
      db.exec(
        "CREATE TRIGGER full_disk BEFORE INSERT ON updates WHEN instr(NEW.data, CAST('Running' AS BLOB)) > 0 BEGIN SELECT RAISE(ABORT, 'disk full'); END",
      )
      return db
    }),
    (db) => Effect.sync(() => db.close()),
  ).pipe(Effect.map((db) => Effect.sync(() => db.exec("DROP TRIGGER IF EXISTS full_disk"))))

const restartsOf = (id: string) =>
  Effect.flatMap(Agents, (agents) =>
    Effect.map(agents.stories, (views) => views.find((v) => v.storyId === id)?.restarts ?? 0),
  )

describe("story actors under supervision", () => {
  it.scopedLive("a story actor that crashes is restarted, and its item goes on once the cause is gone", () =>
    withPipeline(setup, ({ root }) =>
      Effect.gen(function* () {
        const store = yield* Store
        const allowStarts = yield* refuseAgentStarts(root)
        const item = yield* store.create(story("Hits a full disk"))
        // Its actor crashed on the refused write and its supervisor started it again.
        yield* eventually(
          `${item.id}'s actor to be restarted`,
          Effect.map(restartsOf(item.id), (n) => holds(n >= 1)),
          {
            millis: 10_000,
          },
        )
        yield* allowStarts
        // The restarted actor read the item again from the Store and ran it to the merge handoff.
        const merged = yield* awaitItem(item.id, (i) => i.stage._tag === "Merge", 20_000)
        expect(merged.attempts).toBe(0)
      }),
    ),
  )

  it.scopedLive(
    "a story actor that keeps crashing is contained: its item is Blocked with the reason, nothing restarts it, and the server goes on",
    () =>
      withPipeline(setup, ({ root }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const allowStarts = yield* refuseAgentStarts(root)
          const item = yield* store.create(story("Keeps crashing"))
          const blocked = yield* awaitItem(item.id, (i) => i.stage._tag === "Archived", 20_000)
          expect(blocked.stage).toMatchObject({ _tag: "Archived", reason: { _tag: "Blocked" } })
          const why = JSON.stringify(blocked.stage)
          // Three restarts allowed within 60 s (the default), so the fourth crash gave up.
          expect(why).toContain("its story actor crashed 4 times within 60 s")
          expect(why).toContain("disk full")
          // Contained: no actor of its own is left, and no agent ran on it.
          expect((yield* (yield* Agents).stories).map((v) => v.storyId)).not.toContain(item.id)
          expect(blocked.execution).toEqual({})

          // The server goes on: once the disk has room, a new item runs as usual, and the blocked one stays.
          yield* allowStarts
          const next = yield* store.create(story("After the full disk"))
          yield* awaitItem(next.id, (i) => i.stage._tag === "Merge", 20_000)
          expect((yield* store.get(item.id)).stage).toMatchObject({ reason: { _tag: "Blocked" } })
        }),
      ),
    60_000,
  )
})
