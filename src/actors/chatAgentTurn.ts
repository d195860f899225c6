// src/actors/chatAgentTurn.ts — one turn of the chat assistant: the chat agent's CLI run once in the project
// root (in a PTY, its process tree killed when the turn ends), resuming the conversation's session, with
// huskies' MCP tools; its output parsed into the answer, the session id and the usage, which goes in the
// usage ledger under the pseudo item "chat". Run by the conversations of src/actors/chatAgents.ts.
import {
  Clock,
  Deferred,
  Effect,
  ExecutionStrategy,
  Exit,
  Fiber,
  Option,
  Queue,
  Ref,
  Schema,
  Scope,
} from "effect"
import { relative, join, isAbsolute } from "node:path"
import type { AgentConfig } from "../domain/Config.js"
import { withComponent } from "../layers/Logs.js"
import { spawnPty } from "../layers/Pty.js"
import { adapterFor } from "../layers/runtimes/adapters.js"
import type { TokenUsage } from "../layers/runtimes/agentEvents.js"
import type { LaunchSpec } from "../layers/runtimes/Runtime.js"
import { tokenEnvVar } from "../layers/runtimes/Runtime.js"
import { shippedCli } from "../layers/runtimes/shippedCli.js"
import { privateWrite } from "../layers/privateFiles.js"
import { ensurePrivateDirAsync } from "../layers/recordFiles.js"
import { readUsage, usageBeforeResume } from "../layers/Usage.js"
import { waitAtMost } from "../layers/waitAtMost.js"
import { appendUsageLedger, describeError, findProgram, writeLaunchFiles } from "./agentFiles.js"
import {
  type AgentOutcome,
  emptyReport,
  inactivityKill,
  type KillRequest,
  limitBreach,
  minusUsage,
  naturalEnding,
  reportEvent,
  type RunReport,
  runTotals,
} from "./agentOutput.js"
import { existsSync, readFileSync } from "node:fs"
import { appendFile } from "node:fs/promises"

/** The pseudo item chat turns are logged and costed under (`.huskies/logs/chat/`, the ledger's storyId). */
export const chatScope = "chat"

export class ChatTurnError extends Schema.TaggedError<ChatTurnError>()("ChatTurnError", {
  agent: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `the chat agent ${this.agent} could not start: ${this.detail}`
  }
}

export interface ChatTurnSpec {
  readonly root: string
  /** An [[agent]] with stage = "chat". */
  readonly agent: AgentConfig
  readonly mcpUrl: string
  /** The base environment (the server's, with the agents' token); the launch's and the agent's go on top. */
  readonly env: Readonly<Record<string, string>>
  /** Stable per conversation: `HUSKIES_CONVERSATION_ID`, and the folder of its launch files. */
  readonly conversationId: string
  /** The conversation's history (JSON lines), for runtimes that keep none: `HUSKIES_CHAT_HISTORY`. */
  readonly historyPath: string
  /** The preamble of a new conversation (the agent's prompt); empty on a resumed one. */
  readonly prompt: string
  /** The people's messages of this turn. */
  readonly message: string
  readonly resumeSessionId?: string
  readonly graceMillis?: number
}

export interface ChatTurnResult {
  readonly outcome: AgentOutcome
  readonly reason: string
  /** What the agent answered: its final result's text, else everything it wrote. */
  readonly answer: string
  readonly sessionId?: string
  readonly costUsd?: number
  readonly usage: TokenUsage
  readonly numTurns: number
}

/** Where a conversation's launch files go, so nothing is written over the project's own `.mcp.json`. */
export const launchDir = (root: string, conversationId: string) =>
  join(root, ".huskies", "chat", conversationId)

/**
 * The launch with its files moved out of the project root into the conversation's folder, wherever the
 * command line or environment names them (Claude Code's `--mcp-config`, the command runtime's prompt
 * file). A file nothing names is read by the CLI from its working directory (Gemini's
 * `.gemini/settings.json`): it stays, but never replaces a different file the project has there.
 */
export const relocateLaunch = (
  launch: LaunchSpec,
  root: string,
  dir: string,
): { readonly launch: LaunchSpec; readonly clash?: string } => {
  let args = [...launch.args]
  let env = { ...launch.env }
  let clash: string | undefined
  const files = launch.files.map((file) => {
    const inside = relative(root, file.path)
    if (inside.startsWith("..") || isAbsolute(inside)) return file
    const named =
      args.some((a) => a.includes(file.path)) || Object.values(env).some((v) => v.includes(file.path))
    if (!named) {
      if (existsSync(file.path) && readFileSync(file.path, "utf8") !== file.content) clash = file.path
      return file
    }
    const moved = join(dir, inside)
    args = args.map((a) => a.split(file.path).join(moved))
    env = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.split(file.path).join(moved)]))
    return { ...file, path: moved }
  })
  return { launch: { ...launch, args, env, files }, ...(clash === undefined ? {} : { clash }) }
}

const settleMillis = 50

/** Runs one turn to its end; fails only when the agent cannot start (the answer says why otherwise). */
export const runChatTurn = (spec: ChatTurnSpec): Effect.Effect<ChatTurnResult, ChatTurnError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const { agent, root } = spec
      const fail = (detail: string) => new ChatTurnError({ agent: agent.name, detail })
      const adapter = adapterFor(agent.runtime)
      const built = yield* Effect.try({
        try: () =>
          adapter.build({
            agent,
            storyId: chatScope,
            worktree: root,
            mcpUrl: spec.mcpUrl,
            ...(spec.env[tokenEnvVar] === undefined ? {} : { mcpTokenVar: tokenEnvVar }),
            prompt: spec.prompt,
            extraPrompt: spec.message,
            ...(spec.resumeSessionId === undefined ? {} : { resumeSessionId: spec.resumeSessionId }),
          }),
        catch: (e) => fail(`its launch could not be built: ${describeError(e)}`),
      })
      const { launch, clash } = yield* Effect.try({
        try: () => relocateLaunch(built, root, launchDir(root, spec.conversationId)),
        catch: (e) => fail(describeError(e)),
      })
      if (clash !== undefined)
        return yield* fail(
          `it would overwrite the project's ${clash}; move that file, or use another runtime`,
        )
      const env = {
        ...spec.env,
        ...launch.env,
        ...agent.env,
        HUSKIES_CONVERSATION_ID: spec.conversationId,
        HUSKIES_CHAT_HISTORY: spec.historyPath,
      }
      const program = yield* findProgram(launch.command, root, env, shippedCli(agent.runtime))
      if (program._tag === "Left") return yield* fail(program.left)
      yield* Effect.tryPromise({
        try: () => ensurePrivateDirAsync(launchDir(root, spec.conversationId)),
        catch: (e) => fail(`its folder could not be made: ${describeError(e)}`),
      })
      yield* writeLaunchFiles(launch.files).pipe(Effect.mapError(fail))
      // The turn's events, one JSON line each, in the conversation's folder beside its history.
      const logPath = join(launchDir(root, spec.conversationId), "turns.jsonl")
      // Its own scope, so the tree is killed as soon as the process ends (children left behind die with it);
      // the turn's scope closes it too when the turn is interrupted (the server stops).
      const ptyScope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
      const pty = yield* spawnPty({
        command: program.right.command,
        args: [...program.right.args, ...launch.args],
        cwd: root,
        env,
        graceMillis: spec.graceMillis ?? 3_000,
      }).pipe(
        Scope.extend(ptyScope),
        Effect.mapError((e) => fail(e.message)),
      )

      const startedAt = yield* Clock.currentTimeMillis
      const clock = yield* Effect.clock
      const parser = adapter.makeStreamParser({ now: () => clock.unsafeCurrentTimeMillis() })
      const state = yield* Ref.make({
        report: emptyReport as RunReport,
        texts: [] as Array<string>,
        lastOutputAt: startedAt,
      })
      const kill = yield* Deferred.make<KillRequest>()
      const appendLog = (entry: Readonly<Record<string, unknown>>) =>
        // A turn whose log cannot be written still answers: the log is for reading later.
        Effect.tryPromise(() => appendFile(logPath, `${JSON.stringify(entry)}\n`, privateWrite)).pipe(
          Effect.catchAll((e) => Effect.logDebug(`chat turn log: ${String(e.error)}`)),
        )

      const handle = (chunk: string) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const events = parser.push(chunk)
          for (const event of events) yield* appendLog({ type: "event", event })
          const next = yield* Ref.updateAndGet(state, (s) => ({
            report: events.reduce(reportEvent, s.report),
            texts: s.texts.concat(events.flatMap((e) => (e._tag === "Text" ? [e.text] : []))),
            lastOutputAt: now,
          }))
          const breach = limitBreach(next.report, agent)
          if (breach !== undefined) yield* Deferred.succeed(kill, breach)
        })
      const pump = Effect.forever(Effect.flatMap(Queue.take(pty.output), handle))
      const inactivityMillis = agent.inactivityTimeoutSecs * 1000
      const watchdog = Effect.gen(function* () {
        for (;;) {
          const idle = (yield* Clock.currentTimeMillis) - (yield* Ref.get(state)).lastOutputAt
          if (idle >= inactivityMillis) return yield* Deferred.succeed(kill, inactivityKill(agent))
          yield* Effect.sleep(inactivityMillis - idle)
        }
      })
      const pumpFiber = yield* Effect.fork(pump)
      const watchdogFiber = yield* Effect.fork(watchdog)
      const killed = yield* Effect.raceFirst(
        Deferred.await(pty.exit).pipe(Effect.as(Option.none<KillRequest>())),
        Deferred.await(kill).pipe(Effect.map(Option.some)),
      )
      yield* Scope.close(ptyScope, Exit.void)
      yield* Fiber.interrupt(watchdogFiber)
      // The exit comes after the last output (see AgentActor's settleMillis): nothing to wait for once it has.
      yield* waitAtMost(Deferred.await(pty.exit), settleMillis)
      yield* Fiber.interrupt(pumpFiber)
      for (const chunk of yield* Queue.takeAll(pty.output)) yield* handle(chunk)
      const tail = parser.end()
      for (const event of tail) yield* appendLog({ type: "event", event })
      const { report, texts } = yield* Ref.updateAndGet(state, (s) => ({
        ...s,
        report: tail.reduce(reportEvent, s.report),
        texts: s.texts.concat(tail.flatMap((e) => (e._tag === "Text" ? [e.text] : []))),
      }))
      const exit = Option.getOrUndefined(yield* waitAtMost(Deferred.await(pty.exit), "500 millis"))
      const ending = Option.getOrElse(killed, () => naturalEnding(report, exit, agent))
      const totals = yield* ownUsage(spec, report, adapter.usageIncludesResumedRuns === true)
      const endedAt = yield* Clock.currentTimeMillis
      const resultText = report.result?.isError === false ? (report.result.text ?? "").trim() : ""
      const result: ChatTurnResult = {
        outcome: ending.outcome,
        reason: ending.reason,
        answer: resultText !== "" ? resultText : texts.join("\n").trim(),
        ...(report.sessionId === undefined ? {} : { sessionId: report.sessionId }),
        ...(report.costUsd === undefined ? {} : { costUsd: report.costUsd }),
        usage: totals.usage,
        numTurns: totals.numTurns,
      }
      yield* appendLog({ type: "exit", outcome: result.outcome, reason: result.reason })
      const model = report.model ?? agent.model
      yield* appendUsageLedger(
        root,
        {
          storyId: chatScope,
          agent: agent.name,
          role: "chat",
          ...(model === undefined ? {} : { model }),
          session: 0,
          outcome: result.outcome,
          numTurns: result.numTurns,
          usage: result.usage,
          ...(result.costUsd === undefined ? {} : { costUsd: result.costUsd }),
          ...(result.sessionId === undefined ? {} : { sessionId: result.sessionId }),
          endedAt,
        },
        agent.runtime,
      )
      return result
    }),
  ).pipe(withComponent("chat-agent"), Effect.annotateLogs({ agent: spec.agent.name }))

// A runtime that reports a session's running total (Codex) counted the resumed turns again: take them off.
const ownUsage = (spec: ChatTurnSpec, report: RunReport, includesResumed: boolean) => {
  const totals = runTotals(report)
  const session = spec.resumeSessionId
  if (!includesResumed || session === undefined) return Effect.succeed(totals)
  return readUsage(spec.root).pipe(
    Effect.map((ledger) => ({
      ...totals,
      usage: minusUsage(totals.usage, usageBeforeResume(ledger.records, chatScope, session)),
    })),
    Effect.catchAll((e) =>
      Effect.logWarning(`usage of earlier turns unknown, counted again: ${e.message}`).pipe(
        Effect.as(totals),
      ),
    ),
  )
}
