// src/transports/rpc/cardSource.ts — builds board cards from the read-only PipelineView with two caches:
// each item's markdown summary (dropped when its content changes) and each item's cost from the usage
// ledger (summed as lines are appended, each read once). Used by the LiveFeed, Page and Item of /rpc.
import { Effect, Option } from "effect"
import type { PipelineViewShape } from "../../actors/PipelineView.js"
import type { Stage } from "../../domain/Stage.js"
import type { StoryId } from "../../domain/StoryId.js"
import type { Timer } from "../../domain/Timer.js"
import type { WorkItem } from "../../domain/WorkItem.js"
import { readUsageSince, type UsageCursor, usageCursorStart } from "../../layers/Usage.js"
import type { Card } from "../../protocol/uiRpcs.js"
import { cardOf, type DocSummary, summarize } from "./cards.js"

export interface CardSource {
  /** Cards of `items`, against `all` for dependency stages (an item deleted meanwhile is left out). */
  readonly cards: (
    items: ReadonlyArray<WorkItem>,
    all: ReadonlyArray<WorkItem>,
  ) => Effect.Effect<ReadonlyArray<Card>>
  /** The card of one item as it is now; None when it is gone. */
  readonly card: (id: StoryId) => Effect.Effect<Option.Option<Card>>
  /** Forgets what is cached of an item's markdown (its content changed, or it was deleted). */
  readonly forget: (id: StoryId) => void
  /** The items whose markdown (as last read) depends on `id`. */
  readonly dependents: (id: StoryId) => ReadonlyArray<StoryId>
  /** Reads and keeps the markdown summaries of `items` ahead of the first board that needs them. */
  readonly warm: (items: ReadonlyArray<WorkItem>) => Effect.Effect<void>
}

interface LedgerCosts {
  readonly cursor: UsageCursor
  readonly byItem: Map<string, number>
}

export const makeCardSource = (view: PipelineViewShape, root: string) =>
  Effect.sync((): CardSource => {
    const docs = new Map<StoryId, DocSummary>()
    let ledger: LedgerCosts = { cursor: usageCursorStart, byItem: new Map() }

    const summary = (id: StoryId): Effect.Effect<Option.Option<DocSummary>> => {
      const known = docs.get(id)
      if (known !== undefined) return Effect.succeed(Option.some(known))
      return view.content(id).pipe(
        Effect.map((content) => {
          const read = summarize(content)
          docs.set(id, read)
          return Option.some(read)
        }),
        // Deleted between the list and this read: it simply drops out of what is being built.
        Effect.catchTag("ItemNotFound", () => Effect.succeedNone),
      )
    }

    // The ledger only grows by appends: each read takes the lines added since the last one into the sums.
    // Reads run one at a time, so two cards built at once do not add the same lines twice.
    const ledgerLock = Effect.unsafeMakeSemaphore(1)
    const costs = ledgerLock.withPermits(1)(
      Effect.gen(function* () {
        const read = yield* readUsageSince(root, ledger.cursor).pipe(
          Effect.tapError((e) => Effect.logWarning(`card costs not updated: ${e.message}`)),
          Effect.option,
        )
        if (Option.isNone(read)) return ledger.byItem
        const { records, cursor, restarted } = read.value
        const byItem = restarted ? new Map<string, number>() : ledger.byItem
        for (const r of records) byItem.set(r.storyId, (byItem.get(r.storyId) ?? 0) + (r.costUsd ?? 0))
        ledger = { cursor, byItem }
        return byItem
      }),
    )

    const timersByItem = Effect.map(view.timers, ({ timers }) => {
      const byItem = new Map<StoryId, Array<Timer>>()
      for (const t of timers) {
        const list = byItem.get(t.storyId)
        if (list === undefined) byItem.set(t.storyId, [t])
        else list.push(t)
      }
      return byItem
    })

    const cards: CardSource["cards"] = (items, all) =>
      Effect.gen(function* () {
        const stages = new Map<StoryId, Stage>(all.map((i) => [i.id, i.stage]))
        const timers = yield* timersByItem
        const cost = yield* costs
        const out: Array<Card> = []
        for (const item of items) {
          const doc = yield* summary(item.id)
          if (Option.isNone(doc)) continue
          out.push(
            cardOf(item, doc.value, {
              stages,
              timers: timers.get(item.id) ?? [],
              costUsd: cost.get(item.id) ?? 0,
            }),
          )
        }
        return out
      })

    const card: CardSource["card"] = (id) =>
      Effect.gen(function* () {
        const item = yield* view.get(id).pipe(Effect.option)
        if (Option.isNone(item)) return Option.none()
        const doc = yield* summary(id)
        if (Option.isNone(doc)) return Option.none()
        // Only the stages of its own dependencies matter: no need to list the whole board.
        const stages = new Map<StoryId, Stage>()
        for (const dep of doc.value.dependsOn) {
          const got = yield* view.get(dep).pipe(Effect.option)
          if (Option.isSome(got)) stages.set(dep, got.value.stage)
        }
        const timers = (yield* view.timers).timers.filter((t) => t.storyId === id)
        const cost = (yield* costs).get(id) ?? 0
        return Option.some(cardOf(item.value, doc.value, { stages, timers, costUsd: cost }))
      })

    const dependents = (id: StoryId) =>
      [...docs.entries()].flatMap(([other, doc]) => (doc.dependsOn.includes(id) ? [other] : []))

    // In slices, yielding between them: requests that arrive meanwhile are not held up by it.
    const warm = (items: ReadonlyArray<WorkItem>) =>
      Effect.forEach(
        items,
        (item, i) => Effect.zipRight(summary(item.id), i % 200 === 199 ? Effect.yieldNow() : Effect.void),
        { discard: true },
      )

    return { cards, card, forget: (id) => void docs.delete(id), dependents, warm }
  })
