// src/actors/nestedSupervisor.ts — a supervisor that is the child of another: its escalation is that
// child's failure, which the parent restarts (a fresh supervisor, empty) or escalates in turn. The Supervisor
// it returns is stable across those restarts. Used by the root of serve's tree for the stories supervisor.
import { Cause, Effect, Option, type Scope, Stream, SubscriptionRef } from "effect"
import * as Actor from "./Actor.js"
import { ActorNotFound } from "./Registry.js"
import { make } from "./Supervisor.js"
import { SupervisorEscalation, SupervisorStopped } from "./supervisorErrors.js"
import type { RestartType, Supervisor, SupervisorOptions } from "./supervisorTypes.js"

/**
 * Starts a supervisor as the child `key` of `parent`. Its children are started dynamically, so a restarted
 * one starts empty: whoever starts them starts them again (the Scheduler re-reads the Store and does). While
 * it is between incarnations, `startChild` waits for the next one; once the parent has let it go for good,
 * it is SupervisorStopped.
 */
export const startNested = (
  parent: Supervisor,
  key: string,
  options: SupervisorOptions,
  restart: RestartType = "permanent",
) =>
  Effect.gen(function* () {
    const name = options.name ?? key
    const current = yield* SubscriptionRef.make(Option.none<Supervisor>())
    const incarnation = Effect.gen(function* () {
      const supervisor = yield* make({ ...options, name })
      // Added after make's own finalizer, so it runs first: nobody reaches a supervisor shutting down.
      yield* Effect.addFinalizer(() => SubscriptionRef.set(current, Option.none()))
      yield* SubscriptionRef.set(current, Option.some(supervisor))
      // It only ends cleanly when this actor's scope closes, which interrupts us first.
      yield* supervisor.await
      return yield* Effect.never
    })
    const children = SubscriptionRef.get(current).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.succeed([]), onSome: (s) => s.children })),
    )
    const ref = yield* parent.startChild({
      key,
      restart,
      spec: Actor.make<never, never, SupervisorEscalation, Scope.Scope>({
        init: incarnation,
        receive: (state) => Effect.succeed(state),
        mailboxSize: 1,
      }),
      children,
    })
    const stopped = new SupervisorStopped({ supervisor: name })
    /** The running incarnation: waits through a restart, SupervisorStopped once there is none to come. */
    const running: Effect.Effect<Supervisor, SupervisorStopped> = Effect.raceFirst(
      // The changes never end, so their first incarnation is the only way out of this one.
      current.changes.pipe(
        Stream.filterMap((s) => s),
        Stream.runHead,
        Effect.flatMap(Option.match({ onNone: () => Effect.never, onSome: Effect.succeed })),
      ),
      Effect.zipRight(ref.await, Effect.fail(stopped)),
    )
    const ended: Effect.Effect<void, SupervisorEscalation> = Effect.flatMap(ref.await, (exit) => {
      if (exit._tag !== "Failed") return Effect.void
      const escalation = Cause.failureOption(exit.cause)
      return Option.isSome(escalation) && escalation.value instanceof SupervisorEscalation
        ? Effect.fail(escalation.value)
        : Effect.void
    })
    const nested: Supervisor = {
      name,
      startChild: (child) => Effect.flatMap(running, (s) => s.startChild(child)),
      stopChild: (childKey) =>
        Effect.flatMap(
          SubscriptionRef.get(current),
          Option.match({
            onNone: () => Effect.fail(new ActorNotFound({ key: childKey })),
            onSome: (s) => s.stopChild(childKey),
          }),
        ),
      children,
      await: ended,
      shutdown: ref.stop,
    }
    return nested
  })

/** A supervisor that has stopped: it starts nothing and holds nothing (its parent gave up first). */
export const stoppedSupervisor = (name: string): Supervisor => ({
  name,
  startChild: () => Effect.fail(new SupervisorStopped({ supervisor: name })),
  stopChild: (key) => Effect.fail(new ActorNotFound({ key })),
  children: Effect.succeed([]),
  await: Effect.void,
  shutdown: Effect.void,
})
