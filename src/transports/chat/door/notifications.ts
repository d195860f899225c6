// src/transports/chat/door/notifications.ts — what a pipeline change says in chat (a move, a merge with
// its commit, a failure with its reason, a rate limit with its reset time), and how the outbox's pending
// notifications of one platform become few messages: per item thread when few, one summary per room when
// many (after an outage, a burst). Pure; used by the chat door.
import type { NotificationKind } from "../../../domain/BotConfig.js"
import type { WorkItem } from "../../../domain/WorkItem.js"
import type { StoreEvent } from "../../../layers/storeTypes.js"

export interface Notice {
  readonly kind: NotificationKind
  readonly item: string
  readonly text: string
}

const time = (millis: number) => new Date(millis).toISOString().replace(/\.\d+Z$/, "Z")

/** The notice a change gives, if it is one a room may subscribe to. */
export const noticeOf = (event: StoreEvent): Notice | undefined => {
  if (event._tag !== "ItemChanged") return undefined
  const { before, after, event: move } = event
  const item = after.id
  switch (move._tag) {
    // A peer's change carries no PipelineEvent: what it did is read from where it left the item.
    case "Replicated":
      if (after.stage._tag === "Done" && before.stage._tag !== "Done")
        return { kind: "merges", item, text: `${item} merged (${after.stage.mergeCommit.slice(0, 12)})` }
      if (
        after.stage._tag === "Archived" &&
        after.stage.reason._tag === "MergeFailed" &&
        before.stage._tag === "Merge"
      )
        return { kind: "failures", item, text: `${item} could not be merged: ${after.stage.reason.why}` }
      return before.stage._tag === after.stage._tag
        ? undefined
        : { kind: "moves", item, text: `${item}: ${before.stage._tag} → ${after.stage._tag}` }
    case "Merged":
      return { kind: "merges", item, text: `${item} merged (${move.mergeCommit.slice(0, 12)})` }
    case "GatesFailed":
      return { kind: "failures", item, text: `${item} failed its gates: ${move.why}` }
    case "MergeFailed":
      return { kind: "failures", item, text: `${item} could not be merged: ${move.why}` }
    case "RateLimitHit":
      return {
        kind: "rate_limits",
        item,
        text: `${item} hit a rate limit; retrying after ${time(move.resetAt)}`,
      }
    default:
      return before.stage._tag === after.stage._tag
        ? undefined
        : { kind: "moves", item, text: `${item}: ${before.stage._tag} → ${after.stage._tag}` }
  }
}

export interface Pending {
  readonly id: string
  readonly room: string
  readonly item?: string | undefined
  readonly kind: string
  readonly text: string
}

/** One message to send: its room, the item whose thread it belongs in (if any), and the entries it carries. */
export interface Batch {
  readonly room: string
  readonly item?: string | undefined
  readonly text: string
  readonly ids: ReadonlyArray<string>
}

/** Above this many pending notices for a room, they are summarised in one message. */
export const summariseAbove = 5
const summaryLines = 10

const plural = (n: number, kind: string) => `${n} ${n === 1 ? kind.replace(/s$/, "") : kind}`

/** Pending notifications, oldest first, as the messages to send. */
export const batches = (pending: ReadonlyArray<Pending>): ReadonlyArray<Batch> => {
  const byRoom = new Map<string, Array<Pending>>()
  for (const p of pending) byRoom.set(p.room, [...(byRoom.get(p.room) ?? []), p])
  return [...byRoom.entries()].flatMap(([room, entries]): ReadonlyArray<Batch> => {
    if (entries.length > summariseAbove) {
      const counts = new Map<string, number>()
      for (const e of entries) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1)
      const head = [...counts.entries()].map(([kind, n]) => plural(n, kind.replace("_", " "))).join(", ")
      const recent = entries.slice(-summaryLines).map((e) => `• ${e.text}`)
      const more = entries.length > summaryLines ? [`(the ${summaryLines} latest shown)`] : []
      return [
        {
          room,
          text: [`${entries.length} updates since the last message: ${head}`, ...recent, ...more].join("\n"),
          ids: entries.map((e) => e.id),
        },
      ]
    }
    const byItem = new Map<string | undefined, Array<Pending>>()
    for (const e of entries) byItem.set(e.item, [...(byItem.get(e.item) ?? []), e])
    return [...byItem.entries()].map(([item, group]) => ({
      room,
      item,
      text: group.map((e) => e.text).join("\n"),
      ids: group.map((e) => e.id),
    }))
  })
}

const day = 24 * 60 * 60 * 1000

/** The daily digest: what reached Done in the 24 hours before `now`; undefined when nothing did. */
export const digestText = (items: ReadonlyArray<WorkItem>, now: number): string | undefined => {
  const done = items.flatMap((item) =>
    item.stage._tag === "Done" && item.stage.mergedAt > now - day && item.stage.mergedAt <= now
      ? [`• ${item.id} (${item.stage.mergeCommit.slice(0, 12)})`]
      : [],
  )
  return done.length === 0 ? undefined : [`Done in the last 24 hours (${done.length}):`, ...done].join("\n")
}
