// src/actors/timerLoop.ts — fires the Store's timers when they are due: a timer starts (or resumes) its
// item, unless the item has left the stage the timer was set in. Run by the Scheduler as the `timers` child
// of serve's tree (a crash restarts it); the Scheduler says how to start an item and pokes it on changes.
import { Effect, Either, Option, type Queue } from "effect"
import type { Timer } from "../domain/Timer.js"
import type { Store } from "../layers/Store.js"
import type { StoryId } from "../domain/StoryId.js"

export interface TimerLoopOptions {
  readonly store: Store["Type"]
  readonly start: (storyId: StoryId) => Effect.Effect<void, { readonly message: string }>
  /** Offered when the timers change, so the loop looks again at once. */
  readonly pokes: Queue.Dequeue<void>
  /** Run when the loop wakes by itself after a quiet `pollMillis`. */
  readonly onQuiet: Effect.Effect<void>
  /** The longest the loop sleeps without looking again. */
  readonly pollMillis: number
  /** Whether this node fires the item's timers (several nodes: only one does; see workClaims.ts). */
  readonly firesHere?: (storyId: StoryId) => Effect.Effect<boolean>
}

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

export const runTimers = (options: TimerLoopOptions) => {
  const { store } = options
  const fire = (timer: Timer) =>
    Effect.gen(function* () {
      yield* store.cancelTimers(timer.storyId, [timer.id]).pipe(Effect.orDie)
      const item = yield* Effect.option(store.get(timer.storyId))
      // A timer never acts on an item that has left the stage it was set in.
      if (Option.isNone(item) || item.value.stage._tag !== timer.stage) return
      yield* Effect.logInfo(`timer ${timer.id} fired: ${timer.note}`)
      const started = yield* Effect.either(options.start(timer.storyId))
      if (Either.isLeft(started)) yield* Effect.logWarning(started.left.message)
    })

  return Effect.gen(function* () {
    for (;;) {
      const { timers } = yield* store.timers
      const at = yield* now
      for (const timer of timers.filter((t) => t.at <= at))
        if (options.firesHere === undefined || (yield* options.firesHere(timer.storyId))) yield* fire(timer)
      const next = timers.find((t) => t.at > at)
      const wait = Math.min(options.pollMillis, next === undefined ? options.pollMillis : next.at - at)
      const woken = yield* Effect.raceFirst(
        Effect.sleep(Math.max(1, wait)).pipe(Effect.as(false)),
        options.pokes.take.pipe(Effect.as(true)),
      )
      // A quiet minute still gets a look: a config file fixed since the last decision takes effect.
      if (!woken) yield* options.onQuiet
    }
    // Not caught here: a timer that cannot be handled is a crash its supervisor restarts the loop after
    // (it reads the timers again), instead of a loop that ends and never fires another timer.
  })
}
