// src/actors/Actor.ts — the actor primitive: a fiber with a bounded typed mailbox, private state and its own
// Scope, reached through an ActorRef (tell/ask). Registry, Supervisor and every actor in src/actors build on it.
import {
  Cause,
  Deferred,
  Effect,
  Equal,
  ExecutionStrategy,
  Exit,
  Fiber,
  Option,
  Predicate,
  Queue,
  Ref,
  Schema,
  Scope,
} from "effect"

/** Every message is a member of a tagged union, so `receive` can match exhaustively on `_tag`. */
export interface Message {
  readonly _tag: string
}

export class ActorStopped extends Schema.TaggedError<ActorStopped>()("ActorStopped", {
  key: Schema.String,
}) {
  override get message(): string {
    return `actor "${this.key}" has stopped and cannot take messages; look it up again (its supervisor may have restarted it) or start a new one`
  }
}

/**
 * A reply slot for a request message, so message unions can be declared with Schema
 * (`Schema.TaggedStruct("Get", { reply: Actor.Reply<number>() })`). Only the Deferred-ness is checked at
 * runtime: replies never cross a process boundary, so the type parameters are a promise made by the caller.
 */
export const Reply = <A, E = never>() =>
  Schema.declare(
    (u: unknown): u is Deferred.Deferred<A, E> => Predicate.hasProperty(u, Deferred.DeferredTypeId),
    {
      identifier: "Reply",
    },
  )

const StoppedTypeId: unique symbol = Symbol.for("huskies/actors/Actor/Stopped")

/** Returned by `receive` instead of a new state to end the actor normally (not a failure: no restart for transient children). */
export interface Stopped {
  readonly [StoppedTypeId]: typeof StoppedTypeId
}

export const stopped: Stopped = { [StoppedTypeId]: StoppedTypeId }

const isStopped = (u: unknown): u is Stopped => Predicate.hasProperty(u, StoppedTypeId)

/** How an actor ended. `Normal`: it returned `stopped` or someone called `stop`; `Interrupted`: its owning scope closed. */
export type ActorExit =
  | { readonly _tag: "Normal" }
  | { readonly _tag: "Failed"; readonly cause: Cause.Cause<unknown> }
  | { readonly _tag: "Interrupted" }

export const Normal: ActorExit = { _tag: "Normal" }
export const Interrupted: ActorExit = { _tag: "Interrupted" }
export const Failed = (cause: Cause.Cause<unknown>): ActorExit => ({ _tag: "Failed", cause })

export interface ActorSpec<Msg extends Message, State, E = never, R = never> {
  /**
   * Builds the initial state; re-run on every restart, which is how a restarted actor re-reads the Store.
   * Resources acquired here or in `receive` (`Effect.acquireRelease`) belong to the actor's own Scope.
   * The function form receives the actor's own ref, for timers and children that message it back.
   */
  readonly init: Effect.Effect<State, E, R> | ((self: ActorRef<Msg>) => Effect.Effect<State, E, R>)
  /** Handles one message at a time; a failure or defect ends the actor (its supervisor decides what next). */
  readonly receive: (state: State, msg: Msg) => Effect.Effect<State | Stopped, E, R>
  /** Capacity of the mailbox; `tell` suspends while it is full, so a slow actor slows its senders down. */
  readonly mailboxSize: number
}

export interface ActorRef<Msg> {
  readonly key: string
  /** Enqueues a message, waiting while the mailbox is full; fails with ActorStopped once the actor has ended. */
  readonly tell: (msg: Msg) => Effect.Effect<void, ActorStopped>
  /**
   * Sends a request carrying a fresh reply Deferred and waits for the answer. If the actor ends before
   * answering (stopped, crashed, interrupted, or the message was still queued) the result is ActorStopped.
   * Usage: `ref.ask<number>((reply) => ({ _tag: "Get", reply }))`.
   */
  readonly ask: <A, E = never>(
    make: (reply: Deferred.Deferred<A, E>) => Msg,
  ) => Effect.Effect<A, E | ActorStopped>
  /** Interrupts the actor, waits until its finalizers have run, and records the exit as Normal. */
  readonly stop: Effect.Effect<void>
  /** Waits for the actor to end; resolves only after its finalizers have run. */
  readonly await: Effect.Effect<ActorExit>
  /** The exit if the actor has ended, None while it runs. */
  readonly poll: Effect.Effect<Option.Option<ActorExit>>
}

export const make = <Msg extends Message, State, E = never, R = never>(
  spec: ActorSpec<Msg, State, E, R>,
): ActorSpec<Msg, State, E, R> => spec

export interface SpawnOptions {
  /** Names the actor in errors and logs; registries and supervisors pass their key. */
  readonly key?: string
  /**
   * Runs in the actor's fiber after its finalizers and before `await` resolves; it is how a supervisor
   * learns of an exit without a watcher fiber per child. It must not block.
   */
  readonly onExit?: (exit: ActorExit) => Effect.Effect<void>
}

/** Starts an actor whose fiber belongs to `scope`: closing that scope interrupts it and runs its finalizers. */
export const spawnIn = <Msg extends Message, State, E, R>(
  spec: ActorSpec<Msg, State, E, R>,
  scope: Scope.Scope,
  options: SpawnOptions = {},
): Effect.Effect<ActorRef<Msg>, never, Exclude<R, Scope.Scope>> =>
  Effect.gen(function* () {
    const key = options.key ?? "actor"
    const onExit = options.onExit
    // Made when a message finds the actor gone, not with every actor: an error captures its stack.
    const failStopped = Effect.failSync(() => new ActorStopped({ key }))
    const mailbox = yield* Queue.bounded<Msg>(spec.mailboxSize)
    const done = yield* Deferred.make<ActorExit>()
    const fiberHandle = yield* Deferred.make<Fiber.RuntimeFiber<void, unknown>>()
    const stopRequested = yield* Ref.make(false)

    // The mailbox is shut down when the actor ends; offers then fail with an interruption (immediately, or
    // for a sender blocked on a full mailbox, when the shutdown wakes it), which becomes ActorStopped here.
    // An interruption of the sender itself never reaches this handler: Effect skips handlers when interrupted.
    const tell = (msg: Msg): Effect.Effect<void, ActorStopped> =>
      Queue.offer(mailbox, msg).pipe(
        Effect.asVoid,
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause) ? failStopped : Effect.failCause(cause),
        ),
      )

    const ask = <A, E2 = never>(
      makeMsg: (reply: Deferred.Deferred<A, E2>) => Msg,
    ): Effect.Effect<A, E2 | ActorStopped> =>
      Effect.gen(function* () {
        const reply = yield* Deferred.make<A, E2>()
        yield* tell(makeMsg(reply))
        // A reply given just before the actor ended still wins over ActorStopped.
        const whenEnded: Effect.Effect<A, E2 | ActorStopped> = Deferred.await(done).pipe(
          Effect.zipRight(Deferred.poll(reply)),
          Effect.flatMap(
            Option.match({
              onNone: (): Effect.Effect<A, E2 | ActorStopped> => failStopped,
              onSome: (answer) => answer,
            }),
          ),
        )
        return yield* Effect.raceFirst(Deferred.await(reply), whenEnded)
      })

    const stop: Effect.Effect<void> = Ref.set(stopRequested, true).pipe(
      Effect.zipRight(Deferred.await(fiberHandle)),
      Effect.flatMap(Fiber.interrupt),
      Effect.asVoid,
    )

    const self: ActorRef<Msg> = {
      key,
      tell,
      ask,
      stop,
      await: Deferred.await(done),
      poll: Deferred.poll(done).pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.succeedNone,
            onSome: (exit) => Effect.asSome(exit),
          }),
        ),
      ),
    }

    const behaviour: Effect.Effect<void, E, R> = Effect.gen(function* () {
      let state = yield* Effect.isEffect(spec.init) ? spec.init : spec.init(self)
      while (true) {
        const msg = yield* Queue.take(mailbox)
        const next = yield* spec.receive(state, msg)
        if (isStopped(next)) return
        state = next
      }
    })

    const classify = (exit: Exit.Exit<void, E>): Effect.Effect<ActorExit> => {
      if (Exit.isSuccess(exit)) return Effect.succeed(Normal)
      if (!Cause.isInterruptedOnly(exit.cause)) return Effect.succeed(Failed(exit.cause))
      return Ref.get(stopRequested).pipe(Effect.map((requested) => (requested ? Normal : Interrupted)))
    }

    // Shutting the mailbox before the scope's finalizers run means senders learn of the end at once,
    // not after a slow release (killing a process) has finished.
    const run = Effect.interruptible(
      Effect.scoped(behaviour.pipe(Effect.ensuring(Queue.shutdown(mailbox)))),
    ).pipe(
      Effect.onExit((exit) =>
        Effect.gen(function* () {
          yield* Queue.shutdown(mailbox)
          const actorExit = yield* classify(exit)
          const notify = onExit === undefined ? Effect.void : onExit(actorExit)
          // `await` must resolve even if the hook is broken, or every asker would hang.
          yield* notify.pipe(Effect.ensuring(Deferred.succeed(done, actorExit)))
        }),
      ),
    )

    // Not Effect.forkIn: its fiber starts interruptible, so an interruption arriving before the first step
    // (a stop right after spawn, a scope closing) would skip the exit hook and leave `await` hanging. Forked
    // from an uninterruptible region, the fiber registers the hook before `run` lets interruption in.
    yield* Effect.uninterruptible(
      Effect.gen(function* () {
        const lifetime = yield* Scope.fork(scope, ExecutionStrategy.sequential)
        const fiber = yield* Effect.forkDaemon(Effect.ensuring(run, Scope.close(lifetime, Exit.void)))
        yield* Scope.addFinalizer(
          lifetime,
          Effect.fiberIdWith((closer) =>
            Equal.equals(closer, fiber.id()) ? Effect.void : Fiber.interrupt(fiber),
          ),
        )
        // Inside the same uninterruptible region, or `stop` could wait forever for a handle never given.
        yield* Deferred.succeed(fiberHandle, fiber)
      }),
    )
    return self
  })

/** Starts an actor owned by the current Scope. */
export const spawn = <Msg extends Message, State, E, R>(
  spec: ActorSpec<Msg, State, E, R>,
  options: SpawnOptions = {},
): Effect.Effect<ActorRef<Msg>, never, Exclude<R, Scope.Scope> | Scope.Scope> =>
  Effect.flatMap(Effect.scope, (scope) => spawnIn(spec, scope, options))
