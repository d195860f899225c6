// src/layers/storeLock.ts — the Store's write lock: one holder at a time, handed over first come first
// served, to a fiber (`acquire`) or to a plain callback (`whenFree`). Used by storeCommit.ts.
import { Effect } from "effect"

export const writeLock = () => {
  let held = false
  const waiters: Array<() => void> = []
  /** Takes the lock if nobody holds it; true when taken. */
  const tryTake = (): boolean => {
    if (held) return false
    held = true
    return true
  }
  /** Calls `turn` holding the lock: now if it is free, else when its turn comes. */
  const whenFree = (turn: () => void): void => {
    if (tryTake()) turn()
    else waiters.push(turn)
  }
  const acquire: Effect.Effect<void> = Effect.suspend(() =>
    tryTake() ? Effect.void : Effect.async<void>((resume) => void waiters.push(() => resume(Effect.void))),
  )
  /** Hands the lock to the next waiter, or frees it. */
  const release = (): void => {
    const next = waiters.shift()
    if (next === undefined) held = false
    else next()
  }
  const locked = <A>(effect: Effect.Effect<A>) =>
    Effect.zipRight(acquire, Effect.ensuring(effect, Effect.sync(release)))
  return { tryTake, whenFree, acquire, release, locked, held: () => held } as const
}
