// src/transports/tools/agentTools.ts — start_agent, stop_agent, list_agents, wait_for_agent and
// get_agent_output: a person's (or a chat LLM's) hand on the agents the Scheduler runs on this server.
// Starting and stopping are Pipeline commands; the rest reads the ActivityView.
import { Effect, Option, Schema, Stream } from "effect"
import type { AgentRunResult, AgentStatus } from "../../actors/agentContract.js"
import { Pipeline } from "../../actors/Pipeline.js"
import { ActivityView } from "../../actors/PipelineView.js"
import { withProgress } from "./gateTool.js"
import { agentNameParam, requireId, stageView, StoryIdParam } from "./itemAccess.js"
import { defineTool } from "./Tool.js"

const Usage = Schema.Struct({
  input_tokens: Schema.Number,
  output_tokens: Schema.Number,
  cache_read: Schema.Number,
  cache_creation: Schema.Number,
})

const RunResult = Schema.Struct({
  story_id: Schema.String,
  agent: Schema.String,
  role: Schema.String,
  outcome: Schema.String,
  reason: Schema.String,
  exit_code: Schema.NullOr(Schema.Number),
  turns: Schema.Number,
  cost_usd: Schema.NullOr(Schema.Number),
  usage: Usage,
  session_id: Schema.NullOr(Schema.String),
  log_path: Schema.String,
  duration_ms: Schema.Number,
})

const usageView = (u: AgentStatus["usage"]) => ({
  input_tokens: u.inputTokens,
  output_tokens: u.outputTokens,
  cache_read: u.cacheRead,
  cache_creation: u.cacheCreation,
})

export const resultView = (r: AgentRunResult) => ({
  story_id: r.storyId,
  agent: r.agent,
  role: r.role,
  outcome: r.outcome,
  reason: r.reason,
  exit_code: r.exitCode,
  turns: r.numTurns,
  cost_usd: r.costUsd ?? null,
  usage: usageView(r.usage),
  session_id: r.sessionId ?? null,
  log_path: r.logPath,
  duration_ms: r.endedAt - r.startedAt,
})

const RunningView = Schema.Struct({
  story_id: Schema.String,
  agent: Schema.String,
  role: Schema.String,
  runtime: Schema.String,
  model: Schema.NullOr(Schema.String),
  pid: Schema.Number,
  session: Schema.Number,
  started_at: Schema.String,
  last_output_at: Schema.String,
  turns: Schema.Number,
  cost_usd: Schema.NullOr(Schema.Number),
  usage: Usage,
  state: Schema.String,
})

const runningView = (s: AgentStatus) => ({
  story_id: s.storyId,
  agent: s.agent,
  role: s.role,
  runtime: s.runtime,
  model: s.model ?? null,
  pid: s.pid,
  session: s.session,
  started_at: new Date(s.startedAt).toISOString(),
  last_output_at: new Date(s.lastOutputAt).toISOString(),
  turns: s.numTurns,
  cost_usd: s.costUsd ?? null,
  usage: usageView(s.usage),
  state: s.state,
})

const NodeRow = Schema.Struct({
  node: Schema.String,
  label: Schema.String,
  connected: Schema.Boolean,
  version: Schema.NullOr(Schema.String),
  slots_total: Schema.NullOr(Schema.Number),
  slots_busy: Schema.NullOr(Schema.Number),
  load: Schema.NullOr(Schema.Number),
  status_at: Schema.NullOr(Schema.String),
})

const RemoteRow = Schema.Struct({
  node: Schema.String,
  story_id: Schema.String,
  agent: Schema.String,
  role: Schema.String,
  runtime: Schema.String,
  session: Schema.Number,
  started_at: Schema.String,
  last_output_at: Schema.String,
})

/** The worker nodes and their running agents, as their last Status said. */
const remoteRows = Effect.gen(function* () {
  const watch = (yield* ActivityView).nodes
  if (Option.isNone(watch)) return { nodes: [], remote: [] }
  const nodes = yield* watch.value.nodes
  const agents = yield* watch.value.agents
  return {
    nodes: nodes.map((n) => ({
      node: n.node,
      label: n.label,
      connected: n.connected,
      version: n.status?.version ?? n.version ?? null,
      slots_total: n.status?.slots.total ?? null,
      slots_busy: n.status?.slots.busy ?? null,
      load: n.status?.load ?? null,
      status_at: n.status === undefined ? null : new Date(n.status.at).toISOString(),
    })),
    remote: agents.map((a) => ({
      node: a.node,
      story_id: a.storyId,
      agent: a.agent,
      role: a.role,
      runtime: a.runtime,
      session: a.session,
      started_at: new Date(a.startedAt).toISOString(),
      last_output_at: new Date(a.lastOutputAt).toISOString(),
    })),
  }
})

export const startAgent = defineTool({
  name: "start_agent",
  description:
    "Starts work on an item now: a Backlog item (its dependencies must be met) moves to Coding; an item in Coding or QA gets its coder or QA agent. The agent starts as soon as one is free (agent_name picks one; otherwise the item's own `agent`, or any free agent of the stage). Clears an earlier stop and a pending rate-limit retry. Does not block: use wait_for_agent to wait for the run.",
  input: {
    story_id: StoryIdParam,
    agent_name: Schema.optional(agentNameParam("an [[agent]] name from agents.toml")),
  },
  output: Schema.Struct({ story_id: Schema.String, stage: Schema.Unknown, already_running: Schema.Boolean }),
  run: ({ story_id, agent_name }, context) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const started = yield* (yield* Pipeline).startAgent(id, agent_name, context.caller ?? "mcp")
      return { story_id: id, stage: stageView(started.item.stage), already_running: started.alreadyRunning }
    }),
})

export const stopAgent = defineTool({
  name: "stop_agent",
  description:
    "Stops the work on an item (on the worker node running it, when one does; else on this server): kills its agent's whole process tree (or cancels the gates or the wait for an agent), cancels its timers, and marks it stopped so nothing restarts it by itself; start_agent resumes it. The item stays in its stage. Returns once everything has stopped.",
  input: { story_id: StoryIdParam },
  output: Schema.Struct({
    story_id: Schema.String,
    was_running: Schema.Boolean,
    result: Schema.NullOr(RunResult),
  }),
  run: ({ story_id }, context) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const stopped = yield* (yield* Pipeline).stopAgent(id, context.caller ?? "mcp")
      return {
        story_id: id,
        was_running: stopped.stopped,
        result: stopped.result === undefined ? null : resultView(stopped.result),
      }
    }),
})

export const listAgents = defineTool({
  name: "list_agents",
  description:
    "The agents of this server: every configured agent and what it works on, the items being worked on (running an agent, running the gates, or waiting for a free agent, with why), and their tokens and cost so far; then the worker nodes attached to it (slots, load, version) and the agents running on them; and the server's supervision tree as text (each long-lived part, whether it runs, how often it was restarted). Does not block.",
  input: {},
  output: Schema.Struct({
    agents: Schema.Array(
      Schema.Struct({
        name: Schema.String,
        stage: Schema.String,
        runtime: Schema.String,
        model: Schema.NullOr(Schema.String),
        busy_with: Schema.NullOr(Schema.String),
      }),
    ),
    running: Schema.Array(RunningView),
    items: Schema.Array(
      Schema.Struct({ story_id: Schema.String, phase: Schema.String, role: Schema.NullOr(Schema.String) }),
    ),
    waiting: Schema.Array(
      Schema.Struct({ story_id: Schema.String, role: Schema.String, why: Schema.String }),
    ),
    nodes: Schema.Array(NodeRow),
    remote: Schema.Array(RemoteRow),
    supervision: Schema.String,
  }),
  run: () =>
    Effect.gen(function* () {
      const activity = yield* ActivityView
      const agents = activity.agents
      const configured = yield* agents.configured
      const busy = yield* agents.busy
      const stories = yield* agents.stories
      const running = yield* Effect.forEach(
        stories.flatMap((s) => (s.agent === undefined ? [] : [s.agent])),
        (h) => h.status,
      )
      return {
        agents: configured.map((a) => ({
          name: a.name,
          stage: a.stage,
          runtime: a.runtime,
          model: a.model ?? null,
          busy_with: busy.find((b) => b.agent === a.name)?.storyId ?? null,
        })),
        running: running.map(runningView),
        items: stories.map((s) => ({ story_id: s.storyId, phase: s.phase, role: s.role ?? null })),
        waiting: (yield* agents.waiting).map((w) => ({
          story_id: w.request.storyId,
          role: w.request.role,
          why: w.why,
        })),
        ...(yield* remoteRows),
        supervision: yield* activity.supervision,
      }
    }),
})

export const waitForAgent = defineTool({
  name: "wait_for_agent",
  description:
    "BLOCKS until the agent running on the item exits, sending progress notifications meanwhile, and returns how it ended (outcome, reason, turns, tokens, cost). If no agent runs it returns the last run's result at once. An agent on a worker node (running there, or the newest run when none ran on this server) is waited for too: then node and outcome say how it ended there (result stays null). Never poll: one call waits for the whole run. timeout_secs (default 3600) bounds the wait; still_running says if it ran out.",
  input: {
    story_id: StoryIdParam,
    timeout_secs: Schema.optional(Schema.Number.pipe(Schema.positive())),
  },
  output: Schema.Struct({
    story_id: Schema.String,
    still_running: Schema.Boolean,
    result: Schema.NullOr(RunResult),
    node: Schema.optional(Schema.String),
    outcome: Schema.optional(Schema.String),
  }),
  run: ({ story_id, timeout_secs }, context) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const activity = yield* ActivityView
      const agents = activity.agents
      const timeout = (timeout_secs ?? 3600) * 1000
      // On a worker node (running there, or the newest run when none ran here): its end arrives with its
      // output, as the terminal's Ended.
      const nodes = activity.nodes
      if (Option.isSome(nodes) && Option.isNone(yield* agents.running(id))) {
        const there = yield* nodes.value.runningOn(id)
        const newest = yield* nodes.value.tail(id, 1)
        const hereLast = Option.isSome(there) ? Option.none() : yield* agents.awaitRun(id)
        if (Option.isSome(newest) && Option.isNone(hereLast)) {
          const node = Option.isSome(there) ? there.value.node : newest.value.node
          const filter = Option.isSome(there)
            ? { agent: there.value.agent, session: there.value.session }
            : {}
          const terminal = yield* nodes.value.terminal(id, filter)
          const end = Option.isSome(terminal)
            ? Stream.runHead(Stream.filter(terminal.value, (c) => c._tag === "Ended"))
            : Effect.succeed(Option.none())
          const ended = yield* withProgress(
            context,
            `${id}: agent on ${node}`,
            end.pipe(Effect.timeoutOption(timeout)),
          )
          const outcome = Option.flatMap(Option.flatten(ended), (c) =>
            c._tag === "Ended" ? Option.fromNullable(c.outcome) : Option.none(),
          )
          return {
            story_id: id,
            still_running: Option.isNone(ended),
            result: null,
            node,
            ...(Option.isSome(outcome) ? { outcome: outcome.value } : {}),
          }
        }
      }
      const waited = yield* withProgress(
        context,
        `${id}: agent`,
        agents.awaitRun(id).pipe(Effect.timeoutOption(timeout)),
      )
      if (Option.isNone(waited)) return { story_id: id, still_running: true, result: null }
      return {
        story_id: id,
        still_running: false,
        result: Option.match(waited.value, { onNone: () => null, onSome: resultView }),
      }
    }),
})

export const getAgentOutput = defineTool({
  name: "get_agent_output",
  description:
    "The live tail of the agent running on the item: its last lines of output (text, tool calls and results), and its status (for an agent on a worker node: its node and the lines it has sent, without status). Does not block. For a run that has ended, use get_agent_log (from disk, past sessions too).",
  input: {
    story_id: StoryIdParam,
    lines: Schema.optional(Schema.Int.pipe(Schema.between(1, 2000))),
  },
  output: Schema.Struct({
    story_id: Schema.String,
    running: Schema.Boolean,
    status: Schema.NullOr(RunningView),
    lines: Schema.Array(Schema.String),
    node: Schema.optional(Schema.String),
  }),
  run: ({ story_id, lines }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const activity = yield* ActivityView
      const handle = yield* activity.agents.running(id)
      if (Option.isNone(handle)) {
        // Running on a worker node: the lines it has sent so far.
        const nodes = activity.nodes
        const there = Option.isSome(nodes) ? yield* nodes.value.runningOn(id) : Option.none()
        const tail =
          Option.isSome(nodes) && Option.isSome(there)
            ? yield* nodes.value.tail(id, lines ?? 100)
            : Option.none()
        if (Option.isSome(tail))
          return {
            story_id: id,
            running: true,
            status: null,
            lines: [...tail.value.lines],
            node: tail.value.node,
          }
        return { story_id: id, running: false, status: null, lines: [] }
      }
      return {
        story_id: id,
        running: true,
        status: runningView(yield* handle.value.status),
        lines: [...(yield* handle.value.output(lines ?? 100))],
      }
    }),
})

export const agentTools = [startAgent, stopAgent, listAgents, waitForAgent, getAgentOutput] as const
