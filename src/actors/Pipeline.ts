// src/actors/Pipeline.ts — the command layer: every change anyone asks for (a tool call, a chat
// command, a click in the UI) is one call here. Each gathers its facts, builds the event and applies
// it through the Store; pipeline rules live here and in src/domain, once. Transports get this and
// the read-only PipelineView, never the Store.
import { Context, Effect, type Either, Layer, Option } from "effect"
import type { AnswerError, Decision, DecisionNotFound, Verdict } from "../domain/Decision.js"
import type { DependencyStatus } from "../domain/dependencies.js"
import type { StageName } from "../domain/moveRoutes.js"
import type { StoryDoc } from "../domain/StoryDoc.js"
import type { ItemKind, StoryId } from "../domain/StoryId.js"
import type { Timer } from "../domain/Timer.js"
import type { TransitionError } from "../domain/transition.js"
import type { WorkItem } from "../domain/WorkItem.js"
import { HuskiesConfig } from "../layers/HuskiesConfig.js"
import type { DeleteReport, ProjectionError } from "../layers/docModel.js"
import type { GateResult, GateSpawnError } from "../layers/Gates.js"
import { Git } from "../layers/Git.js"
import type { PersistError } from "../layers/Persistence.js"
import { Project } from "../layers/Project.js"
import { type NodeUnreachable, RemoteNodes } from "../layers/RemoteNodes.js"
import {
  type ContentConflict,
  type ContentEditError,
  type ItemNotFound,
  Store,
  type TimerRefused,
} from "../layers/Store.js"
import { TestRuns } from "../layers/TestRuns.js"
import type { AgentRunResult, StartRefused } from "./agentContract.js"
import { MergeQueue, type MergeRefused, type MergeResult } from "./MergeQueue.js"
import * as content from "./pipeline/content.js"
import { CommandRefused, type EditRefused, MergesOff } from "./pipeline/errors.js"
import * as moves from "./pipeline/moves.js"
import * as verdicts from "./pipeline/verdicts.js"
import type { NoWorktree } from "./pipeline/projectCommand.js"
import { type FilesRemoval, removeItemFiles } from "./pipeline/removal.js"
import { Decisions } from "./Decisions.js"
import { Agents } from "./Scheduler.js"

export { BranchNotReady, CommandRefused, EditRefused, MergesOff } from "./pipeline/errors.js"
export type { Moved } from "./pipeline/moves.js"
export {
  commandOf,
  NoProjectCommand,
  NoWorktree,
  type ProjectCommandKind,
  runProjectCommand,
} from "./pipeline/projectCommand.js"
export { notPresent, type Removal, type RemovalStatus, removed } from "./pipeline/removal.js"

/** Failures every command on an existing item can have besides its own refusals. */
type ItemFailure = ItemNotFound | ProjectionError | PersistError
type MoveFailure = CommandRefused | TransitionError | ItemFailure
type DecisionFailure = DecisionNotFound | AnswerError
type EditFailure = EditRefused | ContentEditError | ContentConflict | ItemFailure

export interface PipelineShape {
  /** Files a new item in Backlog. */
  readonly create: (
    kind: ItemKind,
    doc: StoryDoc,
    by?: string,
  ) => Effect.Effect<
    {
      readonly item: WorkItem
      readonly content: string
      readonly dependencies: ReadonlyArray<DependencyStatus>
    },
    EditRefused | PersistError
  >
  /** Edits the item's markdown (one compare-and-set write; depends_on is checked when it changes). */
  readonly edit: <E extends { readonly message: string }>(
    id: StoryId,
    change: (doc: StoryDoc) => Either.Either<StoryDoc, E>,
  ) => Effect.Effect<content.Edited, EditFailure>
  readonly setDependencies: (
    id: StoryId,
    dependsOn: ReadonlyArray<string>,
  ) => Effect.Effect<
    { readonly doc: StoryDoc; readonly dependencies: ReadonlyArray<DependencyStatus> },
    EditFailure
  >
  /**
   * Moves the item to the stage a person names (`reason`: QA notes, or "superseded by <id>"). Out of QA,
   * it is `by`'s QA verdict, recorded on the item's pending decision. `by` (here and below: who asked,
   * `mcp:<client>`, `ui:<user>`) and the reason go into the item's history.
   */
  readonly move: (
    id: StoryId,
    to: StageName,
    reason?: string,
    by?: string,
  ) => Effect.Effect<moves.Moved, MoveFailure | DecisionFailure>
  readonly block: (id: StoryId, reason: string, by?: string) => Effect.Effect<moves.Moved, MoveFailure>
  readonly unblock: (id: StoryId, by?: string) => Effect.Effect<moves.Moved, MoveFailure>
  /** A coder's request for review: runs the tests, then moves to QA if they pass. */
  readonly requestQa: (
    id: StoryId,
    asker?: string,
  ) => Effect.Effect<
    { readonly moved: boolean; readonly item: WorkItem; readonly tests: GateResult | undefined },
    MoveFailure | NoWorktree | GateSpawnError
  >
  /** The QA agent's approval (`by: "agent"`), or a person's (`"person"`, accept_story); `asker` as `by`. */
  readonly approveQa: (
    id: StoryId,
    by: "agent" | "person",
    notes?: string,
    asker?: string,
  ) => Effect.Effect<WorkItem, MoveFailure>
  readonly rejectQa: (
    id: StoryId,
    notes: string,
    asker?: string,
  ) => Effect.Effect<{ readonly after: WorkItem; readonly retryLimit: number }, MoveFailure>
  /**
   * A person's QA verdict on an item in QA (`by` names who: `mcp:<client>`, `ui:<user>`): recorded on
   * the item's pending human-QA decision, then the move.
   */
  readonly humanQa: (
    id: StoryId,
    verdict: "approve" | "reject",
    by: string,
    note?: string,
  ) => Effect.Effect<WorkItem, MoveFailure | DecisionFailure>
  /** Answers a pending decision (a permission request, a human QA) as `by`; a QA verdict moves the item. */
  readonly answerDecision: (
    decisionId: string,
    verdict: Verdict,
    by: string,
    note?: string,
  ) => Effect.Effect<Decision, MoveFailure | DecisionFailure>
  /** Starts (or resumes) work on the item now, with `agent` if given. */
  readonly startAgent: (
    id: StoryId,
    agent?: string,
    by?: string,
  ) => Effect.Effect<
    { readonly alreadyRunning: boolean; readonly item: WorkItem },
    StartRefused | CommandRefused
  >
  /** Stops the item's work on this node and marks it stopped. */
  readonly stopAgent: (
    id: StoryId,
    by?: string,
  ) => Effect.Effect<
    {
      readonly stopped: boolean
      readonly result?: AgentRunResult
      /** Set when the agent ran on another node: the node told to stop it. */
      readonly node?: string
    },
    ItemNotFound | ProjectionError | NodeUnreachable
  >
  readonly scheduleStart: (
    id: StoryId,
    at: number,
  ) => Effect.Effect<Timer, ItemNotFound | TimerRefused | PersistError>
  readonly cancelTimers: (
    id: StoryId,
    timerIds?: ReadonlyArray<string>,
  ) => Effect.Effect<ReadonlyArray<string>, PersistError>
  /** Removes the item from the Store, stops its agents, then removes its worktree, branch and logs. */
  readonly delete: (
    id: StoryId,
  ) => Effect.Effect<{ readonly store: DeleteReport } & FilesRemoval, PersistError>
  /** Queues (or joins) the item's merge and waits for that attempt to end. */
  readonly merge: (
    id: StoryId,
    onProgress: (message: string) => Effect.Effect<void>,
  ) => Effect.Effect<MergeResult, MergeRefused | MergesOff>
  readonly reportMergeFailure: (id: StoryId, why: string) => Effect.Effect<WorkItem, MergeRefused | MergesOff>
}

export class Pipeline extends Context.Tag("huskies/Pipeline")<Pipeline, PipelineShape>() {}

export const makePipeline = Effect.gen(function* () {
  const project = yield* Project
  const agents = yield* Agents
  const store = yield* Store
  const merges = yield* Effect.serviceOption(MergeQueue)
  const remote = yield* Effect.serviceOption(RemoteNodes)
  const services = yield* Effect.context<Store | Git | TestRuns | Agents | Decisions>()
  const settings: moves.Settings = { root: project.root, config: (yield* HuskiesConfig).get }
  const run = <A, E>(effect: Effect.Effect<A, E, Store | Git | TestRuns | Agents | Decisions>) =>
    Effect.provide(effect, services)
  const queue = Option.match(merges, {
    onNone: () => Effect.fail(new MergesOff()),
    onSome: Effect.succeed,
  })

  return {
    create: (kind, doc, by) => run(content.create(kind, doc, by)),
    edit: (id, change) => run(content.edit(id, change)),
    setDependencies: (id, dependsOn) => run(content.setDependencies(id, dependsOn)),
    move: (id, to, reason, by) =>
      run(
        Effect.gen(function* () {
          const move = moves.move(settings, id, to, reason, by)
          const item = yield* store.get(id)
          if (by === undefined || item.stage._tag !== "Qa" || (to !== "merge" && to !== "coding"))
            return yield* move
          return yield* verdicts.moveOutOfQa(id, to === "merge" ? "approve" : "reject", by, reason, move)
        }),
      ),
    block: (id, reason, by) => run(moves.block(id, reason, by)),
    unblock: (id, by) => run(moves.unblock(id, by)),
    requestQa: (id, asker) => run(moves.requestQa(settings, id, asker)),
    approveQa: (id, by, notes, asker) => run(moves.approveQa(settings, id, by, notes, asker)),
    rejectQa: (id, notes, asker) => run(moves.rejectQa(settings, id, notes, asker)),
    humanQa: (id, verdict, by, note) => run(verdicts.humanQa(settings, id, verdict, by, note)),
    answerDecision: (decisionId, verdict, by, note) =>
      run(verdicts.answerDecision(settings, decisionId, verdict, by, note)),
    startAgent: (id, agent, by) =>
      Effect.gen(function* () {
        if (agent !== undefined) {
          const known = yield* agents.slots.agents
          if (!known.some((a) => a.name === agent)) {
            return yield* new CommandRefused({
              command: `start ${agent} on ${id}`,
              message: `agent_name: no agent is called "${agent}"; agents.toml defines ${known.map((a) => a.name).join(", ") || "none"}`,
            })
          }
        }
        return yield* agents.start(id, { agent, by })
      }),
    stopAgent: (id, by) =>
      Effect.gen(function* () {
        // An agent running on a worker node is stopped there: the node is told down its command stream.
        const elsewhere = Option.isSome(remote) ? yield* remote.value.runningOn(id) : Option.none()
        if (Option.isSome(remote) && Option.isSome(elsewhere) && elsewhere.value.node !== store.nodeId) {
          const reply = yield* remote.value.stop(elsewhere.value.node, id, by)
          return { stopped: reply.stopped, node: elsewhere.value.node }
        }
        yield* store.get(id)
        return yield* agents.stop(id, by)
      }),
    scheduleStart: (id, at) => store.setTimer({ storyId: id, kind: "start", at, note: "scheduled start" }),
    cancelTimers: (id, timerIds) => store.cancelTimers(id, timerIds),
    delete: (id) =>
      Effect.gen(function* () {
        // The Store goes first: once the item is gone no actor or timer can bring it back, and the
        // ItemDeleted event tells running agents to stop before their worktree is taken away.
        const report = yield* store.delete(id)
        // Waits until the item's agent and everything it started are gone, before the worktree goes.
        yield* agents.halt(id)
        const files = yield* run(removeItemFiles(project.root, id))
        return { store: report, ...files }
      }),
    merge: (id, onProgress) => Effect.flatMap(queue, (q) => q.merge(id, onProgress)),
    reportMergeFailure: (id, why) => Effect.flatMap(queue, (q) => q.reportFailure(id, why)),
  } satisfies PipelineShape
})

/** The command layer over this server's Store, agents and (when it runs) merge queue. */
export const PipelineLive = Layer.effect(Pipeline, makePipeline)
