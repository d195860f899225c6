// src/actors/Scheduler.ts — the Agents service: starts a StoryActor per active item (by hand through
// start_agent, or by itself in auto mode when dependencies are met and an agent is free), fires the
// Store's timers, stops what a person stops, and answers the agent tools. One per server.
import { NodeFileSystem } from "@effect/platform-node"
import { Context, Deferred, Effect, Either, Layer, Option, Queue, Ref, type Scope } from "effect"
import { allMet, dependencyStatus, describeDependencies } from "../domain/dependencies.js"
import type { NodeId } from "../domain/ExecutionState.js"
import { parseStoryDoc } from "../domain/StoryDoc.js"
import { describeStage } from "../domain/transition.js"
import type { WorkItem } from "../domain/WorkItem.js"
import { planPromotions } from "../domain/promotion.js"
import { loadConfig } from "../layers/Config.js"
import { Git } from "../layers/Git.js"
import { Project } from "../layers/Project.js"
import { ServerUrl } from "../layers/ServerUrl.js"
import { Store, type StoreEvent } from "../layers/Store.js"
import { TestRuns } from "../layers/TestRuns.js"
import * as Actor from "./Actor.js"
import type { AgentHandle, AgentRunResult } from "./AgentActor.js"
import { processEnv } from "./agentFiles.js"
import { StartRefused } from "./agentContract.js"
import { type AgentSlots, makeAgentSlots, type Waiting } from "./AgentSlots.js"
import { type MergeFixRefused, refused as refusedFix, runMergeFix } from "./mergemaster.js"
import * as Registry from "./Registry.js"
import { recoverAfterRestart } from "./recovery.js"
import { keepsWorking, runStory, type StoryPhase } from "./StoryActor.js"
import { runTimers } from "./timerLoop.js"

export interface StoryView {
  readonly storyId: string
  readonly phase: StoryPhase["_tag"]
  readonly role?: string
  readonly since?: number
  readonly handle?: AgentHandle
}

export interface AgentsShape {
  /** Starts (or resumes) work on an item now; a Backlog item must have its dependencies met. */
  readonly start: (
    storyId: string,
    options?: { readonly agent?: string },
  ) => Effect.Effect<{ readonly alreadyRunning: boolean; readonly item: WorkItem }, StartRefused>
  /** Stops the item's work on this node and marks it stopped, so nothing restarts it by itself. */
  readonly stop: (
    storyId: string,
  ) => Effect.Effect<{ readonly stopped: boolean; readonly result?: AgentRunResult }>
  /** Ends the item's actor without marking anything (the item is being deleted). */
  readonly halt: (storyId: string) => Effect.Effect<void>
  readonly stories: Effect.Effect<ReadonlyArray<StoryView>>
  readonly slots: AgentSlots
  readonly handle: (storyId: string) => Effect.Effect<Option.Option<AgentHandle>>
  /** Waits for the item's running agent to end; the last result if none runs; None if none ever ran. */
  readonly awaitRun: (storyId: string) => Effect.Effect<Option.Option<AgentRunResult>>
  readonly lastResult: (storyId: string) => Effect.Effect<Option.Option<AgentRunResult>>
  readonly waiting: Effect.Effect<ReadonlyArray<Waiting>>
  /** Runs a mergemaster on an item in Merge with what stopped its merge; waits for the session to end. */
  readonly fixMerge: (storyId: string, failure: string) => Effect.Effect<AgentRunResult, MergeFixRefused>
}

export class Agents extends Context.Tag("huskies/Agents")<Agents, AgentsShape>() {}

export interface SchedulerOptions {
  /** Start items by itself (dependencies met, agent free). Off: only start_agent and timers start work. */
  readonly autoAssign: boolean
  /** Variables added to every agent's environment (on top of the server's own). */
  readonly agentEnv?: Readonly<Record<string, string>>
  /** The longest the timer loop sleeps without looking again (default 60 s). */
  readonly timerPollMillis?: number
}

type StoryMsg = { readonly _tag: "Finished" }

interface Entry {
  readonly ref: Actor.ActorRef<StoryMsg>
  readonly phase: Ref.Ref<StoryPhase>
}

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

const makeScheduler = (options: SchedulerOptions) =>
  Effect.gen(function* () {
    const store = yield* Store
    const project = yield* Project
    const serverUrl = yield* ServerUrl
    const services = yield* Effect.context<Store | Git | TestRuns>()
    const node: NodeId = store.nodeId
    const readConfig = loadConfig(project.root).pipe(Effect.provide(NodeFileSystem.layer))
    const initial = yield* readConfig.pipe(Effect.either)
    const slots = yield* makeAgentSlots(
      Either.isRight(initial) ? initial.right.agents : [],
      Either.isRight(initial)
        ? initial.right.project.concurrency
        : { maxAgents: 0, maxCoders: 0, maxQa: 0, maxMergemasters: 0 },
    )
    if (Either.isLeft(initial))
      yield* Effect.logError(`agents cannot run until this is fixed: ${initial.left.message}`)

    const registry = yield* Registry.make<StoryMsg>()
    const entries = yield* Ref.make(new Map<string, Entry>())
    const results = yield* Ref.make(new Map<string, AgentRunResult>())
    const pokes = yield* Queue.sliding<void>(1)
    const timerPokes = yield* Queue.sliding<void>(1)
    const poke = Queue.offer(pokes, undefined).pipe(Effect.asVoid)

    const loadConfigNow = readConfig.pipe(
      Effect.tap((config) => slots.configure(config.agents, config.project.concurrency)),
    )

    /** Starts `body` as the item's actor unless one runs; returns whether one was already running. */
    const spawnActor = (
      id: string,
      body: (phase: Ref.Ref<StoryPhase>) => Effect.Effect<void, never, Scope.Scope>,
    ) =>
      Effect.gen(function* () {
        const existing = yield* Effect.option(registry.lookup(id))
        if (Option.isSome(existing)) return true
        const phase = yield* Ref.make<StoryPhase>({ _tag: "Starting" })
        const spec = Actor.make<StoryMsg, null, never, Scope.Scope>({
          mailboxSize: 1,
          init: (self) =>
            body(phase).pipe(
              Effect.ensuring(Effect.ignore(self.tell({ _tag: "Finished" }))),
              Effect.forkScoped,
              Effect.as(null),
            ),
          receive: () => Effect.succeed(Actor.stopped),
        })
        const spawned = yield* Effect.either(registry.spawn(id, spec))
        if (Either.isLeft(spawned)) return true
        yield* Ref.update(entries, (m) => new Map(m).set(id, { ref: spawned.right, phase }))
        // When it ends, forget it and look again: the item may need something else now.
        yield* spawned.right.await.pipe(
          Effect.zipRight(
            Ref.update(entries, (m) => {
              if (m.get(id)?.ref !== spawned.right) return m
              const next = new Map(m)
              next.delete(id)
              return next
            }),
          ),
          Effect.zipRight(poke),
          Effect.forkIn(scope),
        )
        return false
      })

    const recordResult = (id: string) => (result: AgentRunResult) =>
      Ref.update(results, (m) => new Map(m).set(id, result))

    const spawnStory = (id: string, resume: boolean, pinned?: string) =>
      spawnActor(id, (phase) =>
        runStory({
          storyId: id,
          root: project.root,
          slots,
          mcpUrl: serverUrl.mcpUrl,
          loadConfig: loadConfigNow,
          phase,
          resume,
          ...(pinned === undefined ? {} : { pinned }),
          ...(options.agentEnv === undefined ? {} : { agentEnv: options.agentEnv }),
          onRunEnded: recordResult(id),
        }).pipe(Effect.provide(services)),
      )

    const fixMerge = (id: string, failure: string) =>
      Effect.gen(function* () {
        const config = yield* loadConfigNow.pipe(Effect.mapError((e) => refusedFix(e.message)))
        if (!config.agents.some((a) => a.stage === "mergemaster"))
          return yield* refusedFix(
            'no mergemaster agent is configured: add one to agents.toml with stage = "mergemaster"',
          )
        // The coder's or QA's actor may still be winding down after the move to Merge.
        const previous = yield* Effect.option(registry.lookup(id))
        if (Option.isSome(previous)) yield* previous.value.await
        const outcome = yield* Deferred.make<AgentRunResult, MergeFixRefused>()
        const spawnedHere = yield* spawnActor(id, (phase) =>
          Effect.scoped(
            runMergeFix({
              storyId: id,
              root: project.root,
              slots,
              mcpUrl: serverUrl.mcpUrl,
              config,
              phase,
              failure,
              ...(options.agentEnv === undefined ? {} : { env: { ...processEnv(), ...options.agentEnv } }),
            }),
          ).pipe(
            Effect.tap(recordResult(id)),
            Effect.provide(services),
            Effect.exit,
            Effect.flatMap((exit) => Deferred.done(outcome, exit)),
            // Stopped before it ended (a person, a delete, the item leaving Merge): say so to the caller.
            Effect.onInterrupt(() =>
              Deferred.fail(outcome, refusedFix("the mergemaster was stopped before it finished")),
            ),
            Effect.asVoid,
          ),
        ).pipe(Effect.map((already) => !already))
        if (!spawnedHere) return yield* refusedFix(`something else already runs on ${id}`)
        return yield* Deferred.await(outcome)
      })

    const scope = yield* Effect.scope

    const endActor = (id: string) =>
      Effect.gen(function* () {
        const entry = (yield* Ref.get(entries)).get(id)
        if (entry !== undefined) yield* entry.ref.stop
      })

    const start = (id: string, startOptions: { readonly agent?: string } = {}) =>
      Effect.gen(function* () {
        const refuse = (why: string) => new StartRefused({ storyId: id, why })
        let item = yield* store.get(id).pipe(Effect.mapError((e) => refuse(e.message)))
        if (item.stage._tag === "Backlog") {
          const doc = parseStoryDoc(yield* store.content(id).pipe(Effect.orElseSucceed(() => "")))
          const dependsOn = Either.isRight(doc) ? doc.right.frontMatter.dependsOn : []
          const { items } = yield* store.list
          const statuses = dependencyStatus(dependsOn, new Map(items.map((i) => [i.id, i.stage])))
          if (!allMet(statuses)) return yield* refuse(describeDependencies(statuses))
          item = yield* store
            .apply(id, { _tag: "Start", at: yield* now })
            .pipe(Effect.mapError((e) => refuse(e.message)))
        } else if (item.stage._tag !== "Coding" && item.stage._tag !== "Qa") {
          return yield* refuse(
            `it is in ${describeStage(item.stage)}; agents work on items in Backlog, Coding or QA${item.stage._tag === "Merge" ? " (the merge queue handles Merge)" : ""}`,
          )
        }
        const exec = item.execution[node]
        const wasRunning = (yield* Effect.option(registry.lookup(id))).pipe(Option.isSome)
        if (!wasRunning && exec !== undefined && exec._tag !== "Running") {
          // A person asked for it now: a stop, a finished run or a pending rate-limit retry no longer applies.
          yield* store.cancelTimers(id).pipe(Effect.orDie)
          item = yield* store
            .apply(id, { _tag: "ExecutionCleared", node, at: yield* now })
            .pipe(Effect.mapError((e) => refuse(e.message)))
        }
        const alreadyRunning = yield* spawnStory(id, exec?._tag === "RateLimited", startOptions.agent)
        return { alreadyRunning, item }
      })

    const stop = (id: string) =>
      Effect.gen(function* () {
        const entry = (yield* Ref.get(entries)).get(id)
        const phase = entry === undefined ? undefined : yield* Ref.get(entry.phase)
        // The agent first, so its result says who stopped it; then the actor (gates, a wait for an agent).
        const result =
          phase?._tag === "Running" ? yield* phase.handle.stop("stopped by a person (stop_agent)") : undefined
        if (result !== undefined) yield* Ref.update(results, (m) => new Map(m).set(id, result))
        if (entry !== undefined) yield* entry.ref.stop
        yield* store.cancelTimers(id).pipe(Effect.ignore)
        // Marked even when no agent ran (waiting for one, or in the gates), so auto mode leaves it alone.
        yield* store.apply(id, { _tag: "AgentStopped", node, at: yield* now }).pipe(Effect.ignore)
        return { stopped: entry !== undefined, ...(result === undefined ? {} : { result }) }
      })

    const lastResult = (id: string) => Effect.map(Ref.get(results), (m) => Option.fromNullable(m.get(id)))

    const handle = (id: string) =>
      Effect.gen(function* () {
        const entry = (yield* Ref.get(entries)).get(id)
        if (entry === undefined) return Option.none<AgentHandle>()
        const phase = yield* Ref.get(entry.phase)
        return phase._tag === "Running" ? Option.some(phase.handle) : Option.none<AgentHandle>()
      })

    const awaitRun = (id: string) =>
      Effect.gen(function* () {
        const running = yield* handle(id)
        if (Option.isNone(running)) return yield* lastResult(id)
        return Option.some(yield* running.value.result)
      })

    const stories = Effect.gen(function* () {
      const views: Array<StoryView> = []
      for (const [storyId, entry] of yield* Ref.get(entries)) {
        const phase = yield* Ref.get(entry.phase)
        views.push({
          storyId,
          phase: phase._tag,
          ...(phase._tag === "WaitingForAgent" ? { role: phase.role, since: phase.since } : {}),
          ...(phase._tag === "Gates" ? { since: phase.since } : {}),
          ...(phase._tag === "Running" ? { role: phase.handle.role, handle: phase.handle } : {}),
        })
      }
      return views
    })

    // ---------------------------------------------------------------------------- reacting to the Store

    const onStoreEvent = (event: StoreEvent) =>
      Effect.gen(function* () {
        if (event._tag === "TimersChanged") return yield* Queue.offer(timerPokes, undefined)
        if (event._tag === "ItemDeleted") return yield* endActor(event.id)
        if (event._tag === "ItemChanged" && event.before.stage._tag !== event.after.stage._tag) {
          // One line per move, so the server's output tells the story of each item.
          yield* Effect.logInfo(
            `${event.after.id}: ${describeStage(event.before.stage)} -> ${describeStage(event.after.stage)}`,
          )
          yield* onMoved(event.after, event.event._tag)
        }
        if (event._tag === "ItemChanged" && event.event._tag === "AgentStarted")
          yield* Effect.logInfo(`${event.after.id}: ${event.event.role} ${event.event.agent} started`)
        // A heartbeat changes nothing the scheduler decides on. A content edit can (depends_on, agent, qa).
        if (event._tag === "ItemChanged" && event.event._tag === "Heartbeat") return
        yield* poke
      })

    const onMoved = (item: WorkItem, cause: string) =>
      Effect.gen(function* () {
        const entry = (yield* Ref.get(entries)).get(item.id)
        if (entry === undefined) return
        const phase = yield* Ref.get(entry.phase)
        if (keepsWorking(phase, item.stage._tag, cause)) return
        const why = `${item.id} moved to ${describeStage(item.stage)}: its work here is over`
        yield* Effect.logInfo(`${why}; stopping it`)
        // The agent first, so its result (kept for wait_for_agent) says why it ended.
        if (phase._tag === "Running") yield* recordResult(item.id)(yield* phase.handle.stop(why))
        yield* entry.ref.stop
        // The run ended because the item moved, not because a person stopped it: leave no stop mark.
        const after = yield* Effect.option(store.get(item.id))
        const exec = Option.getOrUndefined(after)?.execution[node]
        if (exec?._tag === "Completed" && exec.outcome === "stopped")
          yield* store.apply(item.id, { _tag: "ExecutionCleared", node, at: yield* now }).pipe(Effect.ignore)
      })

    const reconcile = Effect.gen(function* () {
      const config = yield* Effect.either(loadConfigNow)
      if (Either.isLeft(config)) return yield* Effect.logError(config.left.message)
      if (!options.autoAssign || !config.right.project.autoAssign) return
      const { items } = yield* store.list
      const running = new Set((yield* Ref.get(entries)).keys())
      const { timers } = yield* store.timers
      const contents = new Map<string, string>()
      for (const item of items) {
        if (item.stage._tag === "Backlog" || item.stage._tag === "Coding" || item.stage._tag === "Qa")
          contents.set(item.id, yield* store.content(item.id).pipe(Effect.orElseSucceed(() => "")))
      }
      const plan = planPromotions({
        items,
        contents,
        timers,
        running,
        node,
        agents: config.right.agents,
        concurrency: config.right.project.concurrency,
        defaultQa: config.right.project.defaultQa,
        busy: yield* slots.busy,
        waiting: (yield* slots.waiting).map((w) => w.request),
      })
      for (const id of plan.resume) yield* spawnStory(id, true)
      for (const id of plan.start) {
        const started = yield* Effect.either(store.apply(id, { _tag: "Start", at: yield* now }))
        if (Either.isRight(started)) yield* spawnStory(id, false)
      }
    }).pipe(Effect.catchAllCause((cause) => Effect.logError("scheduling failed", cause)))

    // ------------------------------------------------------------------------------------------- start

    yield* recoverAfterRestart(store, node, project.root)
    const subscription = yield* store.subscribe
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(subscription), onStoreEvent)))
    yield* Effect.forkScoped(Effect.forever(Queue.take(pokes).pipe(Effect.zipRight(reconcile))))
    yield* Effect.forkScoped(
      runTimers({
        store,
        start: (id) => Effect.asVoid(start(id)),
        pokes: timerPokes,
        onQuiet: poke,
        pollMillis: options.timerPollMillis ?? 60_000,
      }),
    )
    yield* poke

    return {
      start,
      stop,
      halt: endActor,
      stories,
      slots,
      handle,
      awaitRun,
      lastResult,
      waiting: slots.waiting,
      fixMerge,
    } satisfies AgentsShape
  }).pipe(Effect.annotateLogs({ component: "scheduler" }))

type SchedulerEnv = Store | Project | Git | TestRuns | ServerUrl

export const AgentsLive = (options: SchedulerOptions): Layer.Layer<Agents, never, SchedulerEnv> =>
  Layer.scoped(Agents, makeScheduler(options))
