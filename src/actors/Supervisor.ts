// src/actors/Supervisor.ts — OTP-style supervision of keyed actors: restart strategies, restart types and
// restart intensity that escalates as a typed failure, or per child, contained. Used by storyActors.ts.
import {
  Clock,
  Cause,
  Deferred,
  Duration,
  Effect,
  ExecutionStrategy,
  Exit,
  Fiber,
  FiberId,
  Option,
  Queue,
  Ref,
  Scope,
  SynchronizedRef,
} from "effect"
import * as Actor from "./Actor.js"
import { ActorAlreadyExists, ActorNotFound } from "./Registry.js"
import { SupervisorEscalation, SupervisorStopped } from "./supervisorErrors.js"
import type {
  ChildInfo,
  ChildSpec,
  GaveUp,
  RestartType,
  Supervisor,
  SupervisorOptions,
} from "./supervisorTypes.js"

export { SupervisorEscalation, SupervisorStopped } from "./supervisorErrors.js"
export type {
  ChildInfo,
  ChildSpec,
  GaveUp,
  Restarted,
  RestartType,
  Strategy,
  Supervisor,
  SupervisorOptions,
} from "./supervisorTypes.js"

/** One running incarnation of a child, without its message type so children of every kind share one list. */
interface Incarnation {
  readonly id: number
  readonly stop: Effect.Effect<void>
  readonly await: Effect.Effect<Actor.ActorExit>
  readonly poll: Effect.Effect<Option.Option<Actor.ActorExit>>
}

interface Child {
  readonly id: number
  readonly key: string
  readonly restart: RestartType
  readonly restarts: number
  readonly giveUp: ((gaveUp: GaveUp) => Effect.Effect<void>) | undefined
  readonly describe: Effect.Effect<ReadonlyArray<ChildInfo>> | undefined
  /** A contained child's own restart times (ms) still inside the window. */
  readonly restartTimes: ReadonlyArray<number>
  readonly current: Incarnation
  /** Starts a new incarnation with the given id and points the stable ref at it. */
  readonly spawn: (id: number) => Effect.Effect<Incarnation>
  /** The child is gone for good: the stable ref stops forwarding and its `await` resolves. */
  readonly retire: (exit: Actor.ActorExit) => Effect.Effect<void>
}

interface SupervisorState {
  readonly open: boolean
  readonly nextId: number
  readonly children: ReadonlyArray<Child>
  /** Clock times (ms) of the restarts still inside the intensity window. */
  readonly restartTimes: ReadonlyArray<number>
}

interface ChildExited {
  readonly incarnation: number
  readonly exit: Actor.ActorExit
}

const shouldRestart = (restart: RestartType, exit: Actor.ActorExit): boolean => {
  switch (restart) {
    case "permanent":
      return true
    case "transient":
      return exit._tag === "Failed"
    case "temporary":
      return false
  }
}

const causeOf = (exit: Actor.ActorExit): Cause.Cause<unknown> => {
  switch (exit._tag) {
    case "Failed":
      return exit.cause
    case "Interrupted":
      return Cause.interrupt(FiberId.none)
    case "Normal":
      return Cause.empty
  }
}

const stopAndAwait = (incarnation: Incarnation): Effect.Effect<Actor.ActorExit> =>
  Effect.zipRight(incarnation.stop, incarnation.await)

/** A supervisor whose children live until the current Scope closes, it is shut down, or it escalates. */
export const make = (options: SupervisorOptions): Effect.Effect<Supervisor, never, Scope.Scope> =>
  Effect.gen(function* () {
    const name = options.name ?? "supervisor"
    const periodMillis = Duration.toMillis(Duration.decode(options.period))
    const scope = yield* Effect.scope
    const childrenScope = yield* Scope.fork(scope, ExecutionStrategy.sequential)
    // Unbounded so a child's exit hook never blocks, even while the supervisor waits for that child to stop.
    const events = yield* Queue.unbounded<ChildExited>()
    const done = yield* Deferred.make<void, SupervisorEscalation>()
    // Every change to the children goes through this lock, so restarts, starts and stops never interleave.
    const state = yield* SynchronizedRef.make<SupervisorState>({
      open: true,
      nextId: 0,
      children: [],
      restartTimes: [],
    })

    const notify = (incarnation: number) => (exit: Actor.ActorExit) =>
      Queue.offer(events, { incarnation, exit })

    const restarted = (child: Child, exit: Actor.ActorExit) =>
      options.onRestart === undefined
        ? Effect.void
        : options.onRestart({ key: child.key, cause: causeOf(exit), restarts: child.restarts + 1 })

    const restartAll = (s: SupervisorState, failed: Child): Effect.Effect<SupervisorState> =>
      Effect.gen(function* () {
        // OTP order: stop the others last-started first, then start every child again in start order.
        const others = s.children.filter((c) => c.id !== failed.id)
        const exits = new Map<number, Actor.ActorExit>()
        for (const c of [...others].reverse()) exits.set(c.id, yield* stopAndAwait(c.current))
        let nextId = s.nextId
        const children: Array<Child> = []
        for (const c of s.children) {
          // A temporary sibling is not restarted even when a sibling's crash is what stopped it.
          if (c.restart === "temporary" && c.id !== failed.id) {
            yield* c.retire(exits.get(c.id) ?? Actor.Normal)
            continue
          }
          const current = yield* c.spawn(nextId++)
          children.push({ ...c, current, restarts: c.restarts + 1 })
        }
        return { ...s, nextId, children }
      })

    const restartContained = (
      s: SupervisorState,
      child: Child,
      giveUp: (gaveUp: GaveUp) => Effect.Effect<void>,
      exit: Actor.ActorExit,
      now: number,
    ) =>
      Effect.gen(function* () {
        const restartTimes = [...child.restartTimes.filter((t) => now - t < periodMillis), now]
        if (restartTimes.length > options.intensity) {
          // Before the retirement: whoever waits for the child's end must find what giving up did.
          const restarts = restartTimes.length - 1
          yield* giveUp({ key: child.key, cause: causeOf(exit), restarts, periodMillis }).pipe(
            Effect.catchAllCause((cause) => Effect.logError(`giving up on "${child.key}" failed`, cause)),
          )
          yield* child.retire(exit)
          return [undefined, { ...s, children: s.children.filter((c) => c.id !== child.id) }] as const
        }
        const current = yield* child.spawn(s.nextId)
        yield* restarted(child, exit)
        const children = s.children.map((c) =>
          c.id === child.id ? { ...c, current, restarts: c.restarts + 1, restartTimes } : c,
        )
        return [undefined, { ...s, nextId: s.nextId + 1, children }] as const
      })

    const onChildExited = (event: ChildExited) => (s: SupervisorState) =>
      Effect.gen(function* () {
        // Exits of incarnations the supervisor replaced or stopped itself are stale: ignore them.
        const child = s.children.find((c) => c.current.id === event.incarnation)
        if (!s.open || child === undefined) return [undefined, s] as const
        if (!shouldRestart(child.restart, event.exit)) {
          yield* child.retire(event.exit)
          return [undefined, { ...s, children: s.children.filter((c) => c.id !== child.id) }] as const
        }
        const now = yield* Clock.currentTimeMillis
        if (child.giveUp !== undefined)
          return yield* restartContained(s, child, child.giveUp, event.exit, now)
        const restartTimes = [...s.restartTimes.filter((t) => now - t < periodMillis), now]
        if (restartTimes.length > options.intensity) {
          return yield* new SupervisorEscalation({
            supervisor: name,
            key: child.key,
            intensity: options.intensity,
            periodMillis,
            cause: causeOf(event.exit),
          })
        }
        if (options.strategy === "one_for_all") {
          const all = yield* restartAll({ ...s, restartTimes }, child)
          yield* restarted(child, event.exit)
          return [undefined, all] as const
        }
        const current = yield* child.spawn(s.nextId)
        yield* restarted(child, event.exit)
        const children = s.children.map((c) =>
          c.id === child.id ? { ...c, current, restarts: c.restarts + 1 } : c,
        )
        return [undefined, { ...s, nextId: s.nextId + 1, children, restartTimes }] as const
      })

    const stopChildren = SynchronizedRef.updateEffect(state, (s) =>
      Effect.gen(function* () {
        const stopOne = (c: Child) => Effect.flatMap(stopAndAwait(c.current), c.retire)
        yield* Effect.forEach([...s.children].reverse(), stopOne, {
          concurrency: options.stopAtOnce === true ? "unbounded" : 1,
          discard: true,
        })
        return { ...s, open: false, children: [] }
      }),
    ).pipe(
      // Anything started by a restart that was cut short is still owned by this scope.
      Effect.zipRight(Scope.close(childrenScope, Exit.void)),
      Effect.uninterruptible,
    )

    const loop = Queue.take(events).pipe(
      Effect.flatMap((event) => SynchronizedRef.modifyEffect(state, onChildExited(event))),
      Effect.forever,
      Effect.catchAll((escalation) =>
        stopChildren.pipe(Effect.zipRight(Deferred.fail(done, escalation)), Effect.uninterruptible),
      ),
    )
    const loopFiber = yield* Effect.forkIn(loop, scope)

    // Stop the loop first: it may be half-way through a restart, and must not take the lock from us. Children
    // it had spawned but not yet recorded are still in childrenScope, which stopChildren closes.
    const shutdown: Effect.Effect<void> = Fiber.interrupt(loopFiber).pipe(
      Effect.zipRight(stopChildren),
      Effect.zipRight(Deferred.succeed(done, undefined)),
      Effect.asVoid,
      Effect.uninterruptible,
    )
    // Added after the loop was forked, so it runs before the scope interrupts the loop on its own.
    yield* Effect.addFinalizer(() => shutdown)

    const removeChild = (key: string, only?: number): Effect.Effect<void, ActorNotFound> =>
      SynchronizedRef.modifyEffect(state, (s) =>
        Effect.gen(function* () {
          const child = s.children.find((c) => c.key === key && (only === undefined || c.id === only))
          if (child === undefined) return yield* new ActorNotFound({ key })
          yield* child.retire(yield* stopAndAwait(child.current))
          return [undefined, { ...s, children: s.children.filter((c) => c.id !== child.id) }] as const
        }),
      ).pipe(Effect.uninterruptible)

    const startChild = <Msg extends Actor.Message, State, E, R>(
      child: ChildSpec<Msg, State, E, R>,
    ): Effect.Effect<Actor.ActorRef<Msg>, ActorAlreadyExists | SupervisorStopped, Exclude<R, Scope.Scope>> =>
      Effect.gen(function* () {
        const context = yield* Effect.context<Exclude<R, Scope.Scope>>()
        const key = child.key
        const current = yield* Ref.make(Option.none<Actor.ActorRef<Msg>>())
        const final = yield* Deferred.make<Actor.ActorExit>()

        const spawn = (id: number): Effect.Effect<Incarnation> =>
          Actor.spawnIn(child.spec, childrenScope, { key, onExit: notify(id) }).pipe(
            Effect.tap((ref) => Ref.set(current, Option.some(ref))),
            Effect.map((ref) => ({ id, stop: ref.stop, await: ref.await, poll: ref.poll })),
            Effect.provide(context),
          )
        const retire = (exit: Actor.ActorExit) =>
          Ref.set(current, Option.none()).pipe(Effect.zipRight(Deferred.succeed(final, exit)), Effect.asVoid)

        const withCurrent = <A, E2>(
          f: (ref: Actor.ActorRef<Msg>) => Effect.Effect<A, E2 | Actor.ActorStopped>,
        ): Effect.Effect<A, E2 | Actor.ActorStopped> =>
          Effect.flatMap(
            Ref.get(current),
            Option.match({ onNone: () => Effect.fail(new Actor.ActorStopped({ key })), onSome: f }),
          )

        const id = yield* SynchronizedRef.modifyEffect(state, (s) =>
          Effect.gen(function* () {
            if (!s.open) return yield* new SupervisorStopped({ supervisor: name })
            if (s.children.some((c) => c.key === key)) return yield* new ActorAlreadyExists({ key })
            const incarnation = yield* spawn(s.nextId + 1)
            const entry: Child = {
              id: s.nextId,
              key,
              restart: child.restart,
              restarts: 0,
              giveUp: child.giveUp,
              describe: child.children,
              restartTimes: [],
              current: incarnation,
              spawn,
              retire,
            }
            return [entry.id, { ...s, nextId: s.nextId + 2, children: [...s.children, entry] }] as const
          }),
        )

        const ref: Actor.ActorRef<Msg> = {
          key,
          tell: (msg) => withCurrent((r) => r.tell(msg)),
          ask: (makeMsg) => withCurrent((r) => r.ask(makeMsg)),
          // Already gone is exactly what stop asks for, so ActorNotFound is not an error here.
          stop: Effect.catchTag(removeChild(key, id), "ActorNotFound", () => Effect.void),
          await: Deferred.await(final),
          poll: Deferred.poll(final).pipe(
            Effect.flatMap(Option.match({ onNone: () => Effect.succeedNone, onSome: Effect.asSome })),
          ),
        }
        return ref
      })

    const children: Effect.Effect<ReadonlyArray<ChildInfo>> = SynchronizedRef.get(state).pipe(
      Effect.flatMap((s) =>
        Effect.forEach(s.children, (c) =>
          Effect.gen(function* () {
            const running = Option.isNone(yield* c.current.poll)
            const info: ChildInfo = { key: c.key, restart: c.restart, restarts: c.restarts, running }
            return c.describe === undefined ? info : { ...info, children: yield* c.describe }
          }),
        ),
      ),
    )

    return {
      name,
      startChild,
      stopChild: (key: string) => removeChild(key),
      children,
      await: Deferred.await(done),
      shutdown,
    } satisfies Supervisor
  })

/**
 * A supervisor packaged as an actor, so it can be the child of another supervisor: its escalation is this
 * child's failure, which the parent restarts (re-running `setup`) or escalates in turn.
 */
export const asChild = <E, R>(
  options: SupervisorOptions,
  setup: (supervisor: Supervisor) => Effect.Effect<void, E, R>,
): Actor.ActorSpec<never, never, E | SupervisorEscalation, R | Scope.Scope> =>
  Actor.make({
    init: Effect.gen(function* () {
      const supervisor = yield* make(options)
      yield* setup(supervisor)
      yield* supervisor.await
      // The supervisor only ends cleanly when this actor's scope closes, which interrupts us first.
      return yield* Effect.never
    }),
    receive: (state: never) => Effect.succeed(state),
    mailboxSize: 1,
  })
