// web/src/state/useBoard.ts — React's view of the BoardStore: a component re-renders when the board
// changes (at most once per frame).
import { createContext, useContext, useSyncExternalStore } from "react"
import type { BoardState, BoardStore } from "./board.js"

export const BoardContext = createContext<BoardStore | undefined>(undefined)

export const useBoardStore = (): BoardStore => {
  const store = useContext(BoardContext)
  if (store === undefined) throw new Error("useBoard outside BoardContext")
  return store
}

export const useBoard = (): BoardState => {
  const store = useBoardStore()
  return useSyncExternalStore(store.subscribe, store.get)
}
