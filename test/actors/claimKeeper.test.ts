// test/actors/claimKeeper.test.ts — claims on a real server with `command` agents: work claims its item
// before it starts and renews it while it runs, gives it back when the stage's work ends, refuses an item
// another node holds, and stops quietly (no move, the reason in the item's history) when another node's
// claim wins. The other node is a replica written through storeClaims and delivered as a peer's update.
import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Either, Option, Ref, TestClock } from "effect"
import { join } from "node:path"
import * as Y from "yjs"
import { makeClaimKeeper } from "../../src/actors/claimKeeper.js"
import { NodeId } from "../../src/domain/ExecutionState.js"
import type { StoryId } from "../../src/domain/StoryId.js"
import { makeStoryId } from "../../src/domain/StoryId.js"
import { newWorkItem } from "../../src/domain/WorkItem.js"
import { docMaps, writeItem } from "../../src/layers/docModel.js"
import { Store } from "../../src/layers/Store.js"
import { planClaimIn, planReleaseIn, writeClaimEntry } from "../../src/layers/storeClaims.js"
import { awaitItem, commandAgent, gatedCoder, openGate, story, withPipeline } from "../support/pipeline.js"
import { err, ok } from "../support/tools.js"
import { exchange, openStore } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"
import { awaitStore } from "../support/waits.js"

const projectToml = `base_branch = "main"
[commands]
test = "test -f feature.txt"
[nodes]
lease_secs = 1
`

const agentsToml = commandAgent("coder-1", "coder", "coder.sh")

const setup = { projectToml, agentsToml, scripts: { "coder.sh": gatedCoder }, autoAssign: false }

/** Lower than any `node-<uuid>`: it wins every tie at equal epochs. */
const other = NodeId.make("node-0")

/** Another node's replica: what it has seen of the server so far, and its writes sent as a peer's update. */
const peerReplica = Effect.gen(function* () {
  const store = yield* Store
  const doc = new Y.Doc()
  Y.applyUpdate(doc, yield* store.diff())
  yield* Effect.addFinalizer(() => Effect.sync(() => doc.destroy()))
  const maps = docMaps(doc)
  const send = (write: () => void) =>
    Effect.gen(function* () {
      const seen = Y.encodeStateVector(doc)
      doc.transact(write)
      yield* store.applyRemote(Y.encodeStateAsUpdate(doc, seen), "peer")
    })
  return {
    claim: (id: StoryId, leaseMillis: number) =>
      Effect.gen(function* () {
        const entry = Either.getOrThrow(
          planClaimIn(maps, id, other, yield* Clock.currentTimeMillis, leaseMillis),
        )
        yield* send(() => writeClaimEntry(maps, id, other, entry))
        return entry
      }),
    release: (id: StoryId) =>
      send(() => writeClaimEntry(maps, id, other, Option.getOrThrow(planReleaseIn(maps, id, other)))),
    /** Files an item and claims it in one update, as a worker that took it at once would. */
    createClaimed: (name: string, leaseMillis: number) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const id = makeStoryId(900, "story", name)
        yield* send(() => {
          writeItem(maps, undefined, newWorkItem(id, "story", at))
          maps.content.set(id, new Y.Text(`---\nname: ${name}\n---\n`))
          writeClaimEntry(maps, id, other, { epoch: 1, leaseUntil: at + leaseMillis, claimedAt: at })
        })
        return id
      }),
  }
})

const holderOf = (id: StoryId) =>
  Effect.flatMap(Store, (store) =>
    Effect.map(
      store.holder(id),
      Option.map((c) => [c.node, c.epoch] as const),
    ),
  )

describe("claims and the scheduler", () => {
  it.live("work claims its item, renews it while it runs, and gives it back when the item moves to QA", () =>
    withPipeline(setup, ({ root }) =>
      Effect.gen(function* () {
        const store = yield* Store
        const item = yield* store.create(story("Claimed", "qa: human\n"))
        yield* ok("start_agent", { story_id: item.id })
        const first = Option.getOrThrow(yield* store.holder(item.id))
        expect([first.node, first.epoch]).toEqual([store.nodeId, 1])
        // Renewed every lease/3 while the agent runs: after two leases the claim still runs, moved on.
        yield* Effect.sleep(2_100)
        const later = Option.getOrThrow(yield* store.holder(item.id))
        expect(later.leaseUntil).toBeGreaterThan((yield* Clock.currentTimeMillis) - 1)
        expect([later.node, later.epoch, later.claimedAt]).toEqual([store.nodeId, 1, first.claimedAt])
        yield* openGate(root)
        yield* awaitItem(item.id, (i) => i.stage._tag === "Qa")
        yield* awaitStore(
          "the claim to be given back",
          Effect.map(store.holder(item.id), (h) => (Option.isNone(h) ? true : undefined)),
          10_000,
        )
      }),
    ),
  )

  it.live(
    "an item another node holds is refused with who holds it, and starts once that node gives it back",
    () =>
      withPipeline(setup, () =>
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("Held elsewhere"))
          const peer = yield* peerReplica
          yield* peer.claim(item.id, 60_000)
          const refused = yield* err("start_agent", { story_id: item.id })
          expect(refused).toContain(`being worked on by node ${other}`)
          expect((yield* store.get(item.id)).stage._tag).toBe("Backlog")
          yield* peer.release(item.id)
          yield* ok("start_agent", { story_id: item.id })
          // The next epoch, above the other node's given-back one.
          expect(yield* holderOf(item.id)).toEqual(Option.some([store.nodeId, 2]))
          yield* ok("stop_agent", { story_id: item.id })
          expect(yield* holderOf(item.id)).toEqual(Option.none())
        }),
      ),
  )

  it.live("the loser of a concurrent claim stops its agent without moving the item, and says why", () =>
    withPipeline(setup, () =>
      Effect.gen(function* () {
        const store = yield* Store
        const item = yield* store.create(story("Contested"))
        // The other node's replica is cut off from here: it does not see this node's claim.
        const peer = yield* peerReplica
        yield* ok("start_agent", { story_id: item.id })
        yield* awaitItem(item.id, (i) => i.execution[store.nodeId]?._tag === "Running")
        const theirs = yield* peer.claim(item.id, 60_000)
        expect(theirs.epoch).toBe(1)
        expect(yield* holderOf(item.id)).toEqual(Option.some([other, 1]))
        // Within a lease tick the work here has stopped, the item is where it was and nothing of ours is left.
        const after = yield* awaitItem(item.id, (i) => i.execution[store.nodeId] === undefined, 5_000)
        expect(after.stage._tag).toBe("Coding")
        expect((yield* ok("get_agent_output", { story_id: item.id }))["running"]).toBe(false)
        const stopped = (yield* store.history(item.id)).filter((e) => e.event === "AgentStopped")
        expect(stopped).toHaveLength(1)
        expect(stopped[0]?.reason).toContain(`node ${other} holds the item now`)
        // The other node still holds it: nothing here starts it again.
        expect(yield* err("start_agent", { story_id: item.id })).toContain(`node ${other}`)
      }),
    ),
  )

  it.live(
    "auto-assign leaves an item another node holds live, and takes it up once that node's lease runs out",
    () =>
      withPipeline({ ...setup, autoAssign: true }, () =>
        Effect.gen(function* () {
          const store = yield* Store
          const peer = yield* peerReplica
          const id = yield* peer.createClaimed("Taken elsewhere", 1_500)
          yield* Effect.sleep(700)
          const meanwhile = yield* store.get(id)
          expect([meanwhile.stage._tag, Object.keys(meanwhile.execution)]).toEqual(["Backlog", []])
          // The other node went silent: within a lease tick of its lease running out, this node claims and starts.
          yield* awaitItem(id, (i) => i.execution[store.nodeId]?._tag === "Running", 5_000)
          expect(yield* holderOf(id)).toEqual(Option.some([store.nodeId, 2]))
        }),
      ),
  )
})

describe("timers across nodes", () => {
  it.live(
    "a timer does not fire here while another node holds its item, and fires here once it is given back",
    () =>
      withPipeline(setup, () =>
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("Timed"))
          const peer = yield* peerReplica
          yield* peer.claim(item.id, 60_000)
          yield* ok("schedule_start", { story_id: item.id, in_seconds: 1 })
          yield* Effect.sleep(1_800)
          expect((yield* store.get(item.id)).stage._tag).toBe("Backlog")
          // Not fired and not dropped: it is the holder's to fire.
          expect((yield* ok("list_timers", {}))["timers"] as Array<unknown>).toHaveLength(1)
          yield* peer.release(item.id)
          yield* awaitItem(item.id, (i) => i.stage._tag === "Coding", 5_000)
          expect(yield* holderOf(item.id)).toEqual(Option.some([store.nodeId, 2]))
        }),
      ),
  )
})

describe("the claim keeper", () => {
  it.scoped("renews every lease/3 by the Clock, and gives its claims back when its scope closes", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const store = yield* openStore(join(dir, "huskies.db"))
      const item = yield* store.create(story("Kept"))
      const lost: Array<string> = []
      yield* Effect.scoped(
        Effect.gen(function* () {
          const keeper = yield* makeClaimKeeper({
            store,
            leaseMillis: Effect.succeed(30_000),
            lose: (id, why) => Effect.sync(() => lost.push(`${id}: ${why}`)),
          })
          yield* keeper.claim(item.id)
          expect(yield* keeper.kept).toEqual([item.id])
          yield* TestClock.adjust(10_000)
          yield* TestClock.adjust(10_000)
          // Two ticks: without them the lease (30 s from 0) would run out at 30 s.
          yield* TestClock.adjust(15_000)
          const held = Option.getOrThrow(yield* store.holder(item.id))
          expect(held.leaseUntil).toBeGreaterThan(35_000)
          expect(yield* keeper.holds(item.id)).toBe(true)
        }),
      )
      expect(lost).toEqual([])
      expect(yield* store.holder(item.id)).toEqual(Option.none())
    }),
  )

  it.scoped(
    "two Stores claim one item while apart: once they exchange updates the loser's keeper stops its work",
    () =>
      Effect.gen(function* () {
        const dir = yield* scopedTempDir
        const [a, b] = [yield* openStore(join(dir, "a.db")), yield* openStore(join(dir, "b.db"))]
        const item = yield* a.create(story("Contested"))
        yield* exchange(a, b)
        const keep = (store: Store["Type"]) =>
          Effect.gen(function* () {
            const lost = yield* Deferred.make<string>()
            const keeper = yield* makeClaimKeeper({
              store,
              leaseMillis: Effect.succeed(30_000),
              lose: (_id, why) => Deferred.succeed(lost, why),
            })
            return { keeper, lost }
          })
        const [keptByA, keptByB] = [yield* keep(a), yield* keep(b)]
        yield* keptByA.keeper.claim(item.id)
        yield* keptByB.keeper.claim(item.id)
        yield* exchange(a, b)
        yield* exchange(b, a)
        const [winner, loser] = a.nodeId < b.nodeId ? [keptByA, keptByB] : [keptByB, keptByA]
        const why = yield* Deferred.await(loser.lost).pipe(Effect.timeout("5 seconds"))
        expect(why).toContain(`node ${[a.nodeId, b.nodeId].sort()[0]} holds the item now`)
        expect(yield* loser.keeper.kept).toEqual([])
        expect(yield* Deferred.isDone(winner.lost)).toBe(false)
        expect(yield* winner.keeper.holds(item.id)).toBe(true)
      }),
  )

  it.scoped(
    "a node whose lease ran out before its heartbeat (cut off, paused) stops, and only a new claim resumes",
    () =>
      Effect.gen(function* () {
        const dir = yield* scopedTempDir
        const store = yield* openStore(join(dir, "huskies.db"))
        const item = yield* store.create(story("Paused"))
        // The heartbeat is set for every 10 s; the claim is made with a lease of 1 s, so it runs out first.
        const lease = yield* Ref.make(30_000)
        const lost = yield* Deferred.make<string>()
        const keeper = yield* makeClaimKeeper({
          store,
          leaseMillis: Ref.get(lease),
          lose: (_id, why) => Deferred.succeed(lost, why),
        })
        // The heartbeat has read its 30 s lease and sleeps its 10 s before this node's lease is cut short.
        while ((yield* TestClock.sleeps()).length === 0) yield* Effect.yieldNow()
        yield* Ref.set(lease, 1_000)
        expect((yield* keeper.claim(item.id)).epoch).toBe(1)
        yield* TestClock.adjust(10_000)
        expect(yield* Deferred.await(lost)).toContain("lease ran out before it could renew")
        expect(yield* keeper.kept).toEqual([])
        expect(yield* keeper.holds(item.id)).toBe(false)
        // Nobody took it meanwhile: this node may claim it again, at the next epoch, and only so.
        expect((yield* keeper.claim(item.id)).epoch).toBe(2)
        expect(yield* keeper.kept).toEqual([item.id])
      }),
  )
})
