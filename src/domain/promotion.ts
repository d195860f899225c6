// src/domain/promotion.ts — what auto mode starts next: items already in Coding or QA that nobody here
// works on (resumed first), then Backlog items whose dependencies are met, in number order, only as
// many as there are free agents. Pure; the Scheduler runs the plan.
import { Either } from "effect"
import { type AgentRequest, assignAgent, type BusyAgent } from "./assign.js"
import type { AgentConfig, Concurrency } from "./Config.js"
import { allMet, compareStoryIds, dependencyStatus } from "./dependencies.js"
import type { QaMode, Stage } from "./Stage.js"
import { parseStoryDoc, type StoryDoc } from "./StoryDoc.js"
import type { StoryId } from "./StoryId.js"
import type { Timer } from "./Timer.js"
import type { WorkItem } from "./WorkItem.js"

export interface PromotionInput {
  readonly items: ReadonlyArray<WorkItem>
  /** Markdown of the Backlog, Coding and QA items (front matter: agent, depends_on, qa). */
  readonly contents: ReadonlyMap<string, string>
  readonly timers: ReadonlyArray<Timer>
  /** Items that already have an actor on this node. */
  readonly running: ReadonlySet<string>
  readonly node: string
  readonly agents: ReadonlyArray<AgentConfig>
  readonly concurrency: Concurrency
  readonly defaultQa: QaMode
  readonly busy: ReadonlyArray<BusyAgent>
  /** Requests already queued for an agent: they go before anything new. */
  readonly waiting: ReadonlyArray<AgentRequest>
  /** Reads a document's front matter (default: frontMatterOf); a caller may remember earlier reads. */
  readonly frontMatterOf?: FrontMatterOf
}

export interface PromotionPlan {
  /** Coding/QA items to pick up again (after a restart, a QA rejection by a person, a finished run). */
  readonly resume: ReadonlyArray<StoryId>
  /** Backlog items to Start now. */
  readonly start: ReadonlyArray<StoryId>
}

export type FrontMatterOf = (markdown: string | undefined) => StoryDoc["frontMatter"] | undefined

/** The front matter of a document, or undefined when there is none or it does not parse. */
export const defaultFrontMatterOf: FrontMatterOf = (markdown) =>
  markdown === undefined
    ? undefined
    : Either.getOrUndefined(Either.map(parseStoryDoc(markdown), (doc) => doc.frontMatter))

export const planPromotions = (input: PromotionInput): PromotionPlan => {
  const frontMatterOf = input.frontMatterOf ?? defaultFrontMatterOf
  const resume: Array<StoryId> = []
  for (const item of input.items) {
    if (item.stage._tag !== "Coding" && item.stage._tag !== "Qa") continue
    if (input.running.has(item.id)) continue
    const exec = item.execution[input.node]
    // Waiting for a rate limit's timer, stopped by a person, or (Running) being cleaned up at startup.
    if (exec?._tag === "RateLimited" || exec?._tag === "Running") continue
    if (exec?._tag === "Completed" && exec.outcome === "stopped") continue
    // Its retry timer starts it (an agent that could not be started, a rate limit): not before.
    if (input.timers.some((t) => t.storyId === item.id && t.kind === "retry")) continue
    if (item.stage._tag === "Qa") {
      const qa = frontMatterOf(input.contents.get(item.id))?.qa ?? input.defaultQa
      if (qa !== "agent") continue
    }
    resume.push(item.id)
  }

  // Simulate the grants the queue and the resumed items will take, so a free slot is counted once.
  const busy: Array<BusyAgent> = [...input.busy]
  const claim = (request: AgentRequest): boolean => {
    const decision = assignAgent(input.agents, input.concurrency, busy, request)
    if (decision._tag !== "Assigned") return false
    busy.push({ agent: decision.agent.name, role: request.role, storyId: request.storyId })
    return true
  }
  for (const request of input.waiting) claim(request)
  const byId = new Map(input.items.map((i) => [i.id, i]))
  for (const id of resume) {
    const item = byId.get(id)
    const pinned = frontMatterOf(input.contents.get(id))?.agent
    claim({
      storyId: id,
      role: item?.stage._tag === "Qa" ? "qa" : "coder",
      ...(pinned === undefined ? {} : { pinned }),
    })
  }

  const stages = new Map<StoryId, Stage>(input.items.map((i) => [i.id, i.stage]))
  const scheduled = new Set(input.timers.filter((t) => t.kind === "start").map((t) => t.storyId as string))
  const start: Array<StoryId> = []
  const backlog = input.items
    .filter((i) => i.stage._tag === "Backlog" && !scheduled.has(i.id))
    .sort((a, b) => compareStoryIds(a.id, b.id))
  for (const item of backlog) {
    const fm = frontMatterOf(input.contents.get(item.id))
    // An item whose document cannot be read is left for a person: its dependencies are unknown.
    if (fm === undefined) continue
    if (!allMet(dependencyStatus(fm.dependsOn, stages))) continue
    if (!claim({ storyId: item.id, role: "coder", ...(fm.agent === undefined ? {} : { pinned: fm.agent }) }))
      continue
    start.push(item.id)
  }
  return { resume, start }
}
