// test/actors/counter.ts — a small counter actor shared by the actor runtime tests: it records its init and
// release in a log and can be told to crash, die, finish or block, so each test can drive one exit path.
import { Deferred, Effect, Queue, Ref, Schema, type Scope } from "effect"
import * as Actor from "../../src/actors/Actor.js"

export class Boom extends Schema.TaggedError<Boom>()("Boom", { by: Schema.String }) {}

export const Add = Schema.TaggedStruct("Add", { n: Schema.Number })
export const Get = Schema.TaggedStruct("Get", { reply: Actor.Reply<number>() })
export const Crash = Schema.TaggedStruct("Crash", {})
export const Die = Schema.TaggedStruct("Die", {})
export const Finish = Schema.TaggedStruct("Finish", {})
/** Signals `started`, then blocks the actor until `until` is completed: a way to keep the mailbox filling up. */
export const Hold = Schema.TaggedStruct("Hold", { started: Actor.Reply<void>(), until: Actor.Reply<void>() })
/** Acquires a resource inside `receive`; it must live until the actor ends, not until the message is done. */
export const Acquire = Schema.TaggedStruct("Acquire", { name: Schema.String })
export const CounterMsg = Schema.Union(Add, Get, Crash, Die, Finish, Hold, Acquire)
export type CounterMsg = typeof CounterMsg.Type

export type Log = Ref.Ref<ReadonlyArray<string>>

export const makeLog = Ref.make<ReadonlyArray<string>>([])

const record = (log: Log, line: string) => Ref.update(log, (lines) => [...lines, line])

export interface CounterOptions {
  readonly name: string
  readonly log: Log
  /** Receives the actor's name each time its init runs, so a test can wait for a (re)start. */
  readonly inits?: Queue.Queue<string>
  readonly mailboxSize?: number
}

export const counter = (options: CounterOptions) =>
  Actor.make({
    init: Effect.gen(function* () {
      yield* Effect.acquireRelease(record(options.log, `${options.name} init`), () =>
        record(options.log, `${options.name} released`),
      )
      if (options.inits !== undefined) yield* Queue.offer(options.inits, options.name)
      return 0
    }),
    receive: (n: number, msg: CounterMsg): Effect.Effect<number | Actor.Stopped, Boom, Scope.Scope> => {
      switch (msg._tag) {
        case "Add":
          return Effect.succeed(n + msg.n)
        case "Get":
          return Effect.as(Deferred.succeed(msg.reply, n), n)
        case "Crash":
          return Effect.fail(new Boom({ by: options.name }))
        case "Die":
          return Effect.die(`${options.name} hit a bug`)
        case "Finish":
          return Effect.succeed(Actor.stopped)
        case "Hold":
          return Deferred.succeed(msg.started, undefined).pipe(
            Effect.zipRight(Deferred.await(msg.until)),
            Effect.as(n),
          )
        case "Acquire":
          return Effect.acquireRelease(record(options.log, `${msg.name} acquired`), () =>
            record(options.log, `${msg.name} freed`),
          ).pipe(Effect.as(n))
      }
    },
    mailboxSize: options.mailboxSize ?? 16,
  })

export const get = (ref: Actor.ActorRef<CounterMsg>) => ref.ask<number>((reply) => ({ _tag: "Get", reply }))
