// src/actors/agentContract.ts — what running one agent looks like from outside: the spec StoryActor gives,
// the handle tools read (status, live output, stop) and the result a run ends with. AgentActor implements it.
import { type Effect, Schema } from "effect"
import type { AgentConfig, AgentRuntime } from "../domain/Config.js"
import type { AgentRole } from "../domain/Stage.js"
import type { TokenUsage } from "../layers/runtimes/agentEvents.js"
import type { AgentOutcome } from "./agentOutput.js"
import type { StoryId } from "../domain/StoryId.js"

/**
 * How long a stopped agent gets between SIGTERM and SIGKILL when the spec names no other (docs/agents.md):
 * every stop, and every server shutdown, ends within this plus about a second, whatever the agent does.
 */
export const defaultGraceMillis = 3_000

export interface AgentRunSpec {
  readonly storyId: StoryId
  readonly agent: AgentConfig
  readonly role: AgentRole
  /** Project root; session logs go to <root>/.huskies/logs/<id>/<agent>-<n>.jsonl. */
  readonly root: string
  /** Absolute; the process cwd. */
  readonly worktree: string
  readonly mcpUrl: string
  /** Already rendered. */
  readonly prompt: string
  /** E.g. the failed gates' output. */
  readonly extraPrompt?: string
  readonly resumeSessionId?: string
  /** Base environment of the process (default: process.env as strings). LaunchSpec.env goes on top. */
  readonly env?: Readonly<Record<string, string>>
  /** How often at most a Heartbeat is written while output flows (default 30_000 ms). */
  readonly heartbeatMillis?: number
  /** SIGTERM -> SIGKILL grace (default `defaultGraceMillis`). */
  readonly graceMillis?: number
}

export interface AgentRunResult {
  readonly storyId: StoryId
  readonly agent: string
  readonly role: AgentRole
  readonly outcome: AgentOutcome
  /** One human sentence, used in the next coder's prompt and in errors. */
  readonly reason: string
  readonly exitCode: number | null
  readonly sessionId?: string
  readonly model?: string
  readonly numTurns: number
  /** Totals: the Result's when the CLI printed one, else the summed Usage events. */
  readonly usage: TokenUsage
  readonly costUsd?: number
  /** The CLI cannot work on this machine (not logged in, a bad API key): retried later, no attempt used. */
  readonly setupProblem?: boolean
  /** Ms since the epoch, present when outcome is "rateLimited". */
  readonly resetAt?: number
  readonly logPath: string
  readonly session: number
  readonly startedAt: number
  readonly endedAt: number
}

export interface AgentStatus {
  readonly storyId: StoryId
  readonly agent: string
  readonly role: AgentRole
  readonly runtime: AgentRuntime
  readonly pid: number
  readonly session: number
  readonly logPath: string
  readonly startedAt: number
  readonly lastOutputAt: number
  readonly numTurns: number
  readonly usage: TokenUsage
  readonly costUsd?: number
  readonly sessionId?: string
  readonly model?: string
  readonly state: "running" | "stopping" | "exited"
}

export interface AgentHandle {
  readonly storyId: StoryId
  readonly agent: string
  readonly role: AgentRole
  readonly status: Effect.Effect<AgentStatus>
  /** The live tail: the last `lines` (default 100, cap at the buffer) readable lines of output. */
  readonly output: (lines?: number) => Effect.Effect<ReadonlyArray<string>>
  /** Types `text` into the agent's terminal (nothing once it has exited). */
  readonly input: (text: string) => Effect.Effect<void>
  /** Kills the process group and waits until it is gone; resolves with the result (outcome "stopped" unless it had already ended). */
  readonly stop: (reason: string) => Effect.Effect<AgentRunResult>
  /** Waits for the run to end. */
  readonly result: Effect.Effect<AgentRunResult>
}

export class AgentStartError extends Schema.TaggedError<AgentStartError>()("AgentStartError", {
  storyId: Schema.String,
  agent: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `could not start agent ${this.agent} on ${this.storyId}: ${this.detail}. Nothing was left running for it; fix that and start the agent again`
  }
}

/** Why start_agent (or a timer) could not start work on an item. */
export class StartRefused extends Schema.TaggedError<StartRefused>()("StartRefused", {
  storyId: Schema.String,
  why: Schema.String,
}) {
  override get message(): string {
    return `cannot start ${this.storyId}: ${this.why}`
  }
}
