// bench/mergeQueue.ts — scenario (f): the merge queue on a real server (in this process) and repository.
// Throughput: N stories, each with a branch adding its own file, all moved to Merge at once, until all are
// Done; and one story's QA approval -> Done, alone. Baseline, in the same run on an equivalent repository:
// the same squash merges scripted as plain git commands. Then, with git's trace2 log on, the git processes
// each merge starts, on both sides.
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { join } from "node:path"
import type { StoryId } from "../src/domain/StoryId.js"
import { featureBranchOf } from "../src/layers/git/paths.js"
import { LogsLive } from "../src/layers/Logs.js"
import { Store } from "../src/layers/Store.js"
import { serverLayer } from "../src/transports/cli/serve.js"
import { coderAgents, makeAgentProject } from "./agentProject.js"
import { emit, percentile, scratchDir, wallClockMs } from "./measure.js"
import { addFeatureBranches, type GitWork, gitWork, scriptedMerge, traceOffset } from "./mergeProject.js"

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const stories = env("HUSKIES_BENCH_MERGE_STORIES", 20)
const approvals = env("HUSKIES_BENCH_MERGE_APPROVALS", 5)
/** Rounds alternate which side goes first; each side keeps its best round. */
const rounds = env("HUSKIES_BENCH_MERGE_ROUNDS", 2)
/** Merges run again with git's trace2 log on, to count processes (not timed: tracing costs time). */
const traced = env("HUSKIES_BENCH_MERGE_TRACED", 4)
const base = "main"
/** Quiet time before each single approval, so the previous merge's leftovers do not slow the next. */
const settleMillis = 100

const { dir, cleanup } = scratchDir()
// No `[commands] test`: no gate runs, so both sides do only the merge itself.
const projectOf = (name: string) =>
  makeAgentProject(join(dir, name), {
    projectToml: `base_branch = "${base}"\ndefault_qa = "none"\n`,
    // Never started (auto-assign is off), but a valid agents.toml names at least one agent.
    agentsToml: coderAgents(1, "idle.sh"),
    scripts: { "idle.sh": "#!/bin/sh\n" },
  }).root

const serverOn = (root: string) =>
  ManagedRuntime.make(
    serverLayer(root, {
      port: 0,
      host: "127.0.0.1",
      durability: "normal",
      autoAssign: false,
      mergeQueue: true,
    }).pipe(
      Layer.provide(
        process.env["HUSKIES_BENCH_LOGS"] === "1" ? LogsLive() : LogsLive({ write: () => undefined }),
      ),
    ),
  )

const now = () => Date.now()

/** Files `count` stories, starts them and gives each a branch with one commit adding its own file. */
const storiesWithBranches = (root: string, label: string, count: number) =>
  Effect.gen(function* () {
    const store = yield* Store
    const ids: Array<StoryId> = []
    for (let i = 0; i < count; i++) {
      const name = `${label} ${i}`
      const item = yield* store.create({
        kind: "story",
        name,
        content: `---\nname: ${name}\n---\n\n## Acceptance Criteria\n\n- [ ] it lands\n`,
      })
      yield* store.apply(item.id, { _tag: "Start", at: now() })
      ids.push(item.id)
    }
    addFeatureBranches(
      root,
      base,
      ids.map((id) => ({ branch: featureBranchOf(id), file: `work-${id}.txt` })),
    )
    return ids
  }).pipe(Effect.orDie)

/**
 * Applies `move` to each item, then waits until every one is Done (dying if one is archived instead) and the
 * queue has cleared its jobs. Times from just before the first move, when the queue may already start.
 */
const untilAllDone = (
  ids: ReadonlyArray<StoryId>,
  move: (id: StoryId) => Effect.Effect<unknown, unknown, Store>,
) =>
  Effect.gen(function* () {
    const store = yield* Store
    const changes = yield* store.subscribe
    const pending = new Set<string>(ids)
    const start = wallClockMs()
    for (const id of ids) yield* move(id)
    const movedMs = wallClockMs() - start
    yield* Stream.fromQueue(changes).pipe(
      Stream.filter((e) => e._tag === "ItemChanged" && pending.has(e.after.id)),
      Stream.mapEffect((e) => {
        if (e._tag !== "ItemChanged") return Effect.void
        const stage = e.after.stage
        if (stage._tag === "Archived") return Effect.dieMessage(`${e.after.id}: ${JSON.stringify(stage)}`)
        if (stage._tag === "Done") pending.delete(e.after.id)
        return Effect.void
      }),
      Stream.takeUntil(() => pending.size === 0),
      Stream.runDrain,
      Effect.timeoutFail({
        duration: "120 seconds",
        onTimeout: () => new Error(`still merging: ${[...pending]}`),
      }),
    )
    const doneMs = wallClockMs() - start
    while ((yield* store.mergeJobs).jobs.length > 0) yield* Effect.sleep("2 millis")
    return { movedMs, doneMs, clearedMs: wallClockMs() - start }
  }).pipe(Effect.scoped, Effect.orDie)

const toMerge = (id: StoryId) =>
  Effect.flatMap(Store, (store) =>
    store.apply(id, {
      _tag: "GatesPassed",
      featureBranch: featureBranchOf(id),
      commitsAhead: 1,
      qa: "none",
      at: now(),
    }),
  )

/** Huskies' side of one throughput round: `stories` items moved to Merge at once. */
const huskiesThroughput = (root: string, round: number) =>
  Effect.flatMap(storiesWithBranches(root, `round ${round} story`, stories), (ids) =>
    untilAllDone(ids, toMerge),
  )

/** One story in QA, approved: ms from the approval to Done. */
const approveToDone = (root: string, n: number) =>
  Effect.gen(function* () {
    const store = yield* Store
    const [id] = yield* storiesWithBranches(root, `approved story`, 1)
    if (id === undefined) return yield* Effect.dieMessage("no story filed")
    const branch = featureBranchOf(id)
    yield* store.apply(id, {
      _tag: "GatesPassed",
      featureBranch: branch,
      commitsAhead: 1,
      qa: "human",
      at: now(),
    })
    yield* Effect.sleep(settleMillis)
    const { doneMs } = yield* untilAllDone([id], () =>
      store.apply(id, { _tag: "QaApproved", featureBranch: branch, commitsAhead: 1, at: now() }),
    )
    process.stderr.write(`  approval ${n + 1}/${approvals}: ${doneMs.toFixed(1)} ms\n`)
    return doneMs
  }).pipe(Effect.orDie)

/** The baseline's side of one round: `count` branches merged one after another by the scripted commands. */
const scriptedRound = (root: string, label: string, count: number) => {
  const branches = Array.from({ length: count }, (_, i) => ({
    branch: `feature/story-${label}-${i}`,
    file: `work-${label}-${i}.txt`,
  }))
  addFeatureBranches(root, base, branches)
  const start = process.hrtime.bigint()
  const each = branches.map(({ branch }, i) => scriptedMerge(root, base, branch, `${label}-${i}`))
  return { totalMs: Number(process.hrtime.bigint() - start) / 1e6, each }
}

const round1 = (ms: number) => Math.round(ms * 10) / 10
const median = (values: ReadonlyArray<number>) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  )

/** Per-merge figures of a traced stretch: processes, time in and between them, and the busiest subcommands. */
const perMerge = (side: string, work: GitWork, merges: number, metrics: Record<string, number | string>) => {
  metrics[`${side}.gitProcessesPerMerge`] = round1(work.processes / merges)
  metrics[`${side}.gitMsPerMerge`] = round1(work.gitMs / merges)
  metrics[`${side}.betweenGitMsPerMerge`] = round1((work.spanMs - work.gitMs) / merges)
  metrics[`${side}.gitSubcommandsPerMerge`] = Object.entries(work.bySubcommand)
    .sort(([, a], [, b]) => b - a)
    .map(([name, n]) => `${name} ${round1(n / merges)}`)
    .join(", ")
}

const huskiesRoot = projectOf("huskies")
const scriptedRoot = projectOf("scripted")
let runtime = serverOn(huskiesRoot)
try {
  await runtime.runPromise(Effect.void)
  const huskies: Array<{ movedMs: number; doneMs: number; clearedMs: number }> = []
  const scripted: Array<{ totalMs: number; each: ReadonlyArray<number> }> = []
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (["scripted", "huskies"] as const) : (["huskies", "scripted"] as const)
    for (const side of order) {
      let ms: number
      if (side === "huskies") {
        const run = await runtime.runPromise(huskiesThroughput(huskiesRoot, r))
        huskies.push(run)
        ms = run.doneMs
      } else {
        const run = scriptedRound(scriptedRoot, `r${r}`, stories)
        scripted.push(run)
        ms = run.totalMs
      }
      process.stderr.write(`  round ${r + 1}/${rounds} ${side}: ${ms.toFixed(0)} ms for ${stories} merges\n`)
    }
  }
  const approved: Array<number> = []
  for (let n = 0; n < approvals; n++) approved.push(await runtime.runPromise(approveToDone(huskiesRoot, n)))
  await runtime.dispose()

  // The counting pass: a fresh server whose git runner picks up the trace2 variable from this environment.
  const trace = join(dir, "trace2.jsonl")
  process.env["GIT_TRACE2_EVENT"] = trace
  const tracedRoot = projectOf("traced")
  runtime = serverOn(tracedRoot)
  await runtime.runPromise(Effect.void)
  const ids = await runtime.runPromise(storiesWithBranches(tracedRoot, "traced story", traced))
  const huskiesFrom = traceOffset(trace)
  await runtime.runPromise(untilAllDone(ids, toMerge))
  const huskiesWork = gitWork(trace, huskiesFrom)
  // Stopped first, so nothing the server might still run lands in the scripted side's count.
  await runtime.dispose()
  const branches = Array.from({ length: traced }, (_, i) => ({
    branch: `feature/traced-${i}`,
    file: `t-${i}.txt`,
  }))
  addFeatureBranches(scriptedRoot, base, branches)
  const scriptedFrom = traceOffset(trace)
  branches.forEach(({ branch }, i) => scriptedMerge(scriptedRoot, base, branch, `traced-${i}`))
  const scriptedWork = gitWork(trace, scriptedFrom)
  delete process.env["GIT_TRACE2_EVENT"]

  const best = <T>(xs: ReadonlyArray<T>, key: (x: T) => number) => Math.min(...xs.map(key))
  const huskiesMs = best(huskies, (h) => h.doneMs)
  const scriptedMs = best(scripted, (s) => s.totalMs)
  const metrics: Record<string, number | string> = {
    stories,
    approvals,
    "huskies.throughputMs": round1(huskiesMs),
    "huskies.perMergeMs": round1(huskiesMs / stories),
    "huskies.toMergeMs": round1(best(huskies, (h) => h.movedMs)),
    "huskies.jobsClearedMs": round1(best(huskies, (h) => h.clearedMs)),
    "scripted.throughputMs": round1(scriptedMs),
    "scripted.perMergeMs": round1(scriptedMs / stories),
    "scripted.mergeMs.p50": round1(median(scripted.flatMap((s) => s.each))),
    "huskies.approveToDoneMs.p50": round1(median(approved)),
    "huskies.approveToDoneMs.max": round1(Math.max(...approved)),
  }
  perMerge("huskies", huskiesWork, traced, metrics)
  perMerge("scripted", scriptedWork, traced, metrics)
  emit({ scenario: "merge-queue", metrics })
} finally {
  await runtime.dispose()
  cleanup()
}
