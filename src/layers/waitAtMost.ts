// src/layers/waitAtMost.ts — a bounded wait that stays bounded inside finalizers and other uninterruptible
// regions, where `Effect.timeout` alone never fires. Used wherever a stop waits on a process: Pty, AgentActor.
import { type Duration, Effect, Fiber, type Option } from "effect"

/**
 * `wait`, given up after `duration` (None). `Effect.timeoutOption` ends by interrupting the wait, and in an
 * uninterruptible region (a release of `acquireRelease`, a scope's finalizer) that interruption waits for
 * the wait to end by itself: a process that ignores SIGTERM would hang the stop for ever.
 *
 * So the wait runs, interruptible and with its timeout, in a fiber of its own that nothing else can
 * interrupt (a daemon: an interruption of the caller is passed on to the caller's children, and would cut
 * a wait forked as one short). The caller only joins it: it stays exactly as interruptible as it was, and
 * an uninterruptible region such as terminate's runs to its end (the SIGKILL) whatever happens meanwhile.
 */
export const waitAtMost = <A, E, R>(
  wait: Effect.Effect<A, E, R>,
  duration: Duration.DurationInput,
): Effect.Effect<Option.Option<A>, E, R> =>
  Effect.flatMap(Effect.forkDaemon(Effect.timeoutOption(Effect.interruptible(wait), duration)), Fiber.join)
