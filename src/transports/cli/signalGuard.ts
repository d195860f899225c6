// src/transports/cli/signalGuard.ts — keeps a second Ctrl-C or SIGTERM from cutting serve's shutdown short.
// Effect's runMain turns the first signal into an interruption and then stops listening, so a second one
// would end the process at once and leave the agents it was stopping running. Used by main.ts for serve.
import { Effect, Runtime, type Scope } from "effect"
import { withComponent } from "../../layers/Logs.js"

const signals = ["SIGINT", "SIGTERM"] as const

/**
 * While the current Scope is open, SIGINT and SIGTERM are also answered here: the first by the runtime
 * (the shutdown starts) and by a line saying what happens, every further one by that line only. The
 * shutdown is bounded (each agent gets its SIGTERM grace period, then SIGKILL), so absorbing them cannot
 * keep the process up; `kill -9` still ends it at once, and the next start reaps what that leaves.
 */
export const absorbRepeatedSignals = (graceMillis: number): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const onSignal = () => {
      runFork(
        Effect.logInfo(
          `stopping: agents get ${graceMillis / 1000} s after SIGTERM before SIGKILL; a repeated Ctrl-C does not cut that short`,
        ).pipe(withComponent("server")),
      )
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        for (const signal of signals) process.on(signal, onSignal)
      }),
      () =>
        Effect.sync(() => {
          for (const signal of signals) process.off(signal, onSignal)
        }),
    )
  })
