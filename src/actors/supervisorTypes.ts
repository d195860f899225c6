// src/actors/supervisorTypes.ts — the contract of a Supervisor: strategies, restart types, options, child
// specs, what it tells of its children, and the Supervisor itself. Implemented by Supervisor.ts (which
// re-exports all of it) and nestedSupervisor.ts; read by the root of serve's tree (rootSupervisor.ts).
import type { Cause, Duration, Effect, Scope } from "effect"
import type * as Actor from "./Actor.js"
import type { ActorAlreadyExists, ActorNotFound } from "./Registry.js"
import type { SupervisorEscalation, SupervisorStopped } from "./supervisorErrors.js"

/** one_for_one restarts only the child that ended; one_for_all stops and restarts every child with it. */
export type Strategy = "one_for_one" | "one_for_all"

/** permanent: always restarted; transient: restarted only after a failure or defect; temporary: never. */
export type RestartType = "permanent" | "transient" | "temporary"

export interface SupervisorOptions {
  /** Names the supervisor in errors. */
  readonly name?: string
  readonly strategy: Strategy
  /** Restarts allowed within `period`; one more escalates. */
  readonly intensity: number
  readonly period: Duration.DurationInput
  /**
   * Stop every child at once on shutdown, for children that do not depend on each other and may each take
   * a grace period to end (an agent ignoring SIGTERM): the shutdown then takes one, not one per child.
   */
  readonly stopAtOnce?: boolean
  /**
   * Told after each restart (not after a give-up or an escalation, which have their own ways out). It runs
   * while the supervisor holds its lock, so it may log or message others, never call this supervisor.
   */
  readonly onRestart?: (restarted: Restarted) => Effect.Effect<void>
}

/** A child the supervisor has just started again, what ended its last incarnation, and how often so far. */
export interface Restarted {
  readonly key: string
  readonly cause: Cause.Cause<unknown>
  readonly restarts: number
}

/** A contained child's last failure when its supervisor gave up on it, after `restarts` in the period. */
export interface GaveUp {
  readonly key: string
  readonly cause: Cause.Cause<unknown>
  readonly restarts: number
  readonly periodMillis: number
}

export interface ChildSpec<Msg extends Actor.Message, State, E, R> {
  readonly key: string
  readonly spec: Actor.ActorSpec<Msg, State, E, R>
  readonly restart: RestartType
  /**
   * Contains the child instead of escalating: its own restarts count against the intensity, and one too
   * many ends it for good after `giveUp` ran, so its crash loop never stops its siblings or the supervisor.
   */
  readonly giveUp?: (gaveUp: GaveUp) => Effect.Effect<void>
  /** A child that is itself a supervisor tells its own children here, so a status can draw the tree. */
  readonly children?: Effect.Effect<ReadonlyArray<ChildInfo>>
}

export interface ChildInfo {
  readonly key: string
  readonly restart: RestartType
  /** How many times this child has been restarted. */
  readonly restarts: number
  readonly running: boolean
  /** A nested supervisor's own children. */
  readonly children?: ReadonlyArray<ChildInfo>
}

export interface Supervisor {
  readonly name: string
  /**
   * Starts a supervised child. The returned ref is stable across restarts: `tell`/`ask` reach the current
   * incarnation (ActorStopped in the moment between a crash and its restart, or once the child is gone),
   * `stop` removes the child, and `await` resolves when the child is gone for good.
   */
  readonly startChild: <Msg extends Actor.Message, State, E, R>(
    child: ChildSpec<Msg, State, E, R>,
  ) => Effect.Effect<Actor.ActorRef<Msg>, ActorAlreadyExists | SupervisorStopped, Exclude<R, Scope.Scope>>
  /** Stops a child, waits for its finalizers, and forgets it (it is not restarted). */
  readonly stopChild: (key: string) => Effect.Effect<void, ActorNotFound>
  /** The supervised children, in start order. */
  readonly children: Effect.Effect<ReadonlyArray<ChildInfo>>
  /** Resolves when the supervisor shuts down; fails with SupervisorEscalation when it gave up. */
  readonly await: Effect.Effect<void, SupervisorEscalation>
  /** Stops every child (last started first), waiting for their finalizers. Also run when the scope closes. */
  readonly shutdown: Effect.Effect<void>
}
