// test/transports/sync/connectionsTree.test.ts — peer connections in the supervision tree, over real
// WebSockets on 127.0.0.1 and real SQLite files: on the main node each /crdt-sync connection is a child of
// `sync`, and one that fails (the main node's database refuses a write it carried, as a full disk would) is
// closed and logged alone while the others go on, and its peer dials again; on a worker the PeerActor's loop
// is `sync-peer`, and a defect in it is restarted by the tree, which backs off and reconnects.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger } from "effect"
import type { ChildInfo } from "../../../src/actors/Supervisor.js"
import type { MainNodeKey } from "../../../src/transports/sync/PeerActor.js"
import { refuseOneWrite } from "../../support/refusedWrites.js"
import { scopedTempDir } from "../../support/tempDir.js"
import { eventWhere, type MainNode, startMain, startWorker, statusWhere } from "./syncHarness.js"

const story = (name: string) => ({ kind: "story" as const, name, content: `---\nname: ${name}\n---\n` })

const child = (children: ReadonlyArray<ChildInfo>, key: string) => children.find((c) => c.key === key)

/** The connections the main node's tree holds under `sync`, by key. */
const connections = (main: MainNode) =>
  Effect.map(main.tree.children, (children) => (child(children, "sync")?.children ?? []).map((c) => c.key))

/** Every log line of the effect's fibers (and those they start), kept for the test to read. */
const capturingLogs = <A, E, R>(lines: Array<string>, body: Effect.Effect<A, E, R>) =>
  Effect.provide(
    body,
    Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ message }) => {
        lines.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
      }),
    ),
  )

describe("peer connections in the supervision tree", () => {
  it.scopedLive(
    "a main node's connection that fails is closed and logged alone; the others go on, and its peer dials again",
    () => {
      const logged: Array<string> = []
      return capturingLogs(
        logged,
        Effect.gen(function* () {
          const root = yield* scopedTempDir
          const main = yield* startMain(root, { keepAliveMillis: 200 })
          const a = yield* startWorker(yield* scopedTempDir, main.url, {
            joinToken: yield* main.token(),
            label: "a",
          })
          const b = yield* startWorker(yield* scopedTempDir, main.url, {
            joinToken: yield* main.token(),
            label: "b",
          })
          // Synced: the main node answered each state vector, so each session runs in its child.
          for (const w of [a, b]) yield* statusWhere(w.peer, (s) => s.connected && s.lastSyncAt !== undefined)
          const before = yield* connections(main)
          expect(before).toHaveLength(2)
          const keyOf = (keys: ReadonlyArray<string>, label: string) =>
            keys.find((k) => k.startsWith(`peer ${label} (worker, connection `))
          const [aKey, bKey] = [keyOf(before, "a"), keyOf(before, "b")]
          expect(aKey).toBeDefined()
          expect(bKey).toBeDefined()
          const bConnected = (yield* b.peer.status).connectedAt

          const refusalsLeft = yield* refuseOneWrite(root)
          const events = yield* main.store.subscribe
          const item = yield* a.store.create(story("Refused once on the main node"))
          // The write's connection failed and closed; a dialed again, and the resync carried the item.
          yield* eventWhere(events, (e) => e._tag === "ItemCreated" && e.item.id === item.id)
          expect(yield* refusalsLeft).toBe(0)
          const aNow = yield* statusWhere(a.peer, (s) => s.connected)
          expect(aNow.lastError).toBeDefined()
          expect(logged.some((l) => l.startsWith(`${aKey} failed: this connection is closed`))).toBe(true)

          // b's connection went on as it was: the same child, never closed.
          const bNow = yield* b.peer.status
          expect([bNow.connected, bNow.connectedAt, bNow.attempts, bNow.lastError]).toEqual([
            true,
            bConnected,
            0,
            undefined,
          ])
          const after = yield* connections(main)
          expect(after).toContain(bKey)
          expect(after).not.toContain(aKey)
          expect(keyOf(after, "a")).toBeDefined()
          // Closing one connection is no crash of `sync`: the tree counts no restart.
          expect(child(yield* main.tree.children, "sync")).toMatchObject({ running: true, restarts: 0 })
        }),
      )
    },
  )

  it.scopedLive(
    "a defect in a worker's PeerActor loop is restarted by the tree, which backs off and reconnects",
    () =>
      Effect.gen(function* () {
        const main = yield* startMain(yield* scopedTempDir, { keepAliveMillis: 200 })
        let checks = 0
        const worker = yield* startWorker(yield* scopedTempDir, main.url, {
          joinToken: yield* main.token(),
          backoffMillis: { first: 200, max: 200 },
          // The check of the main node's key, run on every connection, dies the second time (a bug).
          trustMain: (_: MainNodeKey) =>
            Effect.suspend(() =>
              ++checks === 2 ? Effect.dieMessage("the pinned key could not be read") : Effect.void,
            ),
        })
        const first = yield* statusWhere(worker.peer, (s) => s.connected && s.lastSyncAt !== undefined)
        expect(child(yield* worker.tree.children, "sync-peer")).toMatchObject({ running: true, restarts: 0 })

        // A cut: the next connection's check dies, the tree restarts the loop, which waits and dials again.
        expect(yield* main.cut).toBe(1)
        const crashed = yield* statusWhere(worker.peer, (s) => s.lastError?.includes("crashed") === true)
        expect(crashed.connected).toBe(false)
        const back = yield* statusWhere(
          worker.peer,
          (s) => s.connected && s.connectedAt !== first.connectedAt,
        )
        expect(back.attempts).toBe(0)
        expect(checks).toBe(3)
        expect(child(yield* worker.tree.children, "sync-peer")).toMatchObject({ running: true, restarts: 1 })
        // It syncs again: a write of the worker's reaches the main node.
        const events = yield* main.store.subscribe
        const item = yield* worker.store.create(story("After the restart"))
        yield* eventWhere(events, (e) => e._tag === "ItemCreated" && e.item.id === item.id)
      }),
  )
})
