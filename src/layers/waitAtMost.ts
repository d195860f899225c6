// src/layers/waitAtMost.ts — a bounded wait that stays bounded inside finalizers and other uninterruptible
// regions, where `Effect.timeout` alone never fires. Used wherever a stop waits on a process: Pty, AgentActor.
import { Duration, Effect, type Option } from "effect"

/**
 * `wait`, given up after `duration` (None). `Effect.timeoutOption` ends by interrupting the wait, and in an
 * uninterruptible region (a release of `acquireRelease`, a scope's finalizer) that interruption waits for
 * the wait to end by itself: a process that ignores SIGTERM would hang the stop for ever. The wait runs
 * in the timeout's own child fiber, so making it interruptible lets only the timeout cut it; the caller
 * stays exactly as interruptible as it was.
 */
export const waitAtMost = <A, E, R>(
  wait: Effect.Effect<A, E, R>,
  duration: Duration.DurationInput,
): Effect.Effect<Option.Option<A>, E, R> => Effect.timeoutOption(Effect.interruptible(wait), duration)
