// web/src/views/hooks.ts — small hooks the pages share: a clock for countdowns (display only) and a read
// that can be made again shortly after the board changes (event-driven: the board feed is the trigger).
import { useEffect, useRef, useState } from "react"
import type { Outcome } from "../api/client.js"
import { useBoardStore } from "../state/useBoard.js"

/** The time now, updated every `everyMs` while `active`: for countdowns on screen, not for reading data. */
export const useNow = (everyMs: number, active = true): number => {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!active) return
    setNow(Date.now())
    const timer = setInterval(() => setNow(Date.now()), everyMs)
    return () => clearInterval(timer)
  }, [everyMs, active])
  return now
}

export interface Read<A> {
  readonly value: A | undefined
  readonly error: string | undefined
  readonly loading: boolean
}

/**
 * Runs `read` now, whenever `deps` change and, given `afterBoardMs`, that long after the board's cursor
 * last moved (a burst of changes makes one read). A failed read keeps the last value and shows its error.
 */
export const useRead = <A>(
  read: () => Promise<Outcome<A>>,
  deps: ReadonlyArray<unknown>,
  afterBoardMs?: number,
): Read<A> => {
  const store = useBoardStore()
  const [state, setState] = useState<Read<A>>({ value: undefined, error: undefined, loading: true })
  const latestRead = useRef(read)
  latestRead.current = read
  useEffect(() => {
    let alive = true
    let asked = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    const run = () => {
      const mine = ++asked
      setState((s) => (s.loading ? s : { ...s, loading: true }))
      void latestRead.current().then((r) => {
        // Only the newest read counts: an older answer arriving late would show stale data.
        if (!alive || mine !== asked) return
        setState((s) =>
          r.ok
            ? { value: r.value, error: undefined, loading: false }
            : { value: s.value, error: r.error, loading: false },
        )
      })
    }
    run()
    if (afterBoardMs === undefined)
      return () => {
        alive = false
      }
    let cursor = store.get().cursor
    const off = store.subscribe(() => {
      const next = store.get().cursor
      if (next === cursor) return
      cursor = next
      clearTimeout(timer)
      timer = setTimeout(run, afterBoardMs)
    })
    return () => {
      alive = false
      clearTimeout(timer)
      off()
    }
    // The caller names what the read depends on; `read` itself is a fresh closure each render.
  }, [store, afterBoardMs, ...deps])
  return state
}
