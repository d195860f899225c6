// src/actors/AgentSlots.ts — the pool of configured agents on this node: a StoryActor leases an agent
// for one run and gives it back when the lease's scope closes. Requests wait in order; a request that
// cannot be served (pinned agent busy) does not hold up the ones behind it. Used by Scheduler.
import { Clock, Deferred, Effect, Exit, Option, Ref, Schema, type Scope } from "effect"
import type { AgentConfig, Concurrency } from "../domain/Config.js"
import { type AgentRequest, assignAgent, type BusyAgent } from "../domain/assign.js"

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

interface Waiter extends Waiting {
  readonly granted: Deferred.Deferred<AgentConfig, NoAgentAvailable>
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

export const makeAgentSlots = (
  agents: ReadonlyArray<AgentConfig>,
  concurrency: Concurrency,
): Effect.Effect<AgentSlots> =>
  Effect.gen(function* () {
    const state = yield* Ref.make<PoolState>({ agents, concurrency, busy: [], waiters: [] })

    // Serves waiters in order; each grant is visible to the next decision, so nobody is double-booked.
    const serve = Effect.flatMap(
      Ref.modify(state, (s) => {
        let busy = s.busy
        const grants: Array<Effect.Effect<boolean>> = []
        const waiters: Array<Waiter> = []
        for (const waiter of s.waiters) {
          const decision = assignAgent(s.agents, s.concurrency, busy, waiter.request)
          if (decision._tag === "Assigned") {
            busy = [
              ...busy,
              { agent: decision.agent.name, role: waiter.request.role, storyId: waiter.request.storyId },
            ]
            grants.push(Deferred.succeed(waiter.granted, decision.agent))
          } else if (decision._tag === "Impossible") {
            grants.push(
              Deferred.fail(
                waiter.granted,
                new NoAgentAvailable({ storyId: waiter.request.storyId, why: decision.why }),
              ),
            )
          } else waiters.push({ ...waiter, why: decision.why })
        }
        return [grants, { ...s, busy, waiters }] as const
      }),
      (grants) => Effect.all(grants, { discard: true }),
    )

    const release = (agent: string, storyId: string) =>
      Ref.update(state, (s) => ({
        ...s,
        busy: s.busy.filter((b) => !(b.agent === agent && b.storyId === storyId)),
      })).pipe(Effect.zipRight(serve))

    const withdraw = (waiter: Waiter) =>
      Ref.update(state, (s) => ({ ...s, waiters: s.waiters.filter((w) => w.granted !== waiter.granted) }))

    const acquire = (request: AgentRequest) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const granted = yield* Deferred.make<AgentConfig, NoAgentAvailable>()
          const waiter: Waiter = { request, why: "queued", since: yield* Clock.currentTimeMillis, granted }
          yield* Ref.update(state, (s) => ({ ...s, waiters: [...s.waiters, waiter] }))
          yield* serve
          const got = yield* Effect.exit(restore(Deferred.await(granted)))
          if (Exit.isSuccess(got)) {
            // Registered before interruption is let back in, so a granted agent is always given back.
            yield* Effect.addFinalizer(() => release(got.value.name, request.storyId))
            return got.value
          }
          // Interrupted or refused while queued: leave the queue, and hand back a grant that raced in.
          yield* withdraw(waiter)
          const raced = yield* Deferred.poll(granted)
          if (Option.isSome(raced)) {
            const agent = yield* Effect.exit(raced.value)
            if (Exit.isSuccess(agent)) yield* release(agent.value.name, request.storyId)
          }
          return yield* got
        }),
      )

    const tryAcquire = (request: AgentRequest) =>
      Effect.gen(function* () {
        const s = yield* Ref.get(state)
        if (s.waiters.some((w) => w.request.role === request.role)) return Option.none<AgentConfig>()
        const decision = assignAgent(s.agents, s.concurrency, s.busy, request)
        if (decision._tag === "Impossible")
          return yield* new NoAgentAvailable({ storyId: request.storyId, why: decision.why })
        if (decision._tag === "Wait") return Option.none<AgentConfig>()
        return Option.some(yield* acquire(request))
      })

    return {
      acquire,
      tryAcquire,
      configure: (agents, concurrency) =>
        Ref.update(state, (s) => ({ ...s, agents, concurrency })).pipe(Effect.zipRight(serve)),
      busy: Effect.map(Ref.get(state), (s) => s.busy),
      waiting: Effect.map(Ref.get(state), (s) =>
        s.waiters.map(({ request, why, since }) => ({ request, why, since })),
      ),
      agents: Effect.map(Ref.get(state), (s) => s.agents),
    } satisfies AgentSlots
  })
