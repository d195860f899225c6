// test/domain/assign.test.ts — who gets an agent: pins, per-stage and global limits, never a busy agent
// or a second agent on one item (property-tested), and what auto mode starts next.
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { AgentName } from "../../src/domain/AgentName.js"
import { assignAgent, type BusyAgent } from "../../src/domain/assign.js"
import { type AgentConfig, type Concurrency, defaultProjectConfig } from "../../src/domain/Config.js"
import { defaultFrontMatterOf, type FrontMatterOf, planPromotions } from "../../src/domain/promotion.js"
import type { AgentRole } from "../../src/domain/Stage.js"
import type { StoryId } from "../../src/domain/StoryId.js"
import { newWorkItem, type WorkItem } from "../../src/domain/WorkItem.js"

const agent = (name: string, stage: AgentRole): AgentConfig => ({
  name: AgentName.make(name),
  stage,
  runtime: "command",
  command: ["true"],
  prompt: "work on {{story_id}}",
  inactivityTimeoutSecs: 60,
})

const team = [agent("coder-1", "coder"), agent("coder-2", "coder"), agent("qa-1", "qa")]
const limits: Concurrency = { maxAgents: 4, maxCoders: 2, maxQa: 1, maxMergemasters: 1 }

describe("assignAgent", () => {
  it("gives a free agent of the role, the preferred one first", () => {
    expect(assignAgent(team, limits, [], { storyId: "1_story_a", role: "coder" })).toMatchObject({
      _tag: "Assigned",
      agent: { name: "coder-1" },
    })
    const preferred = assignAgent(team, limits, [], {
      storyId: "1_story_a",
      role: "coder",
      prefer: "coder-2",
    })
    expect(preferred).toMatchObject({ agent: { name: "coder-2" } })
  })

  it("a pin waits for its agent, and an unknown pin or a missing role is impossible, with the fix", () => {
    const busy: ReadonlyArray<BusyAgent> = [{ agent: "coder-2", role: "coder", storyId: "2_story_b" }]
    expect(
      assignAgent(team, limits, busy, { storyId: "1_story_a", role: "coder", pinned: "coder-2" }),
    ).toEqual({
      _tag: "Wait",
      why: "pinned agent coder-2 is busy",
    })
    // A pin to a coder says nothing about who does the QA.
    expect(
      assignAgent(team, limits, [], { storyId: "1_story_a", role: "qa", pinned: "coder-2" }),
    ).toMatchObject({
      _tag: "Assigned",
      agent: { name: "qa-1" },
    })
    const unknown = assignAgent(team, limits, [], { storyId: "1_story_a", role: "coder", pinned: "coder-9" })
    expect(unknown).toMatchObject({ _tag: "Impossible" })
    expect(unknown._tag === "Impossible" && unknown.why).toContain("fix the item's agent field")
    const noMerge = assignAgent(team, limits, [], { storyId: "1_story_a", role: "mergemaster" })
    expect(noMerge).toMatchObject({
      _tag: "Impossible",
      why: 'no agent in .huskies/agents.toml has stage = "mergemaster": add one',
    })
  })

  it("property: granting requests one by one never breaks a limit, reuses an agent or doubles up an item", () => {
    const role = fc.constantFrom<AgentRole>("coder", "qa", "mergemaster")
    const teamArb = fc
      .uniqueArray(fc.tuple(fc.integer({ min: 0, max: 5 }), role), { selector: ([n]) => n, maxLength: 6 })
      .map((entries) => entries.map(([n, r]) => agent(`a${n}`, r)))
    const limitsArb = fc.record({
      maxAgents: fc.integer({ min: 1, max: 5 }),
      maxCoders: fc.integer({ min: 1, max: 5 }),
      maxQa: fc.integer({ min: 1, max: 5 }),
      maxMergemasters: fc.integer({ min: 1, max: 5 }),
    })
    const requests = fc.array(
      fc.record({
        story: fc.integer({ min: 1, max: 6 }),
        role,
        pin: fc.option(fc.integer({ min: 0, max: 6 })),
      }),
      { maxLength: 20 },
    )
    fc.assert(
      fc.property(teamArb, limitsArb, requests, (agents, concurrency, asks) => {
        const busy: Array<BusyAgent> = []
        for (const ask of asks) {
          const decision = assignAgent(agents, concurrency, busy, {
            storyId: `${ask.story}_story_x`,
            role: ask.role,
            ...(ask.pin === null ? {} : { pinned: `a${ask.pin}` }),
          })
          if (decision._tag !== "Assigned") continue
          expect(decision.agent.stage).toBe(ask.role)
          busy.push({ agent: decision.agent.name, role: ask.role, storyId: `${ask.story}_story_x` })
        }
        expect(new Set(busy.map((b) => b.agent)).size).toBe(busy.length)
        expect(new Set(busy.map((b) => b.storyId)).size).toBe(busy.length)
        expect(busy.length).toBeLessThanOrEqual(concurrency.maxAgents)
        expect(busy.filter((b) => b.role === "coder").length).toBeLessThanOrEqual(concurrency.maxCoders)
        expect(busy.filter((b) => b.role === "qa").length).toBeLessThanOrEqual(concurrency.maxQa)
      }),
    )
  })
})

const item = (n: number, stage: WorkItem["stage"] = { _tag: "Backlog" }): WorkItem => ({
  ...newWorkItem(`${n}_story_s${n}` as StoryId, "story", 0),
  stage,
})
const doc = (extra = "") => `---\nname: s\n${extra}---\n`

describe("planPromotions", () => {
  const base = {
    timers: [],
    running: new Set<string>(),
    node: "node-1",
    agents: team,
    concurrency: limits,
    defaultQa: defaultProjectConfig.defaultQa,
    busy: [],
    waiting: [],
  }

  it("starts Backlog items in number order, only as many as there are free coders", () => {
    const items = [item(3), item(1), item(2)]
    const plan = planPromotions({ ...base, items, contents: new Map(items.map((i) => [i.id, doc()])) })
    expect(plan).toEqual({ resume: [], start: ["1_story_s1", "2_story_s2"] })
  })

  it("reads front matter through the reader it is given, once a document (auto-assign remembers them)", () => {
    const items = [item(1), item(2, { _tag: "Coding" }), item(3), item(4, { _tag: "Qa" })]
    const contents = new Map([
      ["1_story_s1", doc()],
      ["2_story_s2", doc("agent: coder-1\n")],
      ["3_story_s3", doc("depends_on: [1_story_s1]\n")],
      ["4_story_s4", doc("qa: agent\n")],
    ])
    const read: Array<string | undefined> = []
    const frontMatterOf: FrontMatterOf = (markdown) => {
      read.push(markdown)
      return defaultFrontMatterOf(markdown)
    }
    expect(planPromotions({ ...base, items, contents, frontMatterOf })).toEqual(
      planPromotions({ ...base, items, contents }),
    )
    expect(new Set(read)).toEqual(new Set(contents.values()))
  })

  it("leaves items with unmet dependencies, a scheduled start or an unreadable document in Backlog", () => {
    const items = [item(1, { _tag: "Coding" }), item(2), item(3), item(4)]
    const contents = new Map([
      ["1_story_s1", doc()],
      ["2_story_s2", doc("depends_on: [1_story_s1]\n")],
      ["3_story_s3", doc()],
      ["4_story_s4", "not front matter"],
    ])
    const timers = [
      {
        id: "3_story_s3:start",
        storyId: "3_story_s3" as StoryId,
        kind: "start" as const,
        stage: "Backlog" as const,
        at: 9,
        createdAt: 0,
        note: "",
      },
    ]
    expect(planPromotions({ ...base, items, contents, timers })).toEqual({
      resume: ["1_story_s1"],
      start: [],
    })
  })

  it("resumes Coding and QA items nobody works on, but not stopped, rate-limited or human-QA ones", () => {
    const stopped = {
      ...item(1, { _tag: "Coding" }),
      execution: { "node-1": { _tag: "Completed", outcome: "stopped" } as const },
    }
    const limited = {
      ...item(2, { _tag: "Coding" }),
      execution: { "node-1": { _tag: "RateLimited", resetAt: 5 } as const },
    }
    const human = item(3, { _tag: "Qa" })
    const agentQa = item(4, { _tag: "Qa" })
    const running = item(5, { _tag: "Coding" })
    const contents = new Map([
      [human.id, doc("qa: human\n")],
      [agentQa.id, doc()],
    ])
    const plan = planPromotions({
      ...base,
      items: [stopped, limited, human, agentQa, running],
      contents,
      running: new Set([running.id]),
    })
    expect(plan.resume).toEqual([agentQa.id])
  })
})
