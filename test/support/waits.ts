// test/support/waits.ts — how a test waits for something to happen: on the Store's event stream when the
// Store is in-process (awaitStore), else by polling one probe (eventually) for what publishes no event.
import { Cause, type Duration, Effect, Fiber, Option, type Queue, type Scope, Stream } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { Store } from "../../src/layers/Store.js"

const within =
  (what: string, millis: number, detail?: () => string) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.timeoutFailCause(self, {
      duration: millis,
      onTimeout: () =>
        Cause.die(new Error(`waited ${millis} ms for ${what}${detail === undefined ? "" : `\n${detail()}`}`)),
    })

/** Runs `probe` now and after every event of `changes` until it gives a value. */
const firstHolding = <A, E, R>(
  what: string,
  changes: Queue.Dequeue<unknown>,
  probe: Effect.Effect<A | undefined, E, R>,
) =>
  Effect.gen(function* () {
    const now = yield* probe
    if (now !== undefined) return now
    const seen = yield* Stream.fromQueue(changes).pipe(
      Stream.mapEffect(() => probe),
      Stream.filter((a): a is A => a !== undefined),
      Stream.runHead,
    )
    return yield* Option.match(seen, {
      onNone: () => Effect.dieMessage(`the Store's events ended while waiting for ${what}`),
      onSome: Effect.succeed,
    })
  })

/**
 * Waits until `probe` gives a value: it is run now and after every Store event, so a change is seen as
 * it is written, not at the next tick. Dies with "waited N ms for <what>" after `millis`.
 */
export const awaitStore = <A, E, R>(
  what: string,
  probe: Effect.Effect<A | undefined, E, R>,
  millis = 30_000,
): Effect.Effect<A, E, R | Store> =>
  Effect.gen(function* () {
    const store = yield* Store
    // Subscribed before the first look: a change between the look and the wait is still seen.
    return yield* firstHolding(what, yield* store.subscribe, probe)
  }).pipe(Effect.scoped, within(what, millis))

/**
 * Starts watching now, in the caller's scope, for what `awaitStore` waits for; the returned effect gives
 * it. For state that may come and go before the test asks (a timer that fires soon after it is set).
 */
export const watchStore = <A, E, R>(
  what: string,
  probe: Effect.Effect<A | undefined, E, R>,
  millis = 30_000,
): Effect.Effect<Effect.Effect<A, E>, never, R | Store | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* Store
    const changes = yield* store.subscribe
    const watching = yield* Effect.forkScoped(firstHolding(what, changes, probe))
    return Fiber.join(watching).pipe(within(what, millis))
  })

export interface PollOptions {
  /** Give up after this long (default 30 s). */
  readonly millis?: number
  /** Pause between looks (default 20 ms). */
  readonly every?: Duration.DurationInput
  /** Added to the timeout's message, read when it fires (a server's output, say). */
  readonly detail?: () => string
}

/**
 * Polls `probe` until it gives a value; for state that publishes no event (a server in another process,
 * a file a script writes, an agent's output). Dies with "waited N ms for <what>" after `millis`.
 */
export const eventually = <A, E, R>(
  what: string,
  probe: Effect.Effect<A | undefined, E, R>,
  { millis = 30_000, every = "20 millis", detail }: PollOptions = {},
): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    for (;;) {
      const value = yield* probe
      if (value !== undefined) return value
      yield* Effect.sleep(every)
    }
  }).pipe(within(what, millis, detail))

/** `eventually` for promise-based tests: `probe` may be sync or async. */
export const eventuallyPromise = <A>(
  what: string,
  probe: () => A | undefined | Promise<A | undefined>,
  options?: PollOptions,
): Promise<A> =>
  Effect.runPromise(
    eventually(
      what,
      Effect.promise(async () => probe()),
      options,
    ),
  )

/** A probe's answer for a boolean condition: `true` when it holds, else "not yet". */
export const holds = (condition: boolean): true | undefined => (condition ? true : undefined)

/** A probe: the pid a script wrote to `path`, once the file holds a positive number. */
export const pidIn = (path: string): Effect.Effect<number | undefined> =>
  Effect.sync(() => {
    const pid = existsSync(path) ? Number(readFileSync(path, "utf8").trim()) : 0
    return pid > 0 ? pid : undefined
  })
