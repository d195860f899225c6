// src/domain/assign.ts — which configured agent may take a piece of work now: pure, so the scheduler's
// slot pool (actors/AgentSlots) and its tests share one rule. Pinning, per-stage and global limits.
import { type AgentConfig, type Concurrency, maxForStage } from "./Config.js"
import type { AgentRole } from "./Stage.js"

export interface AgentRequest {
  readonly storyId: string
  readonly role: AgentRole
  /** The item's front matter `agent`: only that agent may take it (for its own role). */
  readonly pinned?: string
  /** Taken when free (the agent that worked on the item before, so it can resume its session). */
  readonly prefer?: string
}

export interface BusyAgent {
  readonly agent: string
  readonly role: AgentRole
  readonly storyId: string
}

export type Assignment =
  | { readonly _tag: "Assigned"; readonly agent: AgentConfig }
  /** Possible later, when an agent or a concurrency slot frees up. */
  | { readonly _tag: "Wait"; readonly why: string }
  /** Never possible with this configuration. */
  | { readonly _tag: "Impossible"; readonly why: string }

/** The agent `request` gets now, given what is busy; never one that is busy, never past a limit. */
export const assignAgent = (
  agents: ReadonlyArray<AgentConfig>,
  concurrency: Concurrency,
  busy: ReadonlyArray<BusyAgent>,
  request: AgentRequest,
): Assignment => {
  const pinned = request.pinned === undefined ? undefined : agents.find((a) => a.name === request.pinned)
  // A pin names an agent for its own stage; for the other stages of the item any agent will do.
  const pinApplies = pinned !== undefined && pinned.stage === request.role
  if (request.pinned !== undefined && pinned === undefined) {
    return {
      _tag: "Impossible",
      why: `the item is pinned to agent "${request.pinned}", which .huskies/agents.toml does not define (agents: ${agents.map((a) => a.name).join(", ")}): fix the item's agent field`,
    }
  }
  const candidates = pinApplies ? [pinned] : agents.filter((a) => a.stage === request.role)
  if (candidates.length === 0) {
    return {
      _tag: "Impossible",
      why: `no agent in .huskies/agents.toml has stage = "${request.role}": add one`,
    }
  }
  if (busy.some((b) => b.storyId === request.storyId)) {
    return { _tag: "Wait", why: `an agent already works on ${request.storyId}` }
  }
  const limit = maxForStage(concurrency, request.role)
  const sameRole = busy.filter((b) => b.role === request.role).length
  if (busy.length >= concurrency.maxAgents) {
    return { _tag: "Wait", why: `${busy.length} agents run, the most [concurrency] max_agents allows` }
  }
  if (sameRole >= limit) {
    return { _tag: "Wait", why: `${sameRole} ${request.role} agents run, the most [concurrency] allows` }
  }
  const taken = new Set(busy.map((b) => b.agent))
  const free = candidates.filter((a) => !taken.has(a.name))
  const chosen = free.find((a) => a.name === request.prefer) ?? free[0]
  if (chosen === undefined) {
    return {
      _tag: "Wait",
      why: pinApplies
        ? `pinned agent ${request.pinned} is busy`
        : `every ${request.role} agent is busy (${candidates.map((a) => a.name).join(", ")})`,
    }
  }
  return { _tag: "Assigned", agent: chosen }
}
