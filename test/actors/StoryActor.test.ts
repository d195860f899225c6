// test/actors/StoryActor.test.ts — the story actor's protocol on a real Store: its phase is an ask, it
// decides itself whether a move ends its work (its own agents' verdicts and merges do not, a person's moves
// do), and a crash of its work fails the actor for its supervisor. The whole server is in Pipeline.test.ts.
import { StoryId } from "../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Option, type Scope } from "effect"
import { join } from "node:path"
import * as Actor from "../../src/actors/Actor.js"
import type { AgentHandle, AgentRunResult } from "../../src/actors/agentContract.js"
import { keepsWorking, storyActor, type StoryMsg, type StoryPhase } from "../../src/actors/StoryActor.js"
import type { AgentRole } from "../../src/domain/Stage.js"
import { Store } from "../../src/layers/Store.js"
import { storeLayer } from "../support/store.js"
import { scopedTempDir } from "../support/tempDir.js"

/** A running phase for `role`: keepsWorking reads only the handle's role. */
const running = (role: AgentRole): StoryPhase => ({
  _tag: "Running",
  handle: { role } as AgentHandle,
})
const waiting = (role: AgentRole): StoryPhase => ({ _tag: "WaitingForAgent", role, since: 0 })

describe("keepsWorking: the story actor's own decision on a move", () => {
  it("a mergemaster's own merge_agent_work or report_merge_failure lets its session end by itself", () => {
    expect(keepsWorking(running("mergemaster"), "Done", "Merged")).toBe(true)
    expect(keepsWorking(running("mergemaster"), "Archived", "MergeFailed")).toBe(true)
    // Not yet running: nothing to answer, the work is over.
    expect(keepsWorking(waiting("mergemaster"), "Done", "Merged")).toBe(false)
  })

  it("a QA agent's own verdict and the gates' result are followed by the work's own loop", () => {
    expect(keepsWorking(running("qa"), "Merge", "QaApproved")).toBe(true)
    expect(keepsWorking(running("qa"), "Coding", "QaRejected")).toBe(true)
    expect(keepsWorking({ _tag: "Gates", command: "npm test", since: 0 }, "Qa", "GatesPassed")).toBe(true)
  })

  it("a person's move, block or hold ends the work", () => {
    expect(keepsWorking(running("coder"), "Backlog", "Reset")).toBe(false)
    expect(keepsWorking(running("coder"), "Archived", "Block")).toBe(false)
    expect(keepsWorking(running("mergemaster"), "Archived", "Hold")).toBe(false)
    expect(keepsWorking(running("mergemaster"), "Backlog", "Reset")).toBe(false)
    expect(keepsWorking(waiting("coder"), "Archived", "Abandon")).toBe(false)
  })
})

const withStore = <A, E>(program: Effect.Effect<A, E, Store | Scope.Scope>) =>
  Effect.flatMap(scopedTempDir, (dir) => Effect.provide(program, storeLayer(join(dir, "huskies.db"))))

const statusOf = (ref: Actor.ActorRef<StoryMsg>) =>
  ref.ask<StoryPhase>((reply) => ({ _tag: "Status", reply }))

/**
 * A story actor whose work reports `phase` and then waits until it is told to end; `reportedPhase` asks for
 * the phase once the work has reported it.
 */
const actorWith = (phase: StoryPhase, end: Deferred.Deferred<void>, ended: Deferred.Deferred<string>) =>
  Effect.gen(function* () {
    const store = yield* Store
    const reported = yield* Deferred.make<void>()
    const spec = yield* storyActor({
      storyId: StoryId.make("1_story_protocol"),
      store,
      onRunEnded: (_: AgentRunResult) => Effect.void,
      work: (setPhase) =>
        setPhase(phase).pipe(
          Effect.zipRight(Deferred.succeed(reported, undefined)),
          Effect.zipRight(Deferred.await(end)),
          Effect.onInterrupt(() => Deferred.succeed(ended, "interrupted")),
          Effect.tap(() => Deferred.succeed(ended, "finished")),
        ),
    })
    const ref = yield* Actor.spawn(spec, { key: "1_story_protocol" })
    // setPhase has put PhaseChanged in the mailbox by then, so an ask after it is answered after it.
    return { ref, reportedPhase: Effect.zipRight(Deferred.await(reported), statusOf(ref)) }
  })

describe("StoryActor", () => {
  it.scoped("its phase is an ask; its own work's move keeps it; a person's move ends its work", () =>
    withStore(
      Effect.gen(function* () {
        const end = yield* Deferred.make<void>()
        const ended = yield* Deferred.make<string>()
        const gates: StoryPhase = { _tag: "Gates", command: "npm test", since: 5 }
        const { ref, reportedPhase } = yield* actorWith(gates, end, ended)
        expect(yield* reportedPhase).toEqual(gates)

        yield* ref.tell({ _tag: "StageChanged", stage: "Qa", cause: "GatesPassed", where: "QA" })
        expect(yield* statusOf(ref)).toEqual(gates)
        expect(yield* Deferred.poll(ended)).toEqual(Option.none())

        yield* ref.tell({ _tag: "StageChanged", stage: "Backlog", cause: "Reset", where: "Backlog" })
        expect(yield* ref.await).toEqual(Actor.Normal)
        expect(yield* Deferred.await(ended)).toBe("interrupted")
      }),
    ),
  )

  it.scoped("a person's Stop is answered (no agent ran: no result) and ends the actor", () =>
    withStore(
      Effect.gen(function* () {
        const end = yield* Deferred.make<void>()
        const ended = yield* Deferred.make<string>()
        const { ref, reportedPhase } = yield* actorWith(waiting("coder"), end, ended)
        expect(yield* reportedPhase).toEqual(waiting("coder"))
        const result = yield* ref.ask<Option.Option<AgentRunResult>>((reply) => ({
          _tag: "Stop",
          why: "stopped by a person",
          reply,
        }))
        expect(result).toEqual(Option.none())
        expect(yield* ref.await).toEqual(Actor.Normal)
        expect(yield* Deferred.await(ended)).toBe("interrupted")
      }),
    ),
  )

  it.scoped("work that ends by itself ends the actor normally; work that dies fails it", () =>
    withStore(
      Effect.gen(function* () {
        const store = yield* Store
        const finishes = yield* Actor.spawn(
          yield* storyActor({
            storyId: StoryId.make("1_story_a"),
            store,
            onRunEnded: () => Effect.void,
            work: () => Effect.void,
          }),
        )
        expect(yield* finishes.await).toEqual(Actor.Normal)
        const dies = yield* Actor.spawn(
          yield* storyActor({
            storyId: StoryId.make("2_story_b"),
            store,
            onRunEnded: () => Effect.void,
            work: () => Effect.dieMessage("a bug in the work"),
          }),
        )
        const exit = yield* dies.await
        expect(exit._tag).toBe("Failed")
        expect(JSON.stringify(exit)).toContain("a bug in the work")
      }),
    ),
  )
})
