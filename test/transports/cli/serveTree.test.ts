// test/transports/cli/serveTree.test.ts — serve's supervision tree on a real server, repository and SQLite
// file: it holds the long-lived parts; one that crashes (the timer loop, when the database refuses to drop a
// fired timer, as a full disk would) is restarted while the others go on; one that keeps crashing makes the
// root give up, and the server stops cleanly (its project lock released) instead of looping.
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect, Layer } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { drawTree, ServeTree } from "../../../src/actors/rootSupervisor.js"
import type { ChildInfo } from "../../../src/actors/Supervisor.js"
import { LogsLive } from "../../../src/layers/Logs.js"
import { ProjectLockLive } from "../../../src/layers/ProjectLock.js"
import { Store } from "../../../src/layers/Store.js"
import { runServer, serverLayer } from "../../../src/transports/cli/serve.js"
import { awaitItem, commandAgent, gitIdentity, story, withPipeline } from "../../support/pipeline.js"
import { openStore } from "../../support/store.js"
import { ok } from "../../support/tools.js"
import { refuseOneWrite } from "../../support/refusedWrites.js"
import { scopedTempDir } from "../../support/tempDir.js"

const setup = {
  projectToml: `base_branch = "main"\ndefault_qa = "none"\n[commands]\ntest = "test -f feature.txt"\n`,
  agentsToml: commandAgent("coder-1", "coder", "coder.sh"),
  scripts: {
    "coder.sh": `#!/bin/sh\nset -e\n${gitIdentity}\necho "feature of $HUSKIES_STORY_ID" > feature.txt\ngit add feature.txt\ngit commit -q -m "the feature"\n`,
  },
  // Only the timer starts the item: nothing else may hide whether the timer loop came back.
  autoAssign: false,
}

const deletionOnly = "substr(NEW.data, 1, 1) = X'00'"

/**
 * Makes the server's own database refuse every write that only deletes (a Yjs update without new structs
 * starts with a zero byte), the way a full disk refuses it: dropping a fired timer is such a write.
 */
const refuseDeletions = (root: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const db = new Database(join(root, ".huskies", "huskies.db"))
      db.exec(
        `CREATE TRIGGER full_disk BEFORE INSERT ON updates WHEN ${deletionOnly} BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
      )
      return db
    }),
    (db) => Effect.sync(() => db.close()),
  )

const find = (children: ReadonlyArray<ChildInfo>, key: string) => children.find((c) => c.key === key)

describe("serve's supervision tree", () => {
  it.scopedLive(
    "holds the scheduler's parts, the claim keeper, the stories supervisor, chat and the sync server; list_agents draws it",
    () =>
      withPipeline({ ...setup, mergeQueue: true }, () =>
        Effect.gen(function* () {
          const children = yield* (yield* ServeTree).children
          const keys = children.map((c) => c.key)
          // In the order their layers start them (chat and the sync server start side by side).
          expect(keys.slice(0, 9)).toEqual([
            "run-results",
            "claims",
            "stories",
            "scheduler",
            "auto-assign",
            "timers",
            "merge",
            "merge-moves",
            "done-sweep",
          ])
          expect(keys.slice(9).sort()).toEqual(["chat", "sync"])
          expect(children.every((c) => c.running && c.restarts === 0)).toBe(true)
          // The stories supervisor is drawn with its own children (none: nothing runs yet).
          expect(find(children, "stories")?.children).toEqual([])
          // list_agents shows it to a person or a chat LLM as the log does.
          const listed = yield* ok("list_agents", {})
          expect(listed["supervision"]).toBe(drawTree("serve", children))
          expect(listed["supervision"]).toContain("├── claims\n├── stories\n├── scheduler\n")
        }),
      ),
  )

  it.scopedLive("a child that crashes is restarted, and the others go on", () =>
    withPipeline(setup, ({ root }) =>
      Effect.gen(function* () {
        const store = yield* Store
        const item = yield* store.create(story("Started by a timer"))
        const refusalsLeft = yield* refuseOneWrite(root, deletionOnly)
        yield* store.setTimer({ storyId: item.id, kind: "start", at: Date.now(), note: "scheduled start" })
        // The loop crashed on the refused write, the root started it again, and the new loop read the timer
        // again and fired it: the scheduler and the item's story actor did the rest.
        yield* awaitItem(item.id, (i) => i.stage._tag === "Merge", 20_000)
        expect(yield* refusalsLeft).toBe(0)
        expect((yield* store.timers).timers).toEqual([])
        const children = yield* (yield* ServeTree).children
        expect(find(children, "timers")).toMatchObject({ running: true, restarts: 1 })
        // The others went on as they were.
        const others = children.filter((c) => c.key !== "timers")
        expect(others.every((c) => c.running && c.restarts === 0)).toBe(true)
      }),
    ),
  )

  it.scopedLive(
    "a child that keeps crashing makes the root give up: the server stops cleanly instead of looping",
    () =>
      Effect.gen(function* () {
        const root = yield* scopedTempDir
        mkdirSync(join(root, ".huskies"), { recursive: true })
        writeFileSync(join(root, ".huskies", "project.toml"), `base_branch = "main"\n`)
        // An item with a timer due now, written before the server starts: its first look fires it.
        yield* Effect.scoped(
          Effect.gen(function* () {
            const store = yield* openStore(join(root, ".huskies", "huskies.db"))
            const item = yield* store.create(story("Never started"))
            yield* store.setTimer({ storyId: item.id, kind: "start", at: 0, note: "scheduled start" })
          }),
        )
        yield* refuseDeletions(root)
        const lines: Array<string> = []
        const server = serverLayer(root, {
          port: 0,
          host: "127.0.0.1",
          durability: "normal",
          autoAssign: false,
          mergeQueue: false,
        }).pipe(Layer.provide(LogsLive({ write: (line) => void lines.push(line) })))
        const gaveUp = yield* runServer(server).pipe(
          Effect.flip,
          Effect.timeoutFail({ duration: 20_000, onTimeout: () => new Error("the server did not stop") }),
        )
        expect(gaveUp).toMatchObject({ _tag: "SupervisorEscalation", supervisor: "serve", key: "timers" })
        const text = lines.join("")
        expect(text).toContain("timers crashed and was restarted (5× since the server started)")
        expect(text).toContain("crashed more than 5 times within 1m, the last time timers")
        // Stopped cleanly: everything it held is released, so a new server can take the project at once.
        yield* Effect.scoped(Layer.build(ProjectLockLive(root)))
      }),
    60_000,
  )
})
