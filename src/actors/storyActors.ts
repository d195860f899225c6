// src/actors/storyActors.ts — this node's story actors under one supervisor (one_for_one, intensity per
// item; in serve the root's `stories` child): starts an item's actor, routes messages to it, asks its phase,
// stops it. An item whose actor crashes too often is archived as Blocked. Used by the Scheduler.
import { Clock, type Duration, Effect, Either, HashSet, Option, Ref, type Scope } from "effect"
import { fitText } from "../layers/runtimes/Runtime.js"
import type { Store } from "../layers/Store.js"
import type { AgentRunResult } from "./agentContract.js"
import * as Registry from "./Registry.js"
import { crashSummary, type StoryMsg, storyActor, type StoryPhase, type StoryWork } from "./StoryActor.js"
import * as Supervisor from "./Supervisor.js"
import type { StoryId } from "../domain/StoryId.js"

export interface StoryRestarts {
  /** Restarts an item's actor may have within `period`; one more archives the item as Blocked. */
  readonly intensity: number
  readonly period: Duration.DurationInput
}

export const defaultStoryRestarts: StoryRestarts = { intensity: 3, period: "60 seconds" }

export interface StoryActorView {
  readonly storyId: StoryId
  readonly phase: StoryPhase
  /** How often its actor was restarted after a crash. */
  readonly restarts: number
}

export interface StoryActors {
  /** Starts `work` as the item's actor unless one runs; returns whether one was already running. */
  readonly spawn: (id: StoryId, work: StoryWork, restart: "transient" | "temporary") => Effect.Effect<boolean>
  /** A person starts the item again: an item given up on (contained) may run again. */
  readonly release: (id: StoryId) => Effect.Effect<void>
  readonly isRunning: (id: StoryId) => Effect.Effect<boolean>
  readonly keys: Effect.Effect<ReadonlyArray<string>>
  /** Delivers a message to the item's actor; an item without one has nobody to tell. */
  readonly tell: (id: StoryId, msg: StoryMsg) => Effect.Effect<void>
  /** Asks the item's actor to stop its agent with `why` and end; waits until it has. */
  readonly stop: (
    id: StoryId,
    why: string,
  ) => Effect.Effect<{ readonly stopped: boolean; readonly result: Option.Option<AgentRunResult> }>
  /** Ends the item's actor at once (the item is being deleted). */
  readonly halt: (id: StoryId) => Effect.Effect<void>
  /** Waits until the item's actor (if any) has ended. */
  readonly awaitEnd: (id: StoryId) => Effect.Effect<void>
  readonly phase: (id: StoryId) => Effect.Effect<Option.Option<StoryPhase>>
  readonly views: Effect.Effect<ReadonlyArray<StoryActorView>>
}

export interface StoryActorsOptions {
  readonly store: Store["Type"]
  readonly restarts: StoryRestarts
  readonly onRunEnded: (id: StoryId) => (result: AgentRunResult) => Effect.Effect<void>
  /** Told when an item's actor has ended for good (the item may need something else now). */
  readonly onEnded: (id: StoryId) => Effect.Effect<void>
  /** Makes the supervisor (serve: a child of the root); by default one of its own in the current Scope. */
  readonly supervisor?: (
    options: Supervisor.SupervisorOptions,
  ) => Effect.Effect<Supervisor.Supervisor, never, Scope.Scope>
}

export const makeStoryActors = (
  options: StoryActorsOptions,
): Effect.Effect<StoryActors, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { store } = options
    const scope = yield* Effect.scope
    const supervisor = yield* (options.supervisor ?? Supervisor.make)({
      name: "stories",
      strategy: "one_for_one",
      intensity: options.restarts.intensity,
      period: options.restarts.period,
      // Each may be waiting out its agent's grace period: a shutdown must take one, not one per item.
      stopAtOnce: true,
    })
    const registry = yield* Registry.make<StoryMsg, StoryId>()
    // Items given up on. Their Block normally keeps auto mode away; if it could not be written (the
    // database itself refusing), this does, so a crash loop is never started again by itself.
    const contained = yield* Ref.make(HashSet.empty<StoryId>())

    const contain =
      (id: StoryId) =>
      (gaveUp: Supervisor.GaveUp): Effect.Effect<void> =>
        Effect.gen(function* () {
          const seconds = Math.round(gaveUp.periodMillis / 1000)
          const why = fitText(
            `its story actor crashed ${gaveUp.restarts + 1} times within ${seconds} s, so it is not restarted again. The last crash: ${crashSummary(gaveUp.cause)}. Fix the cause (server_logs has the details), then unblock it`,
            2048,
          )
          yield* Effect.logError(`${id}: ${why}`, gaveUp.cause)
          yield* Ref.update(contained, HashSet.add(id))
          yield* (
            store
              .apply(id, { _tag: "Block", why, at: yield* Clock.currentTimeMillis }, { by: "server" })
              // Moved or deleted meanwhile: then nothing restarts it either; the log keeps the reason.
              .pipe(Effect.catchAll((e) => Effect.logError(`${id} could not be blocked: ${e.message}`)))
          )
        })

    const lookup = (id: StoryId) => registry.find(id)

    const spawn: StoryActors["spawn"] = (id, work, restart) =>
      Effect.gen(function* () {
        if (Option.isSome(yield* lookup(id))) return true
        if (restart === "transient" && HashSet.has(yield* Ref.get(contained), id)) return true
        const spec = yield* storyActor({ storyId: id, work, onRunEnded: options.onRunEnded(id), store })
        const started = yield* Effect.either(
          supervisor.startChild({
            key: id,
            spec,
            restart,
            ...(restart === "transient" ? { giveUp: contain(id) } : {}),
          }),
        )
        // Its previous actor is still being retired, or the server is shutting down: nothing new starts.
        if (Either.isLeft(started)) return true
        // The supervisor refuses a second child under one key, so the registry has no live one either.
        yield* registry.register(id, started.right).pipe(Effect.orDie)
        yield* started.right.await.pipe(Effect.zipRight(options.onEnded(id)), Effect.forkIn(scope))
        return false
      })

    const tell = (id: StoryId, msg: StoryMsg) =>
      Effect.flatMap(
        lookup(id),
        Option.match({
          onNone: () => Effect.void,
          // Ended meanwhile: a message to it has nobody left to act on it.
          onSome: (ref) => ref.tell(msg).pipe(Effect.catchTag("ActorStopped", () => Effect.void)),
        }),
      )

    const stop = (id: StoryId, why: string) =>
      Effect.gen(function* () {
        const found = yield* lookup(id)
        if (Option.isNone(found)) return { stopped: false, result: Option.none<AgentRunResult>() }
        const result = yield* (
          found.value
            .ask<Option.Option<AgentRunResult>>((reply) => ({ _tag: "Stop", why, reply }))
            // It ended by itself meanwhile: there was no agent left to stop.
            .pipe(Effect.catchTag("ActorStopped", () => Effect.succeed(Option.none<AgentRunResult>())))
        )
        yield* found.value.stop
        return { stopped: true, result }
      })

    const halt = (id: StoryId) =>
      Effect.flatMap(lookup(id), Option.match({ onNone: () => Effect.void, onSome: (ref) => ref.stop }))

    const awaitEnd = (id: StoryId) =>
      Effect.flatMap(
        lookup(id),
        Option.match({ onNone: () => Effect.void, onSome: (ref) => Effect.asVoid(ref.await) }),
      )

    const phase = (id: StoryId) =>
      Effect.flatMap(
        lookup(id),
        Option.match({
          onNone: () => Effect.succeedNone,
          onSome: (ref) => ref.ask<StoryPhase>((reply) => ({ _tag: "Status", reply })).pipe(Effect.option),
        }),
      )

    const views = Effect.gen(function* () {
      const restarts = new Map((yield* supervisor.children).map((c) => [c.key, c.restarts]))
      const found: Array<StoryActorView> = []
      for (const storyId of yield* registry.keys) {
        const current = yield* phase(storyId)
        if (Option.isSome(current))
          found.push({ storyId, phase: current.value, restarts: restarts.get(storyId) ?? 0 })
      }
      return found
    })

    return {
      spawn,
      release: (id) => Ref.update(contained, HashSet.remove(id)),
      isRunning: (id) => Effect.map(lookup(id), Option.isSome),
      keys: registry.keys,
      tell,
      stop,
      halt,
      awaitEnd,
      phase,
      views,
    } satisfies StoryActors
  })
