// src/actors/AgentActor.ts — one agent CLI process for one work item: in a PTY, its output parsed into agent
// events (session log, live tail, usage), ExecutionState kept current, a watchdog for inactivity, turns and
// budget, the process tree killed when it stops or its Scope closes. A story actor's work starts it.
import { Clock, Deferred, Effect, ExecutionStrategy, Exit, Fiber, Option, Queue, Ref, Scope } from "effect"
import * as Actor from "./Actor.js"
import { agentActor, type AgentRun, handleOf, lastLines } from "./agentMailbox.js"
import {
  type AgentHandle,
  type AgentRunResult,
  type AgentRunSpec,
  AgentStartError,
  type AgentStatus,
  defaultGraceMillis,
} from "./agentContract.js"
import { NodeId } from "../domain/ExecutionState.js"
import { forgetAgentPid, recordAgentPid } from "../layers/AgentPids.js"
import type { Git } from "../layers/Git.js"
import { readUsage, usageBeforeResume } from "../layers/Usage.js"
import { withComponent } from "../layers/Logs.js"
import { type PtyExit, spawnPty } from "../layers/Pty.js"
import { waitAtMost } from "../layers/waitAtMost.js"
import { adapterFor } from "../layers/runtimes/adapters.js"
import { shippedCli } from "../layers/runtimes/shippedCli.js"
import { tokenEnvVar } from "../layers/runtimes/Runtime.js"
import type { AgentEvent } from "../layers/runtimes/agentEvents.js"
import { openSessionLog } from "../layers/SessionLog.js"
import { Store } from "../layers/Store.js"
import {
  appendUsageLedger,
  describeError,
  excludeFromGit,
  findProgram,
  identityFallbackEnv,
  processEnv,
  writeLaunchFiles,
} from "./agentFiles.js"
import {
  emptyReport,
  exitCodeOf,
  inactivityKill,
  type KillRequest,
  limitBreach,
  naturalEnding,
  reportEvents,
  type RunReport,
  statusOf,
  minusUsage,
  runTotals,
} from "./agentOutput.js"

export type { AgentHandle, AgentRunResult, AgentStatus } from "./agentContract.js"

interface RunState {
  readonly phase: AgentStatus["state"]
  readonly lastOutputAt: number
  readonly lastHeartbeatAt: number
  readonly report: RunReport
}

// How long, at most, the exit is awaited after a kill before the output is read for the last time: node-pty
// reports the exit once the terminal has closed, after every chunk of output, so a natural exit waits for
// nothing here (it waited a fixed 50 ms, the larger part of the time from an agent's end to its gates).
const settleMillis = 50
const scopeClosedReason = "stopped: its owner went away (server shutdown, or the run was cancelled)"

/** Starts the agent; the process belongs to the current Scope (closing it kills the process tree and writes AgentExited "stopped"). */
export const startAgent = (
  spec: AgentRunSpec,
): Effect.Effect<AgentHandle, AgentStartError, Store | Git | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* Store
    const callerScope = yield* Effect.scope
    const { storyId, agent, role } = spec
    const startError = (detail: string) => new AgentStartError({ storyId, agent: agent.name, detail })
    const adapter = adapterFor(agent.runtime)
    const base = spec.env ?? processEnv()
    // Pure, and done before anything is written: a launch that cannot be built leaves no trace.
    const launch = yield* Effect.try({
      try: () =>
        adapter.build({
          agent,
          storyId,
          worktree: spec.worktree,
          mcpUrl: spec.mcpUrl,
          // The server's token, when one is in force, is in the agent's environment (serve puts it there).
          ...(base[tokenEnvVar] === undefined ? {} : { mcpTokenVar: tokenEnvVar }),
          prompt: spec.prompt,
          ...(spec.extraPrompt === undefined ? {} : { extraPrompt: spec.extraPrompt }),
          ...(spec.resumeSessionId === undefined ? {} : { resumeSessionId: spec.resumeSessionId }),
        }),
      catch: (e) => startError(`its launch could not be built: ${describeError(e)}`),
    })
    const node = yield* Effect.try({
      try: () => NodeId.make(store.nodeId),
      catch: (e) => startError(`this node's id is not usable: ${describeError(e)}`),
    })
    const startedAt = yield* Clock.currentTimeMillis
    // The Store decides first: an item that moved on, or already has an agent here, gets no process.
    const by = { by: `agent:${agent.name}` }
    const started = { _tag: "AgentStarted", node, agent: agent.name, role, at: startedAt } as const
    yield* store.apply(storyId, started, by).pipe(
      // Not recorded (PersistError) is a crash, not a refusal: the story's supervisor restarts it from the Store.
      Effect.catchTag("PersistError", (e) => Effect.die(e)),
      Effect.mapError((e) => startError(e.message)),
    )

    const runScope = yield* Scope.fork(callerScope, ExecutionStrategy.sequential)
    const logScope = yield* Scope.fork(runScope, ExecutionStrategy.sequential)
    const ptyScope = yield* Scope.fork(runScope, ExecutionStrategy.sequential)
    const { log, pty } = yield* Effect.gen(function* () {
      // Checked before the launch files are written: writing them would create a missing worktree.
      // The agent's own env table (agents.toml) last: it is the most specific setting.
      const env = {
        ...base,
        ...(yield* identityFallbackEnv(spec.worktree, base)),
        ...launch.env,
        ...agent.env,
      }
      const program = yield* findProgram(launch.command, spec.worktree, env, shippedCli(agent.runtime))
      if (program._tag === "Left") return yield* startError(program.left)
      yield* writeLaunchFiles(launch.files).pipe(Effect.mapError(startError))
      yield* excludeFromGit(spec.worktree, launch.files, spec.env)
      const log = yield* openSessionLog(spec.root, storyId, agent.name).pipe(
        Scope.extend(logScope),
        Effect.mapError((e) => startError(e.message)),
      )
      const pty = yield* spawnPty({
        command: program.right.command,
        args: [...program.right.args, ...launch.args],
        cwd: spec.worktree,
        env,
        graceMillis: spec.graceMillis ?? defaultGraceMillis,
        // On disk before the agent runs, and until the tree is killed: a server that dies by SIGKILL at
        // any moment leaves a record to reap, or nothing running.
        beforeStart: (pid) => recordAgentPid(spec.root, storyId, agent.name, pid),
      }).pipe(
        Scope.extend(ptyScope),
        Effect.mapError((e) => startError(e.message)),
      )
      return { log, pty }
    }).pipe(
      Effect.tapError(() =>
        Effect.gen(function* () {
          const at = yield* Clock.currentTimeMillis
          yield* store
            .apply(storyId, { _tag: "AgentExited", node, outcome: "failed", at }, by)
            .pipe(
              Effect.catchAll((e) => Effect.logWarning(`could not record the failed start: ${e.message}`)),
            )
          yield* Scope.close(runScope, Exit.void)
        }),
      ),
    )

    const heartbeatMillis = spec.heartbeatMillis ?? 30_000
    const state = yield* Ref.make<RunState>({
      phase: "running",
      lastOutputAt: startedAt,
      lastHeartbeatAt: startedAt,
      report: emptyReport,
    })
    const killRequest = yield* Deferred.make<KillRequest>()
    const resultSlot = yield* Deferred.make<AgentRunResult>()
    const finished = yield* Ref.make(false)
    const logBroken = yield* Ref.make(false)
    const clock = yield* Effect.clock
    // Stateful: fed by the pump fiber, then (after the pump is interrupted) by the supervisor. Never both.
    const parser = adapter.makeStreamParser({ now: () => clock.unsafeCurrentTimeMillis() })

    const requestKill = (kill: KillRequest) =>
      Effect.gen(function* () {
        if (!(yield* Deferred.succeed(killRequest, kill))) return
        const wasRunning = yield* Ref.modify(state, (s) =>
          s.phase === "running" ? [true, { ...s, phase: "stopping" as const }] : [false, s],
        )
        if (wasRunning) yield* Effect.logInfo(`stopping agent: ${kill.reason}`)
      })

    const appendLog = (...entries: ReadonlyArray<Readonly<Record<string, unknown>>>) =>
      log
        .appendAll(entries)
        .pipe(
          Effect.catchAll((e) =>
            Effect.flatMap(Ref.getAndSet(logBroken, true), (warned) =>
              warned ? Effect.void : Effect.logWarning(`the session log is not being written: ${e.message}`),
            ),
          ),
        )

    const record = (events: ReadonlyArray<AgentEvent>) =>
      Effect.gen(function* () {
        if (events.length === 0) return
        // A chunk's events are one write to the log and one update of the report.
        yield* appendLog(...events.map((event) => ({ type: "event", event })))
        const report = yield* Ref.modify(state, (s) => {
          const next = reportEvents(s.report, events)
          return [next, { ...s, report: next }]
        })
        const breach = limitBreach(report, agent)
        if (breach !== undefined) yield* requestKill(breach)
      })

    const handleChunk = (chunk: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const beat = yield* Ref.modify(state, (s) => {
          const due = now - s.lastHeartbeatAt >= heartbeatMillis
          return [due, { ...s, lastOutputAt: now, lastHeartbeatAt: due ? now : s.lastHeartbeatAt }]
        })
        yield* record(parser.push(chunk))
        if (beat)
          yield* store
            .apply(storyId, { _tag: "Heartbeat", node, at: now })
            .pipe(Effect.catchAll((e) => Effect.logDebug(`heartbeat not recorded: ${e.message}`)))
      })

    // Closing the PTY's scope SIGTERMs the group, SIGKILLs it after the grace period and sweeps the session
    // and descendants; a second close is a no-op. Uninterruptible so nobody can leave it half done.
    const killTree = Effect.uninterruptible(Scope.close(ptyScope, Exit.void))

    const recordEnd = (result: AgentRunResult) =>
      Effect.gen(function* () {
        const at = result.endedAt
        const event =
          result.outcome === "rateLimited"
            ? {
                _tag: "RateLimitHit" as const,
                node,
                resetAt: Math.max(0, Math.round(result.resetAt ?? at)),
                at,
              }
            : { _tag: "AgentExited" as const, node, outcome: result.outcome, at }
        yield* store.apply(storyId, event, by).pipe(
          Effect.catchTag("ItemNotFound", () => Effect.logDebug("the item was deleted while its agent ran")),
          Effect.catchAll((e) => Effect.logWarning(`could not record the agent's end: ${e.message}`)),
        )
        yield* appendUsageLedger(spec.root, result, agent.runtime)
      })

    // A runtime that reports a session's running total counted the resumed runs again: take them off.
    const ownUsage = (totals: ReturnType<typeof runTotals>) =>
      adapter.usageIncludesResumedRuns !== true || spec.resumeSessionId === undefined
        ? Effect.succeed(totals)
        : readUsage(spec.root).pipe(
            Effect.map((ledger) => ({
              ...totals,
              usage: minusUsage(
                totals.usage,
                usageBeforeResume(ledger.records, storyId, spec.resumeSessionId ?? ""),
              ),
            })),
            Effect.catchAll((e) =>
              Effect.logWarning(`usage of earlier runs unknown, counted again: ${e.message}`).pipe(
                Effect.as(totals),
              ),
            ),
          )

    /** Ends the run exactly once: no process left, the Store and ledger told, the result delivered. */
    const finish = (kill: KillRequest | undefined) =>
      Effect.uninterruptible(
        Effect.gen(function* () {
          if (yield* Ref.getAndSet(finished, true)) return
          yield* killTree
          yield* forgetAgentPid(spec.root, storyId, agent.name)
          // node-pty reports the exit once the terminal is closed, possibly a moment after the kill. This
          // runs uninterruptibly: only `waitAtMost` keeps the bound (a plain timeout would never fire).
          const exit: PtyExit | undefined = Option.getOrUndefined(
            yield* waitAtMost(Deferred.await(pty.exit), "500 millis"),
          )
          const { report } = yield* Ref.get(state)
          const endedAt = yield* Clock.currentTimeMillis
          const ending = kill ?? naturalEnding(report, exit, agent)
          const totals = yield* ownUsage(runTotals(report))
          const result: AgentRunResult = {
            storyId,
            agent: agent.name,
            role,
            outcome: ending.outcome,
            reason: ending.reason,
            exitCode: exitCodeOf(exit),
            ...(report.sessionId === undefined ? {} : { sessionId: report.sessionId }),
            ...(report.model === undefined ? {} : { model: report.model }),
            numTurns: totals.numTurns,
            usage: totals.usage,
            ...(report.costUsd === undefined ? {} : { costUsd: report.costUsd }),
            ...("resetAt" in ending && ending.resetAt !== undefined ? { resetAt: ending.resetAt } : {}),
            ...("setupProblem" in ending && ending.setupProblem === true ? { setupProblem: true } : {}),
            logPath: log.path,
            session: log.session,
            startedAt,
            endedAt,
          }
          yield* Effect.logInfo(`agent ended (${result.outcome}): ${result.reason}`)
          yield* recordEnd(result)
          yield* appendLog({
            type: "exit",
            outcome: result.outcome,
            reason: result.reason,
            exitCode: result.exitCode,
          })
          yield* Scope.close(logScope, Exit.void)
          yield* Ref.update(state, (s) => ({ ...s, phase: "exited" as const }))
          yield* Deferred.succeed(resultSlot, result)
        }),
      )

    // Finalizers run in reverse order: when the scope closes mid-run, the fibers forked below are
    // interrupted first, then this kills the tree and records the end of the run that was cut short.
    yield* Scope.addFinalizer(
      runScope,
      Effect.gen(function* () {
        // A kill already asked for names the end; a process that had already exited by itself ends as it
        // would have (its last output may be missed); anything else is stopped by this close.
        if (yield* Deferred.isDone(killRequest)) return yield* finish(yield* Deferred.await(killRequest))
        if (yield* Deferred.isDone(pty.exit)) return yield* finish(undefined)
        yield* finish({ outcome: "stopped", reason: scopeClosedReason })
      }),
    )

    // Chunks that queued up meanwhile are read as one: the parser splits lines across chunks anyway.
    const pump = Effect.forever(
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(restore(Queue.take(pty.output)), (first) =>
          Effect.flatMap(Queue.takeAll(pty.output), (rest) => handleChunk([first, ...rest].join(""))),
        ),
      ),
    )

    const inactivityMillis = agent.inactivityTimeoutSecs * 1000
    const watchdog = Effect.gen(function* () {
      for (;;) {
        const now = yield* Clock.currentTimeMillis
        const idle = now - (yield* Ref.get(state)).lastOutputAt
        if (idle >= inactivityMillis) return yield* requestKill(inactivityKill(agent))
        yield* Effect.sleep(inactivityMillis - idle)
      }
    })

    const pumpFiber = yield* Effect.forkIn(Effect.interruptible(pump), runScope)
    const watchdogFiber = yield* Effect.forkIn(Effect.interruptible(watchdog), runScope)

    const supervise = Effect.gen(function* () {
      const kill = yield* Effect.raceFirst(
        Deferred.await(pty.exit).pipe(Effect.as(Option.none<KillRequest>())),
        Deferred.await(killRequest).pipe(Effect.map(Option.some)),
      )
      // Also after a natural exit: children left in the background die with their agent.
      yield* killTree
      yield* Fiber.interrupt(watchdogFiber)
      yield* waitAtMost(Deferred.await(pty.exit), settleMillis)
      yield* Fiber.interrupt(pumpFiber)
      const rest = yield* Queue.takeAll(pty.output)
      if (rest.length > 0) yield* handleChunk([...rest].join(""))
      yield* record(parser.end())
      yield* finish(Option.getOrUndefined(kill))
    }).pipe(
      Effect.catchAllDefect((defect) =>
        Effect.logError("supervising the agent failed", defect).pipe(
          Effect.zipRight(
            finish({
              outcome: "failed",
              reason: `huskies failed while supervising the agent: ${describeError(defect)}`,
            }),
          ),
        ),
      ),
    )
    yield* Effect.forkIn(Effect.interruptible(supervise), runScope)

    const fixed = { storyId, agent: agent.name, role, runtime: agent.runtime, pid: pty.pid, startedAt }
    const status = Ref.get(state).pipe(
      Effect.map((s) => statusOf({ ...fixed, session: log.session, logPath: log.path }, s)),
    )

    const run: AgentRun = {
      storyId,
      agent: agent.name,
      role,
      status,
      output: (lines) => Ref.get(state).pipe(Effect.map(({ report }) => lastLines(report.tail.lines, lines))),
      // Typed only while it runs: a terminal that closed takes no input.
      write: (text) =>
        Effect.flatMap(Ref.get(state), (s) => (s.phase === "running" ? pty.write(text) : Effect.void)),
      requestStop: (reason) => requestKill({ outcome: "stopped", reason: `stopped: ${reason}` }),
      result: Deferred.await(resultSlot),
    }
    return handleOf(yield* Actor.spawnIn(agentActor(run), runScope, { key: `${storyId}/${agent.name}` }), run)
  }).pipe(
    // A half-done start would leave a Running state or a process nobody owns: it runs to its end.
    Effect.uninterruptible,
    withComponent("AgentActor"),
    Effect.annotateLogs({ storyId: spec.storyId, agent: spec.agent.name }),
  )
