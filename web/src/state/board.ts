// web/src/state/board.ts — the board as the browser holds it: cards by id, decisions, the merge queue
// and the cursor of the last message applied. `applyMessage` is pure (tested without a browser); the
// BoardStore around it lets React subscribe (useSyncExternalStore) and batches renders to frames.
import type { Decision } from "../../../src/domain/Decision.js"
import type { MergeJob } from "../../../src/domain/MergeJob.js"
import type {
  BoardMessage,
  Card,
  Cursor,
  MergeCurrent,
  MergePaused,
  MergeWaiting,
} from "../../../src/protocol/uiRpcs.js"

export type Connection = "connecting" | "live" | "reconnecting"

export interface BoardState {
  readonly cursor: Cursor | undefined
  readonly nodeId: string
  readonly project: string
  readonly cards: ReadonlyMap<string, Card>
  readonly totals: { readonly Done: number; readonly Archived: number }
  readonly decisions: ReadonlyMap<string, Decision>
  readonly mergeQueue: ReadonlyArray<MergeJob>
  readonly mergeCurrent: MergeCurrent | undefined
  readonly mergePaused: MergePaused | undefined
  /** Jobs that wait alone (their branch could not be fetched), with why. */
  readonly mergeWaiting: ReadonlyArray<MergeWaiting>
  readonly connection: Connection
  /** Set when the server speaks another protocol version: the page must reload. */
  readonly stale: boolean
}

export const emptyBoard: BoardState = {
  cursor: undefined,
  nodeId: "",
  project: "",
  cards: new Map(),
  totals: { Done: 0, Archived: 0 },
  decisions: new Map(),
  mergeQueue: [],
  mergeCurrent: undefined,
  mergePaused: undefined,
  mergeWaiting: [],
  connection: "connecting",
  stale: false,
}

const pagedTag = (card: Card | undefined): "Done" | "Archived" | undefined =>
  card?.stage._tag === "Done" || card?.stage._tag === "Archived" ? card.stage._tag : undefined

/** The state after one message; a message at or before the cursor of the same epoch changes nothing. */
export const applyMessage = (state: BoardState, message: BoardMessage): BoardState => {
  if (message._tag === "Snapshot") {
    return {
      ...state,
      cursor: message.cursor,
      nodeId: message.nodeId,
      project: message.project,
      cards: new Map(message.cards.map((c) => [c.id, c])),
      totals: message.totals,
      decisions: new Map(message.decisions.map((d) => [d.id, d])),
      mergeQueue: message.mergeQueue,
      mergeCurrent: message.mergeCurrent,
      mergePaused: message.mergePaused,
      mergeWaiting: message.mergeWaiting ?? [],
    }
  }
  const seen = state.cursor
  if (message._tag === "Live") return { ...state, cursor: message.cursor, connection: "live" }
  if (seen !== undefined && seen.epoch === message.cursor.epoch && message.cursor.seq <= seen.seq)
    return state
  const next = { ...state, cursor: message.cursor }
  switch (message._tag) {
    case "CardChanged": {
      const cards = new Map(state.cards)
      const before = pagedTag(cards.get(message.card.id))
      cards.set(message.card.id, message.card)
      return { ...next, cards, totals: moveTotals(state.totals, before, pagedTag(message.card)) }
    }
    case "CardRemoved": {
      const cards = new Map(state.cards)
      const before = pagedTag(cards.get(message.id))
      cards.delete(message.id)
      return { ...next, cards, totals: moveTotals(state.totals, before, undefined) }
    }
    case "DecisionChanged": {
      const decisions = new Map(state.decisions)
      decisions.set(message.decision.id, message.decision)
      return { ...next, decisions }
    }
    case "MergeQueueChanged":
      return {
        ...next,
        mergeQueue: message.jobs,
        mergeCurrent: message.mergeCurrent,
        mergePaused: message.mergePaused,
        mergeWaiting: message.mergeWaiting ?? [],
      }
  }
}

const moveTotals = (
  totals: BoardState["totals"],
  from: "Done" | "Archived" | undefined,
  to: "Done" | "Archived" | undefined,
): BoardState["totals"] => {
  if (from === to) return totals
  const t = { ...totals }
  if (from !== undefined) t[from] = Math.max(0, t[from] - 1)
  if (to !== undefined) t[to] += 1
  return t
}

/** Cards of one stage column, newest change first for Done/Archived, by number elsewhere. */
export const column = (state: BoardState, stage: Card["stage"]["_tag"]): Array<Card> => {
  const cards = [...state.cards.values()].filter((c) => c.stage._tag === stage)
  return stage === "Done" || stage === "Archived"
    ? cards.sort((a, b) => b.updatedAt - a.updatedAt)
    : cards.sort((a, b) => a.number - b.number)
}

export const pendingDecisions = (state: BoardState): Array<Decision> =>
  [...state.decisions.values()].filter((d) => d.answer === undefined)

/** Holds the state; listeners are told at most once per animation frame, however fast messages come. */
export class BoardStore {
  private state: BoardState = emptyBoard
  private readonly listeners = new Set<() => void>()
  private scheduled = false

  readonly get = (): BoardState => this.state

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  readonly update = (f: (state: BoardState) => BoardState): void => {
    const next = f(this.state)
    if (next === this.state) return
    this.state = next
    if (this.scheduled) return
    this.scheduled = true
    const flush = () => {
      this.scheduled = false
      for (const l of this.listeners) l()
    }
    if (typeof requestAnimationFrame === "function" && document.visibilityState === "visible")
      requestAnimationFrame(flush)
    else setTimeout(flush, 0)
  }
}
