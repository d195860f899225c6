// bench/agentLatency.ts — scenario (d): what huskies adds around an agent, item by item on a real server
// (in this process) and a real repository: from filing an item to its agent's first instruction, and from
// the agent's last instruction to its gate's first. Baseline, interleaved in the same run: the same git
// and process work done directly (git worktree add + node-pty spawn; git rev-list + sh -c).
import { Effect, Layer, ManagedRuntime, Option, Stream } from "effect"
import { join } from "node:path"
import { Agents } from "../src/actors/Scheduler.js"
import { LogsLive } from "../src/layers/Logs.js"
import { Store } from "../src/layers/Store.js"
import { serverLayer } from "../src/transports/cli/serve.js"
import {
  coderAgents,
  gitIdentity,
  makeAgentProject,
  rawAgent,
  rawGate,
  rawWorktree,
  rawWorktreePath,
  readStamps,
} from "./agentProject.js"
import { emit, percentile, scratchDir, wallClockMs } from "./measure.js"

const items = Number(process.env["HUSKIES_BENCH_AGENT_ITEMS"] ?? 20)
const warmup = Number(process.env["HUSKIES_BENCH_AGENT_WARMUP"] ?? 2)
/** Quiet time between runs, so one run's leftovers (exiting processes, log writes) do not slow the next. */
const settleMillis = 100

// The agent's first instruction takes the time, its last writes both stamps; the gate's first takes its own.
const agentScript = `#!/bin/bash
start=$EPOCHREALTIME
echo "working on $HUSKIES_STORY_ID"
${gitIdentity}
echo "$HUSKIES_STORY_ID" > feature.txt
git add feature.txt
git commit -q -m "work on $HUSKIES_STORY_ID"
echo "$start $EPOCHREALTIME" > "{{stamps}}/$HUSKIES_STORY_ID.agent"
`
const gateScript = `#!/bin/bash
start=$EPOCHREALTIME
echo "$start" > "{{stamps}}/\${PWD##*/}.gate"
`

interface Sample {
  /** Item filed (or raw work begun) -> the agent's first instruction. */
  readonly readyToAgentMs: number
  /** The agent's last instruction -> the gate's first. */
  readonly exitToGateMs: number
}

/** Huskies' side split at the moves the Store published, as this process saw them (p50s go to the JSON). */
interface Steps {
  /** store.create itself: the durable write. */
  readonly createMs: number
  /** Filed -> Start written (the Scheduler noticed, planned and moved it to Coding). */
  readonly toStartMs: number
  /** Start -> AgentStarted written (actor, config, agent lease, worktree, launch). */
  readonly startToAgentStartedMs: number
  /** AgentStarted -> the agent's first instruction (launch files, session log, PTY spawn, bash start). */
  readonly agentStartedToFirstInstructionMs: number
  /** The agent's last instruction -> AgentExited written (exit noticed, process tree swept, output settled). */
  readonly lastInstructionToAgentExitedMs: number
  /** AgentExited -> the gate's first instruction (commits counted, gate spawned). */
  readonly agentExitedToGateMs: number
}

const { dir, cleanup } = scratchDir()
const project = makeAgentProject(dir, {
  projectToml: `base_branch = "main"
default_qa = "none"

[commands]
test = "{{scripts}}/gate.sh"
`,
  agentsToml: coderAgents(1, "agent.sh"),
  scripts: { "agent.sh": agentScript, "gate.sh": gateScript },
})
const gateCommand = join(project.scripts, "gate.sh")

/** When the agent run for `key` took its first and last instruction, and its gate its first. */
const stampsOf = (key: string) => {
  const [agentStart = NaN, agentEnd = NaN] = readStamps(project.stamps, key, "agent")
  const [gateStart = NaN] = readStamps(project.stamps, key, "gate")
  return { agentStart, agentEnd, gateStart }
}

const sampleOf = (key: string, readyAt: number): Sample => {
  const { agentStart, agentEnd, gateStart } = stampsOf(key)
  return { readyToAgentMs: agentStart - readyAt, exitToGateMs: gateStart - agentEnd }
}

const runtime = ManagedRuntime.make(
  serverLayer(project.root, {
    port: 0,
    host: "127.0.0.1",
    durability: "normal",
    autoAssign: true,
    mergeQueue: false,
  }).pipe(Layer.provide(LogsLive({ write: () => undefined }))),
)

/** Files one item and waits until it is at the merge handoff and its actor has ended (the agent is free). */
const huskiesRun = (n: number) =>
  Effect.gen(function* () {
    const store = yield* Store
    const agents = yield* Agents
    const changes = yield* store.subscribe
    const readyAt = wallClockMs()
    const item = yield* store.create({
      kind: "story",
      name: `bench item ${n}`,
      content: `---\nname: bench item ${n}\nqa: none\n---\n\n## Acceptance Criteria\n\n- [ ] it works\n`,
    })
    const createdAt = wallClockMs()
    // When this process saw each of the item's moves (after they were written): where the time goes.
    const seen = new Map<string, number>()
    const settled = yield* Stream.fromQueue(changes).pipe(
      Stream.filterMap((e) => {
        if (e._tag !== "ItemChanged" || e.after.id !== item.id) return Option.none()
        if (!seen.has(e.event._tag)) seen.set(e.event._tag, wallClockMs())
        const stage = e.after.stage
        return stage._tag === "Merge" || stage._tag === "Archived" ? Option.some(stage) : Option.none()
      }),
      Stream.runHead,
      Effect.flatten,
      Effect.timeoutFail({
        duration: "30 seconds",
        onTimeout: () => new Error(`${item.id} did not reach Merge in 30 s`),
      }),
    )
    if (settled._tag !== "Merge") return yield* Effect.dieMessage(`${item.id}: ${JSON.stringify(settled)}`)
    while ((yield* agents.stories).length > 0) yield* Effect.sleep("5 millis")
    const { agentStart, agentEnd, gateStart } = stampsOf(item.id)
    const at = (tag: string) => seen.get(tag) ?? NaN
    const steps: Steps = {
      createMs: createdAt - readyAt,
      toStartMs: at("Start") - readyAt,
      startToAgentStartedMs: at("AgentStarted") - at("Start"),
      agentStartedToFirstInstructionMs: agentStart - at("AgentStarted"),
      lastInstructionToAgentExitedMs: at("AgentExited") - agentEnd,
      agentExitedToGateMs: gateStart - at("AgentExited"),
    }
    return { sample: sampleOf(item.id, readyAt), steps }
  }).pipe(Effect.scoped, Effect.orDie)

const rawRun = async (n: number): Promise<Sample> => {
  const key = `raw-${n}`
  const readyAt = wallClockMs()
  await rawWorktree(project.root, key)
  const agent = rawAgent(join(project.scripts, "agent.sh"), rawWorktreePath(project.root, key), key)
  await agent.firstOutput
  const code = await agent.exited
  if (code !== 0) throw new Error(`raw agent ${key} exited ${code}`)
  await rawGate(project.root, key, gateCommand)
  return sampleOf(key, readyAt)
}

const pause = () => new Promise((r) => setTimeout(r, settleMillis))

try {
  await runtime.runPromise(Effect.void)
  const huskies: Array<Sample> = []
  const raw: Array<Sample> = []
  const huskiesSteps: Array<Steps> = []
  for (let n = 0; n < warmup + items; n++) {
    process.stderr.write(`  item ${n + 1}/${warmup + items}\n`)
    // Alternate which goes first, so neither always runs right after the other's leftovers.
    const order = n % 2 === 0 ? (["huskies", "raw"] as const) : (["raw", "huskies"] as const)
    for (const which of order) {
      await pause()
      if (which === "huskies") {
        const { sample, steps } = await runtime.runPromise(huskiesRun(n))
        if (n >= warmup) {
          huskies.push(sample)
          huskiesSteps.push(steps)
        }
      } else {
        const sample = await rawRun(n)
        if (n >= warmup) raw.push(sample)
      }
    }
  }
  const metrics: Record<string, number> = { items }
  for (const [side, samples] of [
    ["huskies", huskies],
    ["raw", raw],
  ] as const) {
    for (const key of ["readyToAgentMs", "exitToGateMs"] as const) {
      const sorted = samples.map((s) => s[key]).sort((a, b) => a - b)
      metrics[`${side}.${key}.p50`] = Math.round(percentile(sorted, 50) * 10) / 10
      metrics[`${side}.${key}.p90`] = Math.round(percentile(sorted, 90) * 10) / 10
    }
  }
  for (const key of Object.keys(huskiesSteps[0] ?? {}) as Array<keyof Steps>) {
    const sorted = huskiesSteps.map((s) => s[key]).sort((a, b) => a - b)
    metrics[`huskies.steps.${key}.p50`] = Math.round(percentile(sorted, 50) * 10) / 10
  }
  emit({ scenario: "agent-latency", metrics })
} finally {
  await runtime.dispose()
  cleanup()
}
