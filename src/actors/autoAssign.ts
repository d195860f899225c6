// src/actors/autoAssign.ts — auto mode's one look at the pipeline: plans which items start or resume on
// this node (planPromotions over the Store, the config, the agent pool and what other nodes hold), claims
// them and starts their story actors. The Scheduler runs it on every poke, as serve's `auto-assign` child.
import { Effect, Either } from "effect"
import type { NodeId } from "../domain/ExecutionState.js"
import { defaultFrontMatterOf, type FrontMatterOf, planPromotions } from "../domain/promotion.js"
import type { AgentRole } from "../domain/Stage.js"
import type { StoryId } from "../domain/StoryId.js"
import type { HuskiesConfig } from "../layers/HuskiesConfig.js"
import type { Store } from "../layers/Store.js"
import type { AgentSlots } from "./AgentSlots.js"
import type { WorkClaims } from "./workClaims.js"

export interface AutoAssignOptions {
  readonly store: Store["Type"]
  readonly node: NodeId
  /** The config in force (its agents also configure the pool on each read). */
  readonly config: HuskiesConfig["Type"]["get"]
  /** The server's own switch (tests of single steps turn it off); project.toml's `auto_assign` is another. */
  readonly enabled: boolean
  readonly claims: WorkClaims
  readonly slots: AgentSlots
  /** The items whose story actor runs on this node now. */
  readonly running: Effect.Effect<ReadonlyArray<string>>
  /** A worker takes only the roles it runs; the main node does the rest. */
  readonly stages: ReadonlyArray<AgentRole> | undefined
  /** Starts the item's story actor (resume: its agent's session is taken up again). */
  readonly spawn: (id: StoryId, resume: boolean) => Effect.Effect<unknown>
}

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

type FrontMatter = ReturnType<FrontMatterOf>

/**
 * One look; whatever fails is logged, and the next poke looks again. Each look parses only the documents
 * that changed since the look before: a look reads every Backlog, Coding and QA item's front matter, and
 * parsing is some 40 microseconds a document (80 ms a look with 2,000 items in Backlog, on every poke).
 */
export const autoAssign = (options: AutoAssignOptions): Effect.Effect<void> => {
  let parsedBefore = new Map<string, FrontMatter>()
  return Effect.gen(function* () {
    const { store, claims, slots } = options
    const config = yield* Effect.either(options.config)
    if (Either.isLeft(config)) return yield* Effect.logError(config.left.message)
    if (!options.enabled || !config.right.project.autoAssign) return
    const listed = (yield* store.list).items
    // What another node holds live is its work: auto-assign leaves it alone (and looks again once it ends).
    const heldElsewhere = yield* claims.heldElsewhere(listed)
    const items = listed.filter((item) => !heldElsewhere.has(item.id))
    const running = new Set(yield* options.running)
    const { timers } = yield* store.timers
    const contents = new Map<string, string>()
    for (const item of items) {
      // An item deleted since the list was read has no content: planned as having no front matter,
      // and its start then fails on the missing item.
      if (item.stage._tag === "Backlog" || item.stage._tag === "Coding" || item.stage._tag === "Qa")
        contents.set(item.id, yield* store.content(item.id).pipe(Effect.orElseSucceed(() => "")))
    }
    const parsedNow = new Map<string, FrontMatter>()
    const plan = planPromotions({
      items,
      contents,
      timers,
      running,
      node: options.node,
      agents: config.right.agents,
      concurrency: config.right.project.concurrency,
      defaultQa: config.right.project.defaultQa,
      busy: yield* slots.busy,
      waiting: (yield* slots.waiting).map((w) => w.request),
      frontMatterOf: (markdown) => {
        if (markdown === undefined) return undefined
        if (parsedNow.has(markdown)) return parsedNow.get(markdown)
        const fm = parsedBefore.has(markdown) ? parsedBefore.get(markdown) : defaultFrontMatterOf(markdown)
        parsedNow.set(markdown, fm)
        return fm
      },
    })
    // What this look read is what the next one remembers: documents no longer looked at are let go.
    parsedBefore = parsedNow
    const stages = options.stages
    const runsHere = (id: StoryId) =>
      stages === undefined ||
      stages.includes(items.find((i) => i.id === id)?.stage._tag === "Qa" ? "qa" : "coder")
    // Claimed first: another node may have taken it since the list was read.
    for (const id of plan.resume.filter(runsHere))
      if (yield* claims.tryClaim(id, items.find((i) => i.id === id)?.stage._tag))
        yield* options.spawn(id, true)
    for (const id of plan.start.filter(runsHere)) {
      if (!(yield* claims.tryClaim(id, "Backlog"))) continue
      const started = yield* Effect.either(
        store.apply(id, { _tag: "Start", at: yield* now }, { by: "server", reason: "auto-assign" }),
      )
      yield* Either.isRight(started) ? options.spawn(id, false) : claims.ended(id)
    }
  }).pipe(Effect.catchAllCause((cause) => Effect.logError("scheduling failed", cause)))
}
