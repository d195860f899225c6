// test/layers/StoreSync.test.ts — the Store's sync surface between two real Stores (temp SQLite files):
// a peer's update is durable before it resolves and publishes the events a local write would; the feed
// of committed updates names their origin; garbage is refused whole; state vectors resync a gap.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Queue } from "effect"
import { join } from "node:path"
import { type Decision, DecisionId } from "../../src/domain/Decision.js"
import { type StoreEvent, type StoreShape } from "../../src/layers/Store.js"
import { exchange, openStore, story } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"

/** Opens the store at `dbPath` in a scope of its own, runs `f` and closes it (a restart). */
const reopened = <A>(dbPath: string, f: (store: StoreShape) => Effect.Effect<A, unknown>) =>
  Effect.scoped(Effect.flatMap(openStore(dbPath), f))

const drain = <A>(queue: Queue.Dequeue<A>) => Effect.map(Queue.takeAll(queue), Chunk.toReadonlyArray)

const tags = (events: ReadonlyArray<StoreEvent>) => events.map((e) => e._tag)

describe("Store sync", () => {
  it.scoped("a peer's update is durable, visible and published as the events of the same local change", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const a = yield* openStore(join(dir, "a.db"))
      const b = yield* openStore(join(dir, "b.db"))
      const bEvents = yield* b.subscribe

      const item = yield* a.create(story("Add login"))
      const created = yield* exchange(a, b, "node-a")
      expect(tags(created)).toEqual(["ItemCreated"])
      expect(tags(yield* drain(bEvents))).toEqual(["ItemCreated"])
      expect((yield* b.get(item.id)).stage._tag).toBe("Backlog")
      expect(yield* b.content(item.id)).toBe("---\nname: Add login\n---\n")

      yield* a.apply(item.id, { _tag: "Start", at: 10 })
      yield* a.editContent(item.id, { _tag: "Replace", text: "---\nname: Add login\n---\nmore\n" })
      yield* a.setTimer({ storyId: item.id, kind: "retry", at: 5_000, note: "later" })
      const moved = yield* exchange(a, b, "node-a")
      expect(tags(moved).sort()).toEqual(["ContentChanged", "ItemChanged", "TimersChanged"])
      const change = moved.find((e) => e._tag === "ItemChanged")
      expect(change?._tag === "ItemChanged" && change.before.stage._tag).toBe("Backlog")
      expect(change?._tag === "ItemChanged" && change.after.stage._tag).toBe("Coding")
      expect(change?._tag === "ItemChanged" && change.event).toEqual({ _tag: "Replicated", from: "node-a" })
      expect((yield* b.timers).timers.map((t) => t.storyId)).toEqual([item.id])

      // Nothing new: nothing applied, nothing published.
      expect(yield* exchange(a, b, "node-a")).toEqual([])

      // A third replica that hears only from B gets it all: B's copy is whole.
      const c = yield* openStore(join(dir, "c.db"))
      yield* exchange(b, c, "node-b")
      expect((yield* c.get(item.id)).stage._tag).toBe("Coding")
      expect(yield* c.content(item.id)).toBe("---\nname: Add login\n---\nmore\n")
    }),
  )

  it.scoped("a peer's heartbeat arrives as a Heartbeat, not as a change of the item", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const a = yield* openStore(join(dir, "a.db"))
      const b = yield* openStore(join(dir, "b.db"))
      const item = yield* a.create(story("Beating"))
      yield* a.apply(item.id, { _tag: "Start", at: 10 })
      yield* a.apply(item.id, {
        _tag: "AgentStarted",
        node: a.nodeId,
        agent: "coder-1",
        role: "coder",
        at: 11,
      })
      yield* exchange(a, b, "node-a")
      yield* a.apply(item.id, { _tag: "Heartbeat", node: a.nodeId, at: 50 })
      const beat = yield* exchange(a, b, "node-a")
      expect(beat.map((e) => (e._tag === "ItemChanged" ? e.event : e._tag))).toEqual([
        { _tag: "Heartbeat", node: a.nodeId, at: 50 },
      ])
      // A heartbeat that comes with another change is that change, replicated.
      yield* a.apply(item.id, { _tag: "Heartbeat", node: a.nodeId, at: 60 })
      yield* a.apply(item.id, { _tag: "Block", why: "waiting on a decision", at: 61 })
      const both = yield* exchange(a, b, "node-a")
      expect(both.map((e) => (e._tag === "ItemChanged" ? e.event._tag : e._tag))).toEqual(["Replicated"])
    }),
  )

  it.scoped("a replicated item survives closing and reopening the replica's file", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const a = yield* openStore(join(dir, "a.db"))
      const bPath = join(dir, "b.db")
      const item = yield* a.create(story("Persist me"))
      yield* a.apply(item.id, { _tag: "Start", at: 10 })
      yield* reopened(bPath, (b) => exchange(a, b, "node-a"))
      const after = yield* reopened(bPath, (b) => b.get(item.id))
      expect(after.stage._tag).toBe("Coding")
    }),
  )

  it.scoped("the feed names each committed update's origin; a peer's carries only what was new", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const a = yield* openStore(join(dir, "a.db"))
      const b = yield* openStore(join(dir, "b.db"))
      const aFeed = yield* a.subscribeUpdates
      const bFeed = yield* b.subscribeUpdates
      yield* a.create(story("One"))
      const local = yield* drain(aFeed)
      expect(local.map((u) => u.origin)).toEqual([{ _tag: "Local" }])
      yield* b.applyRemote(local[0]!.update!, "node-a")
      expect((yield* drain(bFeed)).map((u) => u.origin)).toEqual([{ _tag: "Peer", peer: "node-a" }])
      // The same bytes again are nothing new: no update is committed or fed.
      yield* b.applyRemote(local[0]!.update!, "node-a")
      expect(yield* drain(bFeed)).toEqual([])
    }),
  )

  it.scoped("bytes that are not an update are refused and change nothing", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const b = yield* openStore(join(dir, "b.db"))
      yield* b.create(story("Keep"))
      const before = yield* b.stateVector
      const refused = yield* Effect.flip(b.applyRemote(new Uint8Array([200, 1, 2, 3, 4, 5]), "node-x"))
      expect(refused._tag).toBe("SyncUpdateRejected")
      expect(yield* b.stateVector).toEqual(before)
      expect((yield* b.list).items).toHaveLength(1)
    }),
  )

  it.scoped("deletes and decisions replicate with their events", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const a = yield* openStore(join(dir, "a.db"))
      const b = yield* openStore(join(dir, "b.db"))
      const item = yield* a.create(story("Doomed"))
      yield* exchange(a, b, "node-a")
      const decision: Decision & { answer?: undefined } = {
        _tag: "Permission",
        id: DecisionId.make("dec-1"),
        storyId: item.id,
        toolName: "Bash",
        input: { command: "rm -rf build" },
        requestedAt: 1_000,
        expiresAt: 301_000,
      }
      yield* a.openDecision(decision)
      expect(tags(yield* exchange(a, b, "node-a"))).toEqual(["DecisionOpened"])
      yield* a.answerDecision("dec-1", { verdict: "deny", by: "ui", at: 2_000 })
      expect(tags(yield* exchange(a, b, "node-a"))).toEqual(["DecisionAnswered"])
      yield* a.setTimer({ storyId: item.id, kind: "start", at: 9_000, note: "" })
      yield* exchange(a, b, "node-a")
      yield* a.delete(item.id)
      const deleted = yield* exchange(a, b, "node-a")
      expect(tags(deleted)).toEqual(["ItemDeleted"])
      const report = deleted[0]?._tag === "ItemDeleted" ? deleted[0].report : undefined
      expect(report).toMatchObject({ id: item.id, item: true, content: true, decisions: ["dec-1"] })
      expect(report?.timers).toHaveLength(1)
      expect((yield* b.list).items).toEqual([])
    }),
  )

  it.scoped("writes made apart on both sides converge by exchanging state vectors", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const a = yield* openStore(join(dir, "a.db"))
      const b = yield* openStore(join(dir, "b.db"))
      const item = yield* a.create(story("Shared"))
      yield* exchange(a, b, "node-a")
      // Apart: A moves it, B edits its content and files another item.
      yield* a.apply(item.id, { _tag: "Start", at: 20 })
      yield* b.editContent(item.id, { _tag: "Splice", index: 0, deleteCount: 0, insert: "# " })
      const other = yield* b.create({ kind: "bug", name: "From B", content: "---\nname: From B\n---\n" })
      const onA = yield* exchange(b, a, "node-b")
      const onB = yield* exchange(a, b, "node-a")
      expect(tags(onA).sort()).toEqual(["ContentChanged", "ItemCreated"])
      expect(tags(onB)).toEqual(["ItemChanged"])
      for (const store of [a, b]) {
        expect((yield* store.get(item.id)).stage._tag).toBe("Coding")
        expect(yield* store.content(item.id)).toBe("# ---\nname: Shared\n---\n")
        expect((yield* store.get(other.id)).kind).toBe("bug")
      }
      expect(yield* a.diff()).toEqual(yield* b.diff())
    }),
  )
})
