// src/actors/PipelineView.ts — the read-only views transports get: PipelineView (the Store's typed
// projections and its event stream) and ActivityView (what the agents, the merge queue and the supervision
// tree are doing on this server). Neither can change anything.
import { Context, Effect, Layer, Option, Stream } from "effect"
import type { AgentConfig } from "../domain/Config.js"
import type { StoreShape } from "../layers/Store.js"
import { Store, type StoreEvent } from "../layers/Store.js"
import { RemoteNodes, type RemoteNodesShape } from "../layers/RemoteNodes.js"
import type { AgentHandle, AgentRunResult } from "./agentContract.js"
import type { BusyAgent } from "../domain/assign.js"
import type { Waiting } from "./AgentSlots.js"
import { MergeQueue, type MergeQueueShape } from "./MergeQueue.js"
import { drawTree, ServeTree } from "./rootSupervisor.js"
import { Agents, type StoryView } from "./Scheduler.js"
import type { StoryId } from "../domain/StoryId.js"

/** A running agent as an observer sees it: its status, output and end, but no way to stop it. */
export type AgentWatch = Pick<AgentHandle, "storyId" | "agent" | "role" | "status" | "output" | "result">

export interface AgentsWatch {
  readonly configured: Effect.Effect<ReadonlyArray<AgentConfig>>
  readonly busy: Effect.Effect<ReadonlyArray<BusyAgent>>
  readonly waiting: Effect.Effect<ReadonlyArray<Waiting>>
  /** The items being worked on here and in which phase (a running agent's handle is its watch). */
  readonly stories: Effect.Effect<ReadonlyArray<Omit<StoryView, "handle"> & { readonly agent?: AgentWatch }>>
  readonly running: (storyId: StoryId) => Effect.Effect<Option.Option<AgentWatch>>
  /** Waits for the item's running agent to end; the last result if none runs; None if none ever ran. */
  readonly awaitRun: (storyId: StoryId) => Effect.Effect<Option.Option<AgentRunResult>>
}

/** The worker nodes attached to this server: their status, their agents, and those agents' terminals and logs. */
export type NodesWatch = Pick<
  RemoteNodesShape,
  "nodes" | "agents" | "runningOn" | "terminal" | "tail" | "fetchLog"
>

/** The merge queue's state, when this server runs one. */
export type MergesWatch = Pick<MergeQueueShape, "jobs" | "current" | "paused" | "waiting" | "subscribe">

export interface PipelineViewShape extends Pick<
  StoreShape,
  "nodeId" | "get" | "content" | "history" | "list" | "timers" | "mergeJobs" | "dump"
> {
  /** Every change after it is on disk, from the moment of subscription (bounded by the caller's scope). */
  readonly changes: Stream.Stream<StoreEvent>
}

export class PipelineView extends Context.Tag("huskies/PipelineView")<PipelineView, PipelineViewShape>() {}

export interface ActivityViewShape {
  readonly agents: AgentsWatch
  /** None when this server runs no merge queue. */
  readonly merges: Option.Option<MergesWatch>
  /** None when this server takes no worker nodes. */
  readonly nodes: Option.Option<NodesWatch>
  /** serve's supervision tree drawn as text: each long-lived part, whether it runs, how often it restarted. */
  readonly supervision: Effect.Effect<string>
}

export class ActivityView extends Context.Tag("huskies/ActivityView")<ActivityView, ActivityViewShape>() {}

const watch = (handle: AgentHandle): AgentWatch => ({
  storyId: handle.storyId,
  agent: handle.agent,
  role: handle.role,
  status: handle.status,
  output: handle.output,
  result: handle.result,
})

export const PipelineViewLive = Layer.effect(
  PipelineView,
  Effect.map(Store, (store) => ({
    nodeId: store.nodeId,
    get: store.get,
    content: store.content,
    history: store.history,
    list: store.list,
    timers: store.timers,
    mergeJobs: store.mergeJobs,
    dump: store.dump,
    changes: Stream.fromPubSub(store.events),
  })),
)

export const ActivityViewLive = Layer.effect(
  ActivityView,
  Effect.gen(function* () {
    const agents = yield* Agents
    const merges = yield* Effect.serviceOption(MergeQueue)
    const remote = yield* Effect.serviceOption(RemoteNodes)
    const tree = yield* Effect.serviceOption(ServeTree)
    return {
      agents: {
        configured: agents.slots.agents,
        busy: agents.slots.busy,
        waiting: agents.waiting,
        stories: Effect.map(agents.stories, (views) =>
          views.map(({ handle, ...rest }) =>
            handle === undefined ? rest : { ...rest, agent: watch(handle) },
          ),
        ),
        running: (id) => Effect.map(agents.handle(id), Option.map(watch)),
        awaitRun: agents.awaitRun,
      },
      merges: Option.map(merges, (q) => ({
        jobs: q.jobs,
        current: q.current,
        paused: q.paused,
        waiting: q.waiting,
        subscribe: q.subscribe,
      })),
      nodes: Option.map(remote, (r) => ({
        nodes: r.nodes,
        agents: r.agents,
        runningOn: r.runningOn,
        terminal: r.terminal,
        tail: r.tail,
        fetchLog: r.fetchLog,
      })),
      supervision: Option.match(tree, {
        onNone: () => Effect.succeed(drawTree("serve", [])),
        onSome: (t) => Effect.map(t.children, (children) => drawTree("serve", children)),
      }),
    } satisfies ActivityViewShape
  }),
)

/** Both views, over this server's Store, agents and (when it runs) merge queue. */
export const ViewsLive = Layer.merge(PipelineViewLive, ActivityViewLive)
