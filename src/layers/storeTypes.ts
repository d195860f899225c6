// src/layers/storeTypes.ts — the shapes the Store's callers pass and receive: timers to set, content
// edits, new items, and the events its bus publishes once a change is on disk. Re-exported by Store.ts.
import type { HistoryEntry } from "../domain/History.js"
import type { PipelineEvent } from "../domain/PipelineEvent.js"
import type { ItemKind, StoryId } from "../domain/StoryId.js"
import type { TimerKind } from "../domain/Timer.js"
import type { WorkItem } from "../domain/WorkItem.js"
import type { Effect } from "effect"
import type { DeleteReport, DocMaps } from "./docModel.js"
import type { PersistError } from "./Persistence.js"
import type { ClaimEvent } from "./storeClaims.js"
import type { DecisionEvent } from "./storeDecisions.js"

/** What a part of the Store kept in its own file (decisions, claims) gets from the Store to use the document. */
export interface DocAccess<Event> {
  /** The document's maps now (the Store swaps the document when it reloads from disk). */
  readonly maps: () => DocMaps
  /** One Y transaction made durable (see Store.commit). */
  readonly commit: <A>(mutate: () => A) => Effect.Effect<A, PersistError>
  /** Holds the Store's write lock. */
  readonly write: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
  readonly publish: (event: Event) => Effect.Effect<boolean>
}

export interface SetTimer {
  readonly storyId: StoryId
  readonly kind: TimerKind
  readonly at: number
  readonly note: string
}

export type ContentEdit =
  | {
      readonly _tag: "Replace"
      readonly text: string
      /** When given, the edit applies only if the content is still exactly this (compare-and-set). */
      readonly expected?: string
    }
  | { readonly _tag: "Splice"; readonly index: number; readonly deleteCount: number; readonly insert: string }

/**
 * An item changed by a peer's update (storeSync.ts): the PipelineEvent stayed on the node that applied
 * it, so subscribers compare `before` and `after` (the stage moved, execution changed) as for any change.
 */
export interface Replicated {
  readonly _tag: "Replicated"
  /** The peer whose update carried the change. */
  readonly from: string
}

/** What subscribers of the event bus see, after the change is on disk. */
export type StoreEvent =
  | { readonly _tag: "ItemCreated"; readonly item: WorkItem }
  | {
      readonly _tag: "ItemChanged"
      readonly before: WorkItem
      readonly after: WorkItem
      /** What moved it: a local write's PipelineEvent, or `Replicated` for a peer's change applied here. */
      readonly event: PipelineEvent | Replicated
      /** What the change added to the item's history, if it is one it records. */
      readonly entry?: HistoryEntry | undefined
    }
  | { readonly _tag: "ContentChanged"; readonly id: StoryId }
  | { readonly _tag: "ItemDeleted"; readonly id: StoryId; readonly report: DeleteReport }
  /** Timers of `id` were set or removed (a move removes the timers of the stage it left). */
  | { readonly _tag: "TimersChanged"; readonly id: StoryId }
  /** The merge job of `id` was set or cleared (read the jobs for what it is now). */
  | { readonly _tag: "MergeJobChanged"; readonly id: StoryId }
  | DecisionEvent
  | ClaimEvent

export interface CreateItem {
  readonly kind: ItemKind
  readonly name: string
  /** Full markdown (front matter + sections) of the new item. */
  readonly content: string
  /** Who filed it, for its history. */
  readonly by?: string | undefined
}
