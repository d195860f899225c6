// test/actors/rootSupervisor.test.ts — the root of serve's tree on its own: children live as long as the
// scope of whoever started them; one that dies (an actor told to die, a loop that dies on a message) is
// restarted while its siblings keep their state; too many restarts stop every child, fail `await` and
// start nothing more; a nested supervisor that escalates is restarted empty, reached through the same
// Supervisor.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Queue, Ref, Scope } from "effect"
import { drawTree, type RootRestarts, ServeTree, ServeTreeLive } from "../../src/actors/rootSupervisor.js"
import { counter, get, makeLog, type Log } from "./counter.js"

const withTree = <A, E>(
  body: Effect.Effect<A, E, ServeTree | Scope.Scope>,
  restarts: RootRestarts = { intensity: 2, period: "1 minute" },
) => Effect.provide(body, ServeTreeLive(restarts))

const count = (log: Log, line: string) =>
  Effect.map(Ref.get(log), (lines) => lines.filter((l) => l === line).length)

describe("the root of serve's tree", () => {
  it.scoped("restarts the child that died, leaves its siblings alone, and gives up past the intensity", () =>
    withTree(
      Effect.gen(function* () {
        const tree = yield* ServeTree
        const log = yield* makeLog
        const inits = yield* Queue.unbounded<string>()
        const a = yield* tree.actor("a", counter({ name: "a", log, inits }))
        const b = yield* tree.actor("b", counter({ name: "b", log, inits }))
        // A loop that dies on the message it is given, and tells each start.
        const orders = yield* Queue.unbounded<"die">()
        yield* tree.loop(
          "loop",
          Effect.zipRight(
            Queue.offer(inits, "loop"),
            Effect.forever(Effect.flatMap(Queue.take(orders), () => Effect.dieMessage("told to die"))),
          ),
        )
        expect([...(yield* Queue.takeBetween(inits, 3, 3))].sort()).toEqual(["a", "b", "loop"])
        yield* b.tell({ _tag: "Add", n: 7 })

        yield* a.tell({ _tag: "Die" })
        expect(yield* Queue.take(inits)).toBe("a")
        yield* Queue.offer(orders, "die")
        expect(yield* Queue.take(inits)).toBe("loop")
        expect(yield* get(b)).toBe(7)
        expect(yield* tree.children).toEqual([
          { key: "a", restart: "permanent", restarts: 1, running: true },
          { key: "b", restart: "permanent", restarts: 0, running: true },
          { key: "loop", restart: "permanent", restarts: 1, running: true },
        ])

        // A third restart within the minute is one too many: every child stops, and the root says why.
        yield* a.tell({ _tag: "Die" })
        const gaveUp = yield* Effect.flip(tree.await)
        expect(gaveUp).toMatchObject({ _tag: "SupervisorEscalation", supervisor: "serve", key: "a" })
        expect(yield* count(log, "b released")).toBe(1)
        expect(yield* tree.children).toEqual([])
        // A part whose layer starts it now (the server was still starting) gets one that has ended.
        const late = yield* tree.actor("late", counter({ name: "late", log }))
        expect(yield* Effect.flip(late.tell({ _tag: "Add", n: 1 }))).toMatchObject({ _tag: "ActorStopped" })
        const lateSupervisor = yield* tree.supervisor("late-stories", {
          strategy: "one_for_one",
          intensity: 1,
          period: "1 minute",
        })
        const refused = yield* Effect.flip(
          lateSupervisor.startChild({ key: "x", restart: "permanent", spec: counter({ name: "x", log }) }),
        )
        expect(refused).toMatchObject({ _tag: "SupervisorStopped" })
        expect(yield* count(log, "late init")).toBe(0)
      }),
    ),
  )

  it.scoped("a child lives as long as the scope that started it, however long the root lives", () =>
    withTree(
      Effect.gen(function* () {
        const tree = yield* ServeTree
        const log = yield* makeLog
        const inits = yield* Queue.unbounded<string>()
        const owner = yield* Scope.make()
        yield* Scope.extend(tree.actor("owned", counter({ name: "owned", log, inits })), owner)
        yield* tree.actor("kept", counter({ name: "kept", log, inits }))
        yield* Queue.takeBetween(inits, 2, 2)
        expect((yield* tree.children).map((c) => c.key)).toEqual(["owned", "kept"])
        yield* Scope.close(owner, Exit.void)
        expect((yield* tree.children).map((c) => c.key)).toEqual(["kept"])
        expect(yield* count(log, "owned released")).toBe(1)
        expect(yield* count(log, "kept released")).toBe(0)
      }),
    ),
  )

  it.scoped(
    "a nested supervisor that escalates is restarted empty, and its Supervisor reaches the new one",
    () =>
      withTree(
        Effect.gen(function* () {
          const tree = yield* ServeTree
          const log = yield* makeLog
          const inits = yield* Queue.unbounded<string>()
          const inner = yield* tree.supervisor("inner", {
            strategy: "one_for_one",
            intensity: 0,
            period: "1 minute",
          })
          const x = yield* inner.startChild({
            key: "x",
            restart: "permanent",
            spec: counter({ name: "x", log, inits }),
          })
          expect(yield* Queue.take(inits)).toBe("x")
          expect(yield* tree.children).toEqual([
            {
              key: "inner",
              restart: "permanent",
              restarts: 0,
              running: true,
              children: [{ key: "x", restart: "permanent", restarts: 0, running: true }],
            },
          ])
          // No restart allowed inside: the inner supervisor gives up, and the root starts a fresh one.
          yield* x.tell({ _tag: "Die" })
          yield* x.await
          const y = yield* inner.startChild({
            key: "y",
            restart: "permanent",
            spec: counter({ name: "y", log, inits }),
          })
          expect(yield* Queue.take(inits)).toBe("y")
          yield* y.tell({ _tag: "Add", n: 2 })
          expect(yield* get(y)).toBe(2)
          const [drawn] = yield* tree.children
          expect(drawn).toMatchObject({ key: "inner", restarts: 1, running: true })
          expect(drawn?.children?.map((c) => c.key)).toEqual(["y"])
          expect(drawTree("serve", yield* tree.children)).toBe(
            ["serve", "└── inner (restarted 1×)", "    └── y"].join("\n"),
          )
        }),
      ),
  )
})
