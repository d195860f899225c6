// src/actors/AgentSlots.ts — this node's pool of configured agents, an actor with a typed mailbox: story work
// and mergemaster sessions lease an agent for a run, given back when the lease's scope closes. Requests wait
// in order; one that cannot be served (pinned agent busy) does not hold up the rest. Made by the Scheduler.
import { Clock, Deferred, Effect, Exit, Option, Schema, type Scope } from "effect"
import type { AgentConfig, Concurrency } from "../domain/Config.js"
import { type AgentRequest, assignAgent, type BusyAgent } from "../domain/assign.js"
import * as Actor from "./Actor.js"

export class NoAgentAvailable extends Schema.TaggedError<NoAgentAvailable>()("NoAgentAvailable", {
  storyId: Schema.String,
  why: Schema.String,
}) {
  override get message(): string {
    return `no agent can work on ${this.storyId}: ${this.why}`
  }
}

export interface Waiting {
  readonly request: AgentRequest
  /** Why it waits, as of the last attempt to serve it. */
  readonly why: string
  readonly since: number
}

/** What the pool holds now: the answer to a Status ask. */
export interface PoolStatus {
  readonly agents: ReadonlyArray<AgentConfig>
  readonly busy: ReadonlyArray<BusyAgent>
  readonly waiting: ReadonlyArray<Waiting>
}

type Grant = Deferred.Deferred<AgentConfig, NoAgentAvailable>

// Replies and payloads never leave the process: declared by shape, like Actor.Reply.
const Payload = <A>() => Schema.declare((u: unknown): u is A => typeof u === "object" && u !== null)

/**
 * The pool's mailbox. Acquire queues a request whose grant is its reply; Withdraw takes a request back (an
 * interrupted or refused wait), giving back a grant that raced in; Release ends a lease; TryAcquire is served
 * now or not at all, and Untry gives back what it got when its asker was interrupted before the answer;
 * Configure replaces the agents and limits; Status asks what the pool holds.
 */
export const SlotsMsg = Schema.Union(
  Schema.TaggedStruct("Acquire", {
    request: Payload<AgentRequest>(),
    since: Schema.Number,
    granted: Actor.Reply<AgentConfig, NoAgentAvailable>(),
  }),
  Schema.TaggedStruct("Withdraw", {
    request: Payload<AgentRequest>(),
    granted: Actor.Reply<AgentConfig, NoAgentAvailable>(),
  }),
  Schema.TaggedStruct("Release", { agent: Schema.String, storyId: Schema.String }),
  Schema.TaggedStruct("TryAcquire", {
    request: Payload<AgentRequest>(),
    reply: Actor.Reply<Option.Option<AgentConfig>, NoAgentAvailable>(),
  }),
  Schema.TaggedStruct("Untry", {
    request: Payload<AgentRequest>(),
    reply: Actor.Reply<Option.Option<AgentConfig>, NoAgentAvailable>(),
  }),
  Schema.TaggedStruct("Configure", {
    agents: Payload<ReadonlyArray<AgentConfig>>(),
    concurrency: Payload<Concurrency>(),
  }),
  Schema.TaggedStruct("Status", { reply: Actor.Reply<PoolStatus>() }),
)
export type SlotsMsg = typeof SlotsMsg.Type

interface Waiter extends Waiting {
  readonly granted: Grant
}

interface PoolState {
  readonly agents: ReadonlyArray<AgentConfig>
  readonly concurrency: Concurrency
  readonly busy: ReadonlyArray<BusyAgent>
  readonly waiters: ReadonlyArray<Waiter>
}

export interface AgentSlots {
  /** Waits for an agent for `request`; it is given back when the current scope closes. */
  readonly acquire: (request: AgentRequest) => Effect.Effect<AgentConfig, NoAgentAvailable, Scope.Scope>
  /** An agent now, or None if every suitable one is busy (never waits, never jumps the queue). */
  readonly tryAcquire: (
    request: AgentRequest,
  ) => Effect.Effect<Option.Option<AgentConfig>, NoAgentAvailable, Scope.Scope>
  /** Replaces the agents and limits (config reloaded); running leases are kept. */
  readonly configure: (agents: ReadonlyArray<AgentConfig>, concurrency: Concurrency) => Effect.Effect<void>
  readonly busy: Effect.Effect<ReadonlyArray<BusyAgent>>
  readonly waiting: Effect.Effect<ReadonlyArray<Waiting>>
  readonly agents: Effect.Effect<ReadonlyArray<AgentConfig>>
}

const lease = (request: AgentRequest, agent: AgentConfig): BusyAgent => ({
  agent: agent.name,
  role: request.role,
  storyId: request.storyId,
})

/**
 * Serves waiters in order; each grant is visible to the next decision, so nobody is double-booked. Pure: the
 * grants (and refusals) to give are returned with the new state, and the actor gives them.
 */
const serveWaiters = (s: PoolState): readonly [ReadonlyArray<Effect.Effect<boolean>>, PoolState] => {
  let busy = s.busy
  const grants: Array<Effect.Effect<boolean>> = []
  const waiters: Array<Waiter> = []
  for (const waiter of s.waiters) {
    const decision = assignAgent(s.agents, s.concurrency, busy, waiter.request)
    if (decision._tag === "Assigned") {
      busy = [...busy, lease(waiter.request, decision.agent)]
      grants.push(Deferred.succeed(waiter.granted, decision.agent))
    } else if (decision._tag === "Impossible") {
      const refused = new NoAgentAvailable({ storyId: waiter.request.storyId, why: decision.why })
      grants.push(Deferred.fail(waiter.granted, refused))
    } else waiters.push({ ...waiter, why: decision.why })
  }
  return [grants, { ...s, busy, waiters }]
}

const served = (s: PoolState): Effect.Effect<PoolState> => {
  const [grants, next] = serveWaiters(s)
  return Effect.as(Effect.all(grants, { discard: true }), next)
}

const withoutLease = (s: PoolState, agent: string, storyId: string): PoolState => ({
  ...s,
  busy: s.busy.filter((b) => !(b.agent === agent && b.storyId === storyId)),
})

/** Serves `request` now or not at all, never ahead of a request of the same role already waiting its turn. */
const tryNow = (
  s: PoolState,
  request: AgentRequest,
  reply: Deferred.Deferred<Option.Option<AgentConfig>, NoAgentAvailable>,
): Effect.Effect<PoolState> => {
  const queued = s.waiters.some((w) => w.request.role === request.role)
  const decision = queued
    ? ({ _tag: "Wait", why: "queued" } as const)
    : assignAgent(s.agents, s.concurrency, s.busy, request)
  switch (decision._tag) {
    case "Impossible":
      return Effect.as(
        Deferred.fail(reply, new NoAgentAvailable({ storyId: request.storyId, why: decision.why })),
        s,
      )
    case "Wait":
      return Effect.as(Deferred.succeed(reply, Option.none()), s)
    case "Assigned":
      return Effect.as(Deferred.succeed(reply, Option.some(decision.agent)), {
        ...s,
        busy: [...s.busy, lease(request, decision.agent)],
      })
  }
}

const receive = (s: PoolState, msg: SlotsMsg): Effect.Effect<PoolState> => {
  switch (msg._tag) {
    case "Acquire": {
      const waiter: Waiter = { request: msg.request, why: "queued", since: msg.since, granted: msg.granted }
      return served({ ...s, waiters: [...s.waiters, waiter] })
    }
    case "Withdraw":
      return Effect.gen(function* () {
        if (s.waiters.some((w) => w.granted === msg.granted))
          return { ...s, waiters: s.waiters.filter((w) => w.granted !== msg.granted) }
        // Granted before the withdrawal arrived: the requester will not use it, so it is given back here.
        const raced = yield* Deferred.poll(msg.granted)
        if (Option.isNone(raced)) return s
        const agent = yield* Effect.exit(raced.value)
        if (Exit.isFailure(agent)) return s
        return yield* served(withoutLease(s, agent.value.name, msg.request.storyId))
      })
    case "Release":
      return served(withoutLease(s, msg.agent, msg.storyId))
    case "Untry":
      // Handled after the TryAcquire it follows, so its answer is known here.
      return Effect.flatMap(Deferred.poll(msg.reply), (answered) =>
        Option.isNone(answered)
          ? Effect.succeed(s)
          : Effect.flatMap(Effect.option(answered.value), (agent) =>
              Option.isSome(agent) && Option.isSome(agent.value)
                ? served(withoutLease(s, agent.value.value.name, msg.request.storyId))
                : Effect.succeed(s),
            ),
      )
    case "TryAcquire":
      return tryNow(s, msg.request, msg.reply)
    case "Configure":
      return served({ ...s, agents: msg.agents, concurrency: msg.concurrency })
    case "Status":
      return Effect.as(
        Deferred.succeed(msg.reply, {
          agents: s.agents,
          busy: s.busy,
          waiting: s.waiters.map(({ request, why, since }) => ({ request, why, since })),
        }),
        s,
      )
  }
}

/** The pool's actor, in the current Scope: it ends with it (the Scheduler's, so after every story actor). */
export const makeAgentSlots = (
  agents: ReadonlyArray<AgentConfig>,
  concurrency: Concurrency,
): Effect.Effect<AgentSlots, never, Scope.Scope> =>
  Effect.gen(function* () {
    const pool = yield* Actor.spawn(
      Actor.make<SlotsMsg, PoolState>({
        init: Effect.succeed({ agents, concurrency, busy: [], waiters: [] }),
        receive,
        // Every story actor may have a request queued and a lease to give back at once.
        mailboxSize: 1024,
      }),
      { key: "agent-slots" },
    )
    // The pool stops only when the Scheduler's scope closes, after the story actors that lease from it.
    const stopped = (storyId: string) =>
      new NoAgentAvailable({
        storyId,
        why: "this node's agent pool has stopped (the server is shutting down)",
      })
    // A lease to give back to a pool that has stopped has nobody left to take it: losing it is correct.
    const release = (agent: string, storyId: string) =>
      pool.tell({ _tag: "Release", agent, storyId }).pipe(Effect.catchTag("ActorStopped", () => Effect.void))
    const status = pool
      .ask<PoolStatus>((reply) => ({ _tag: "Status", reply }))
      .pipe(
        Effect.catchTag("ActorStopped", () =>
          Effect.succeed<PoolStatus>({ agents: [], busy: [], waiting: [] }),
        ),
      )

    /** The pool's answer; a refusal if it stops first (an answer given just before still wins). */
    const answer = <A>(reply: Deferred.Deferred<A, NoAgentAvailable>, storyId: string) =>
      Effect.raceFirst(
        Deferred.await(reply),
        pool.await.pipe(
          Effect.zipRight(Deferred.poll(reply)),
          Effect.flatMap(Option.getOrElse(() => Effect.fail(stopped(storyId)))),
        ),
      )

    const acquire = (request: AgentRequest) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const granted = yield* Deferred.make<AgentConfig, NoAgentAvailable>()
          const since = yield* Clock.currentTimeMillis
          yield* pool
            .tell({ _tag: "Acquire", request, since, granted })
            .pipe(Effect.catchTag("ActorStopped", () => Effect.fail(stopped(request.storyId))))
          const got = yield* Effect.exit(restore(answer(granted, request.storyId)))
          if (Exit.isSuccess(got)) {
            // Registered before interruption is let back in, so a granted agent is always given back.
            yield* Effect.addFinalizer(() => release(got.value.name, request.storyId))
            return got.value
          }
          // Interrupted or refused while queued: the pool takes the request back, and a grant that raced in.
          // A pool that has stopped holds nothing to take back, so its ActorStopped is lost on purpose.
          yield* pool.tell({ _tag: "Withdraw", request, granted }).pipe(Effect.ignore)
          return yield* got
        }),
      )

    const tryAcquire = (request: AgentRequest) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const reply = yield* Deferred.make<Option.Option<AgentConfig>, NoAgentAvailable>()
          yield* pool
            .tell({ _tag: "TryAcquire", request, reply })
            .pipe(Effect.catchTag("ActorStopped", () => Effect.fail(stopped(request.storyId))))
          const got = yield* Effect.exit(restore(answer(reply, request.storyId)))
          if (Exit.isSuccess(got)) {
            const agent = got.value
            if (Option.isSome(agent))
              yield* Effect.addFinalizer(() => release(agent.value.name, request.storyId))
            return agent
          }
          // Interrupted before the answer came: the pool gives back what it may have granted (a pool that
          // has stopped holds nothing, so its ActorStopped is lost on purpose).
          yield* pool.tell({ _tag: "Untry", request, reply }).pipe(Effect.ignore)
          return yield* got
        }),
      )

    return {
      acquire,
      tryAcquire,
      configure: (agents, concurrency) =>
        pool
          .tell({ _tag: "Configure", agents, concurrency })
          // Only while the server shuts down: no request is served any more, whatever the config says.
          .pipe(Effect.catchTag("ActorStopped", () => Effect.void)),
      busy: Effect.map(status, (s) => s.busy),
      waiting: Effect.map(status, (s) => s.waiting),
      agents: Effect.map(status, (s) => s.agents),
    } satisfies AgentSlots
  })
