// src/actors/Scheduler.ts — the Agents service: starts a StoryActor per active item under the stories
// supervisor (by hand through start_agent, or by itself in auto mode), fires the Store's timers, routes the
// Store's moves to the item's actor (which decides itself what they mean for its work), stops what a person
// stops, and answers the agent tools. One per server; its long-lived parts are children of serve's tree.
import { Context, Deferred, Effect, Either, Layer, Option, Queue } from "effect"
import { allMet, dependencyStatus, describeDependencies } from "../domain/dependencies.js"
import type { NodeId } from "../domain/ExecutionState.js"
import type { AgentRole } from "../domain/Stage.js"
import { parseStoryDoc } from "../domain/StoryDoc.js"
import { describeStage } from "../domain/transition.js"
import type { WorkItem } from "../domain/WorkItem.js"
import { Git } from "../layers/Git.js"
import { HuskiesConfig } from "../layers/HuskiesConfig.js"
import { Project } from "../layers/Project.js"
import { ServerUrl } from "../layers/ServerUrl.js"
import { Store, type StoreEvent } from "../layers/Store.js"
import { TestRuns } from "../layers/TestRuns.js"
import type { AgentHandle, AgentRunResult } from "./agentContract.js"
import { processEnv } from "./agentFiles.js"
import { StartRefused } from "./agentContract.js"
import { type AgentSlots, makeAgentSlots, type Waiting } from "./AgentSlots.js"
import { type MergeFixRefused, refused as refusedFix, runMergeFix } from "./mergemaster.js"
import { recoverAfterRestart } from "./recovery.js"
import { autoAssign } from "./autoAssign.js"
import { ServeTree } from "./rootSupervisor.js"
import { runResultsActor, runResultsOf } from "./runResults.js"
import { defaultStoryRestarts, makeStoryActors, type StoryActors, type StoryRestarts } from "./storyActors.js"
import type { StoryPhase } from "./storyPhase.js"
import type { NodeBranches } from "./branchSync.js"
import { runStory } from "./storyWork.js"
import { runTimers } from "./timerLoop.js"
import { makeWorkClaims, type WorkClaims } from "./workClaims.js"
import type { StoryId } from "../domain/StoryId.js"

export interface StoryView {
  readonly storyId: StoryId
  readonly phase: StoryPhase["_tag"]
  readonly role?: string
  readonly since?: number
  readonly handle?: AgentHandle
  /** How often the item's actor was restarted after a crash. */
  readonly restarts: number
}

export interface AgentsShape {
  /** Starts (or resumes) work on an item now; a Backlog item must have its dependencies met. */
  readonly start: (
    storyId: StoryId,
    /** `by`: who asked, for the item's history ("server" when omitted: a timer, auto-assign). */
    options?: { readonly agent?: string | undefined; readonly by?: string | undefined },
  ) => Effect.Effect<{ readonly alreadyRunning: boolean; readonly item: WorkItem }, StartRefused>
  /** Stops the item's work on this node and marks it stopped, so nothing restarts it by itself. */
  readonly stop: (
    storyId: StoryId,
    by?: string,
  ) => Effect.Effect<{
    readonly stopped: boolean
    readonly result?: AgentRunResult
  }>
  /** Ends the item's actor without marking anything (the item is being deleted). */
  readonly halt: (storyId: StoryId) => Effect.Effect<void>
  readonly stories: Effect.Effect<ReadonlyArray<StoryView>>
  readonly slots: AgentSlots
  readonly handle: (storyId: StoryId) => Effect.Effect<Option.Option<AgentHandle>>
  /** Waits for the item's running agent to end; the last result if none runs; None if none ever ran. */
  readonly awaitRun: (storyId: StoryId) => Effect.Effect<Option.Option<AgentRunResult>>
  readonly lastResult: (storyId: StoryId) => Effect.Effect<Option.Option<AgentRunResult>>
  readonly waiting: Effect.Effect<ReadonlyArray<Waiting>>
  /** Runs a mergemaster on an item in Merge with what stopped its merge; waits for the session to end. */
  readonly fixMerge: (storyId: StoryId, failure: string) => Effect.Effect<AgentRunResult, MergeFixRefused>
}

export class Agents extends Context.Tag("huskies/Agents")<Agents, AgentsShape>() {}

export interface SchedulerOptions {
  /** Start items by itself (dependencies met, agent free). Off: only start_agent and timers start work. */
  readonly autoAssign: boolean
  /** Variables added to every agent's environment (on top of the server's own). */
  readonly agentEnv?: Readonly<Record<string, string>>
  /** The longest the timer loop sleeps without looking again (default 60 s). */
  readonly timerPollMillis?: number
  /** How often an item's actor may crash and be restarted before the item is archived as Blocked. */
  readonly storyRestarts?: StoryRestarts
  /** A worker node: runs only these roles (`[nodes] worker_stages`), branches from and pushes to the remote. */
  readonly worker?: { readonly stages: ReadonlyArray<AgentRole>; readonly holds?: NodeBranches["holds"] }
}

const now = Effect.clockWith((clock) => clock.currentTimeMillis)
const makeScheduler = (options: SchedulerOptions) =>
  Effect.gen(function* () {
    const store = yield* Store
    const tree = yield* ServeTree
    const project = yield* Project
    const serverUrl = yield* ServerUrl
    const services = yield* Effect.context<Store | Git | TestRuns>()
    const node: NodeId = store.nodeId
    const readConfig = (yield* HuskiesConfig).get
    const initial = yield* readConfig.pipe(Effect.either)
    const slots = yield* makeAgentSlots(
      Either.isRight(initial) ? initial.right.agents : [],
      Either.isRight(initial)
        ? initial.right.project.concurrency
        : { maxAgents: 0, maxCoders: 0, maxQa: 0, maxMergemasters: 0 },
    )
    if (Either.isLeft(initial))
      yield* Effect.logError(`agents cannot run until this is fixed: ${initial.left.message}`)
    const results = runResultsOf(yield* tree.actor("run-results", runResultsActor))
    const pokes = yield* Queue.sliding<void>(1)
    const timerPokes = yield* Queue.sliding<void>(1)
    const poke = Queue.offer(pokes, undefined).pipe(Effect.asVoid)
    const loadConfigNow = readConfig.pipe(
      Effect.tap((config) => slots.configure(config.agents, config.project.concurrency)),
    )
    const recordResult = (id: StoryId) => (result: AgentRunResult) => results.ended(id, result)
    // Made before the story actors, so a shutdown gives the claims back only once their work has stopped.
    const claims: WorkClaims = yield* makeWorkClaims({
      ...{ store, config: readConfig, main: options.worker === undefined },
      poke: Effect.zipRight(poke, Queue.offer(timerPokes, undefined)),
      stopWork: (id, why) => actors.stop(id, why),
    })
    const actors: StoryActors = yield* makeStoryActors({
      store,
      supervisor: (supervisorOptions) => tree.supervisor("stories", supervisorOptions),
      restarts: options.storyRestarts ?? defaultStoryRestarts,
      onRunEnded: recordResult,
      // When one ends, look again (the item may need something else now), and give its claim back unless a
      // new actor (start_agent) runs on it meanwhile.
      onEnded: (id) => Effect.zipRight(Effect.unlessEffect(claims.ended(id), actors.isRunning(id)), poke),
    })
    const worker = options.worker
    // The remote named in [nodes], read when an item's work starts (a config edit applies to the next one).
    const nodesOf = readConfig.pipe(
      Effect.map(({ project }): NodeBranches => ({
        remote: project.nodes.remote,
        worker: worker !== undefined,
        claimants: store.claimants,
        ...claims.forBranches(worker?.holds),
      })),
      Effect.orElseSucceed(() => undefined),
    )
    const spawnStory = (id: StoryId, resume: boolean, pinned?: string) =>
      actors.spawn(
        id,
        (setPhase, restart) =>
          Effect.flatMap(nodesOf, (nodes) =>
            runStory({
              storyId: id,
              root: project.root,
              slots,
              mcpUrl: serverUrl.mcpUrl,
              loadConfig: loadConfigNow,
              setPhase,
              // After a crash the agent it ran was stopped with it: its session is taken up again.
              resume: resume || restart > 0,
              ...(pinned === undefined ? {} : { pinned }),
              ...(options.agentEnv === undefined ? {} : { agentEnv: options.agentEnv }),
              ...(nodes === undefined ? {} : { nodes }),
              ...(worker === undefined ? {} : { stages: worker.stages }),
              onRunEnded: recordResult(id),
            }),
          ).pipe(Effect.provide(services)),
        "transient",
      )
    const fixMerge = (id: StoryId, failure: string) =>
      Effect.gen(function* () {
        const config = yield* loadConfigNow.pipe(Effect.mapError((e) => refusedFix(e.message)))
        if (!config.agents.some((a) => a.stage === "mergemaster"))
          return yield* refusedFix(
            'no mergemaster agent is configured: add one to agents.toml with stage = "mergemaster"',
          )
        // The coder's or QA's actor may still be winding down after the move to Merge.
        yield* actors.awaitEnd(id)
        const outcome = yield* Deferred.make<AgentRunResult, MergeFixRefused>()
        const spawnedHere = yield* actors
          .spawn(
            id,
            (setPhase) =>
              Effect.scoped(
                runMergeFix({
                  storyId: id,
                  root: project.root,
                  slots,
                  mcpUrl: serverUrl.mcpUrl,
                  config,
                  setPhase,
                  failure,
                  ...(options.agentEnv === undefined
                    ? {}
                    : { env: { ...processEnv(), ...options.agentEnv } }),
                }),
              ).pipe(
                Effect.tap(recordResult(id)),
                Effect.provide(services),
                // A crash of the session's actor is no reason the merge queue can act on: it gets it in words.
                Effect.catchAllDefect((defect) =>
                  refusedFix(`the mergemaster's actor crashed: ${String(defect)}`),
                ),
                Effect.exit,
                Effect.flatMap((exit) => Deferred.done(outcome, exit)),
                // Stopped before it ended (a person, a delete, the item leaving Merge): say so to the caller.
                Effect.onInterrupt(() =>
                  Deferred.fail(outcome, refusedFix("the mergemaster was stopped before it finished")),
                ),
                Effect.asVoid,
              ),
            // Not restarted: the merge queue decides what follows a session, whatever ended it.
            "temporary",
          )
          .pipe(Effect.map((already) => !already))
        if (!spawnedHere) return yield* refusedFix(`something else already runs on ${id}`)
        return yield* Deferred.await(outcome)
      })
    const start = (
      id: StoryId,
      startOptions: { readonly agent?: string | undefined; readonly by?: string | undefined } = {},
    ) =>
      Effect.gen(function* () {
        const refuse = (why: string) => new StartRefused({ storyId: id, why })
        let item = yield* store.get(id).pipe(Effect.mapError((e) => refuse(e.message)))
        if (item.stage._tag === "Backlog") {
          // No content (deleted meanwhile) parses to no dependencies; the Start below then fails on the item.
          const doc = parseStoryDoc(yield* store.content(id).pipe(Effect.orElseSucceed(() => "")))
          const dependsOn = Either.isRight(doc) ? doc.right.frontMatter.dependsOn : []
          const { items } = yield* store.list
          const statuses = dependencyStatus(dependsOn, new Map(items.map((i) => [i.id, i.stage])))
          if (!allMet(statuses)) return yield* refuse(describeDependencies(statuses))
          yield* claims.before(id, "Backlog").pipe(Effect.mapError((e) => refuse(e.message)))
          item = yield* store
            .apply(id, { _tag: "Start", at: yield* now }, { by: startOptions.by ?? "server" })
            .pipe(
              Effect.mapError((e) => refuse(e.message)),
              Effect.tapError(() => claims.ended(id)),
            )
        } else if (item.stage._tag !== "Coding" && item.stage._tag !== "Qa") {
          return yield* refuse(
            `it is in ${describeStage(item.stage)}; agents work on items in Backlog, Coding or QA${item.stage._tag === "Merge" ? " (the merge queue handles Merge)" : ""}`,
          )
        } else yield* claims.before(id, item.stage._tag).pipe(Effect.mapError((e) => refuse(e.message)))
        const exec = item.execution[node]
        const wasRunning = yield* actors.isRunning(id)
        if (!wasRunning && exec !== undefined && exec._tag !== "Running") {
          // A person asked for it now: a stop, a finished run or a pending rate-limit retry no longer applies.
          yield* store.cancelTimers(id).pipe(Effect.orDie)
          item = yield* store
            .apply(id, { _tag: "ExecutionCleared", node, at: yield* now })
            .pipe(Effect.mapError((e) => refuse(e.message)))
        }
        // Asked for now: an item whose actor was given up on may run again.
        yield* actors.release(id)
        const alreadyRunning = yield* spawnStory(id, exec?._tag === "RateLimited", startOptions.agent)
        return { alreadyRunning, item }
      })
    const stop = (id: StoryId, by?: string) =>
      Effect.gen(function* () {
        // The actor stops its agent first, so the agent's result says who stopped it.
        const { stopped, result } = yield* actors.stop(id, "stopped by a person (stop_agent)")
        yield* claims.ended(id)
        // Safe to lose: a timer that is already gone or cannot be cancelled fires into a stopped item.
        yield* store.cancelTimers(id).pipe(Effect.ignore)
        // Marked even when no agent ran (waiting for one, or in the gates), so auto mode leaves it alone.
        // Refused only when the item is gone or has left the pipeline: then there is nothing to mark.
        yield* store.apply(id, { _tag: "AgentStopped", node, at: yield* now }, { by }).pipe(Effect.ignore)
        return {
          stopped,
          ...(Option.isSome(result) ? { result: result.value } : {}),
        }
      })
    const lastResult = results.last
    const handle = (id: StoryId) =>
      Effect.map(actors.phase(id), (phase) =>
        Option.flatMap(phase, (p) =>
          p._tag === "Running" ? Option.some(p.handle) : Option.none<AgentHandle>(),
        ),
      )
    const awaitRun = (id: StoryId) =>
      Effect.gen(function* () {
        const running = yield* handle(id)
        if (Option.isNone(running)) return yield* lastResult(id)
        return Option.some(yield* running.value.result)
      })
    const stories = Effect.map(actors.views, (views) =>
      views.map(({ storyId, phase, restarts }) => ({
        storyId,
        phase: phase._tag,
        restarts,
        ...(phase._tag === "WaitingForAgent" ? { role: phase.role, since: phase.since } : {}),
        ...(phase._tag === "Gates" ? { since: phase.since } : {}),
        ...(phase._tag === "Running" ? { role: phase.handle.role, handle: phase.handle } : {}),
      })),
    )
    // ---------------------------------------------------------------------------- reacting to the Store
    const heldHere = (id: StoryId) =>
      Effect.map(Effect.either(store.holder(id)), (holder) =>
        Either.isRight(holder) && Option.isSome(holder.right) ? holder.right.value.node === node : false,
      )
    const onStoreEvent = (event: StoreEvent) =>
      Effect.gen(function* () {
        // A claim given back or taken changes where the item's timers fire.
        if (event._tag === "TimersChanged" || event._tag === "ClaimChanged")
          yield* Queue.offer(timerPokes, undefined)
        if (event._tag === "TimersChanged") return
        if (event._tag === "ItemDeleted") {
          // A deleted item's last run is nobody's to wait for any more.
          yield* results.forget(event.id)
          return yield* actors.halt(event.id)
        }
        if (event._tag === "ItemChanged" && event.before.stage._tag !== event.after.stage._tag) {
          // One line per move, so the server's output tells the story of each item.
          yield* Effect.logInfo(
            `${event.after.id}: ${describeStage(event.before.stage)} -> ${describeStage(event.after.stage)}`,
          )
          // The item's actor decides what the move means for its work.
          yield* actors.tell(event.after.id, {
            _tag: "StageChanged",
            stage: event.after.stage._tag,
            cause: event.event._tag,
            where: describeStage(event.after.stage),
          })
          yield* claims.moved(event.before, event.after, yield* actors.isRunning(event.after.id))
        }
        if (event._tag === "ItemChanged" && event.event._tag === "AgentStarted")
          yield* Effect.logInfo(`${event.after.id}: ${event.event.role} ${event.event.agent} started`)
        // A heartbeat, a merge job or a decision changes nothing the scheduler decides on. A content edit
        // can (depends_on, agent, qa).
        if (event._tag === "ItemChanged" && event.event._tag === "Heartbeat") return
        // Nor does work starting here: the look that claimed and started it planned everything else, and a
        // start frees nothing (a look now would only compete with that start for the thread). This node's
        // own claim (taken, renewed) only keeps other nodes off the item; a claim given back is looked at.
        const starting =
          event._tag === "ClaimChanged"
            ? event.id
            : event._tag === "ItemChanged" &&
                (event.event._tag === "Start" || event.event._tag === "AgentStarted")
              ? event.after.id
              : undefined
        if (starting !== undefined && ((yield* actors.isRunning(starting)) || (yield* heldHere(starting))))
          return
        if (
          event._tag === "MergeJobChanged" ||
          event._tag === "DecisionOpened" ||
          event._tag === "DecisionAnswered"
        )
          return
        yield* poke
      })
    const reconcile = autoAssign({
      store,
      node,
      config: loadConfigNow,
      enabled: options.autoAssign,
      claims,
      slots,
      running: actors.keys,
      stages: worker?.stages,
      spawn: (id, resume) => spawnStory(id, resume),
    })
    // ------------------------------------------------------------------------------------------- start
    yield* recoverAfterRestart(store, node, project.root)
    // Subscribed here, not in the router: a restarted router goes on with the next event, and only the one
    // it crashed on is not routed again.
    const subscription = yield* store.subscribe
    yield* tree.loop("scheduler", Effect.forever(Effect.flatMap(Queue.take(subscription), onStoreEvent)))
    yield* tree.loop("auto-assign", Effect.forever(Queue.take(pokes).pipe(Effect.zipRight(reconcile))))
    yield* tree.loop(
      "timers",
      runTimers({
        store,
        start: (id: StoryId) => Effect.asVoid(start(id)),
        pokes: timerPokes,
        firesHere: claims.firesTimersOf,
        onQuiet: poke,
        pollMillis: options.timerPollMillis ?? 60_000,
      }),
    )
    yield* poke
    return {
      start,
      stop,
      halt: actors.halt,
      stories,
      slots,
      handle,
      awaitRun,
      lastResult,
      waiting: slots.waiting,
      fixMerge,
    }
  }).pipe(Effect.annotateLogs({ component: "scheduler" }))
export const AgentsLive = (options: SchedulerOptions) => Layer.scoped(Agents, makeScheduler(options))
