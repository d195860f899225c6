// src/layers/TestRuns.ts — gate runs per work item on this node: one run at a time per item (a second
// request joins the running one instead of starting another), and the last result kept for
// get_test_result. Used by the run_tests tool and, later, by StoryActor after a coder exits.
import { Context, Deferred, Effect, Exit, FiberId, Layer, Ref } from "effect"
import { type GateResult, type GateSpawnError, runGate, type GateSpec } from "./Gates.js"

export interface TestRunsShape {
  /** Runs `spec` for `key`, or joins the run already going for it; `joined` says which. */
  readonly run: (
    key: string,
    spec: GateSpec,
  ) => Effect.Effect<{ readonly result: GateResult; readonly joined: boolean }, GateSpawnError>
  readonly last: (key: string) => Effect.Effect<GateResult | undefined>
  readonly running: (key: string) => Effect.Effect<boolean>
}

export class TestRuns extends Context.Tag("huskies/TestRuns")<TestRuns, TestRunsShape>() {}

export const TestRunsLive = Layer.effect(
  TestRuns,
  Effect.gen(function* () {
    const inFlight = yield* Ref.make(new Map<string, Deferred.Deferred<GateResult, GateSpawnError>>())
    const results = yield* Ref.make(new Map<string, GateResult>())

    const run: TestRunsShape["run"] = (key, spec) =>
      Effect.gen(function* () {
        const fresh = yield* Deferred.make<GateResult, GateSpawnError>()
        // Claim the slot atomically: whoever finds it taken joins that run.
        const existing = yield* Ref.modify(inFlight, (map) => {
          const current = map.get(key)
          if (current !== undefined) return [current, map] as const
          return [undefined, new Map(map).set(key, fresh)] as const
        })
        if (existing !== undefined) {
          const joined = yield* Effect.exit(Deferred.await(existing))
          // The run it joined was stopped (its owner was, by stop_agent or a shutdown): run it anew.
          if (Exit.isInterrupted(joined)) return yield* run(key, spec)
          return { result: yield* joined, joined: true }
        }
        const settle = (outcome: Exit.Exit<GateResult, GateSpawnError>) =>
          Deferred.done(fresh, outcome).pipe(
            Effect.zipRight(
              Ref.update(inFlight, (map) => {
                if (map.get(key) !== fresh) return map
                const next = new Map(map)
                next.delete(key)
                return next
              }),
            ),
          )
        // Interrupted too, it settles: a run left in flight would hold every later run of the item (the
        // next gates, run_tests) waiting for ever.
        const outcome = yield* Effect.uninterruptibleMask((restore) =>
          restore(
            runGate(spec).pipe(
              Effect.tap((result) => Ref.update(results, (map) => new Map(map).set(key, result))),
              Effect.exit,
            ),
          ).pipe(
            Effect.onInterrupt((ids) => settle(Exit.interrupt(FiberId.combineAll(ids)))),
            Effect.tap(settle),
          ),
        )
        return { result: yield* outcome, joined: false }
      })

    return {
      run,
      last: (key) => Ref.get(results).pipe(Effect.map((map) => map.get(key))),
      running: (key) => Ref.get(inFlight).pipe(Effect.map((map) => map.has(key))),
    } satisfies TestRunsShape
  }),
)
