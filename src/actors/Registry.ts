// src/actors/Registry.ts — actors of one kind addressed by key (a story id, an agent name): spawn under a
// key, look up by key, dead actors drop out. Used by the story/agent/peer actor managers and the Supervisor.
import { Effect, ExecutionStrategy, HashMap, Option, Schema, Scope, SynchronizedRef } from "effect"
import * as Actor from "./Actor.js"

export class ActorNotFound extends Schema.TaggedError<ActorNotFound>()("ActorNotFound", {
  key: Schema.String,
}) {
  override get message(): string {
    return `no running actor has the key "${this.key}"; it was never started or has ended — start it again if it is still needed`
  }
}

export class ActorAlreadyExists extends Schema.TaggedError<ActorAlreadyExists>()("ActorAlreadyExists", {
  key: Schema.String,
}) {
  override get message(): string {
    return `an actor with the key "${this.key}" is already running; look it up instead of starting another, or stop it first`
  }
}

/** `K`: what its actors are keyed by (a StoryId, an agent name). */
export interface Registry<Msg extends Actor.Message, K extends string = string> {
  /** Starts an actor owned by the registry's scope and registers it; a live actor under `key` is an error. */
  readonly spawn: <State, E, R>(
    key: K,
    spec: Actor.ActorSpec<Msg, State, E, R>,
  ) => Effect.Effect<Actor.ActorRef<Msg>, ActorAlreadyExists, Exclude<R, Scope.Scope>>
  /** Registers a ref started elsewhere (e.g. a supervised child); it is dropped when its `await` resolves. */
  readonly register: (key: K, ref: Actor.ActorRef<Msg>) => Effect.Effect<void, ActorAlreadyExists>
  /** The live actor under `key`; an absent or ended actor is ActorNotFound, never a dead ref. */
  readonly lookup: (key: K) => Effect.Effect<Actor.ActorRef<Msg>, ActorNotFound>
  /**
   * `lookup` as an Option, for callers to whom absence is an answer (is it running?): no error is made,
   * and an error's stack trace is the dearest part of asking on every event.
   */
  readonly find: (key: K) => Effect.Effect<Option.Option<Actor.ActorRef<Msg>>>
  /** Keys of the actors that are running now. */
  readonly keys: Effect.Effect<ReadonlyArray<K>>
}

const isAlive = <Msg>(ref: Actor.ActorRef<Msg>): Effect.Effect<boolean> => Effect.map(ref.poll, Option.isNone)

/**
 * A registry whose spawned actors and removal watchers live as long as the current Scope. When it closes
 * they all stop at once, not one after another: each may take its agent's whole SIGTERM grace period, and
 * a shutdown must end within one grace period, however many agents run.
 */
export const make = <Msg extends Actor.Message, K extends string = string>(): Effect.Effect<
  Registry<Msg, K>,
  never,
  Scope.Scope
> =>
  Effect.gen(function* () {
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.parallel)
    // Synchronized so the check for a live key and the spawn that claims it happen as one step.
    const entries = yield* SynchronizedRef.make(HashMap.empty<K, Actor.ActorRef<Msg>>())

    const liveEntry = (map: HashMap.HashMap<K, Actor.ActorRef<Msg>>, key: K) =>
      Option.match(HashMap.get(map, key), {
        onNone: () => Effect.succeed(Option.none<Actor.ActorRef<Msg>>()),
        onSome: (ref) => Effect.map(isAlive(ref), (alive) => (alive ? Option.some(ref) : Option.none())),
      })

    // The key is freed only if it still names this ref: a newer actor may already have taken it over.
    const forgetWhenEnded = (key: K, ref: Actor.ActorRef<Msg>) =>
      ref.await.pipe(
        Effect.zipRight(
          SynchronizedRef.update(entries, (map) =>
            Option.exists(HashMap.get(map, key), (current) => current === ref)
              ? HashMap.remove(map, key)
              : map,
          ),
        ),
        Effect.forkIn(scope),
        Effect.asVoid,
      )

    const claim = <E, R>(
      key: K,
      start: Effect.Effect<Actor.ActorRef<Msg>, E, R>,
    ): Effect.Effect<Actor.ActorRef<Msg>, E | ActorAlreadyExists, R> =>
      SynchronizedRef.modifyEffect(entries, (map) =>
        Effect.gen(function* () {
          if (Option.isSome(yield* liveEntry(map, key)))
            return yield* Effect.fail(new ActorAlreadyExists({ key }))
          const ref = yield* start
          yield* forgetWhenEnded(key, ref)
          return [ref, HashMap.set(map, key, ref)] as const
        }),
      )

    const spawn = <State, E, R>(key: K, spec: Actor.ActorSpec<Msg, State, E, R>) =>
      claim(key, Actor.spawnIn(spec, scope, { key }))

    const register = (key: K, ref: Actor.ActorRef<Msg>) => Effect.asVoid(claim(key, Effect.succeed(ref)))

    const find = (key: K): Effect.Effect<Option.Option<Actor.ActorRef<Msg>>> =>
      Effect.flatMap(SynchronizedRef.get(entries), (map) => liveEntry(map, key))

    const lookup = (key: K): Effect.Effect<Actor.ActorRef<Msg>, ActorNotFound> =>
      find(key).pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.fail(new ActorNotFound({ key })),
            onSome: (ref) => Effect.succeed(ref),
          }),
        ),
      )

    const keys: Effect.Effect<ReadonlyArray<K>> = SynchronizedRef.get(entries).pipe(
      Effect.flatMap((map) =>
        Effect.filter(HashMap.toEntries(map), ([, ref]) => isAlive(ref)).pipe(
          Effect.map((live) => live.map(([key]) => key)),
        ),
      ),
    )

    return { spawn, register, lookup, find, keys } satisfies Registry<Msg, K>
  })
