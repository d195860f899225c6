// src/actors/rootSupervisor.ts — the root of serve's supervision tree (ServeTree): a one_for_one supervisor
// of the server's long-lived parts, built first by serve.ts; the Scheduler, the merge queue and serve's sync
// and chat start their parts under it. Past its intensity it gives up, and serve stops cleanly (runServer).
import { Cause, Context, Duration, Effect, Layer, Scope } from "effect"
import * as Actor from "./Actor.js"
import { startNested, stoppedSupervisor } from "./nestedSupervisor.js"
import * as Supervisor from "./Supervisor.js"

export interface RootRestarts {
  /** Restarts of the root's children allowed within `period`, all children together; one more escalates. */
  readonly intensity: number
  readonly period: Duration.DurationInput
}

export const defaultRootRestarts: RootRestarts = { intensity: 5, period: "60 seconds" }

/**
 * Each layer that owns a long-lived part starts it here for as long as its own scope lives, so shutting down
 * still goes layer by layer. A child that dies is restarted; more restarts than the intensity allows
 * escalate: the root stops every child and `await` fails, and the server stops instead of running on without
 * a part it needs, or looping.
 */
export interface ServeTreeShape {
  /** Starts `spec` as the root's child `key` until the current Scope closes; its ref outlives restarts. */
  readonly actor: <Msg extends Actor.Message, State, E, R>(
    key: string,
    spec: Actor.ActorSpec<Msg, State, E, R>,
    restart?: Supervisor.RestartType,
  ) => Effect.Effect<Actor.ActorRef<Msg>, never, Exclude<R, Scope.Scope> | Scope.Scope>
  /**
   * Runs `loop` (meant to run as long as the server) as the root's child `key` until the current Scope
   * closes. It is restarted when it dies, and also when it ends by itself: a loop that returns is a bug.
   */
  readonly loop: <E, R>(
    key: string,
    loop: Effect.Effect<unknown, E, R>,
  ) => Effect.Effect<void, never, Exclude<R, Scope.Scope> | Scope.Scope>
  /** A supervisor as the root's child `key` until the current Scope closes (nestedSupervisor.ts). */
  readonly supervisor: (
    key: string,
    options: Supervisor.SupervisorOptions,
  ) => Effect.Effect<Supervisor.Supervisor, never, Scope.Scope>
  /**
   * Builds `layer` in a child `key` of the root (restarted, rebuilt, if building it dies), until the current
   * Scope closes; `children` lists what the part holds (a sync server's peers) for the drawing.
   */
  readonly layer: <E, R>(
    key: string,
    layer: Layer.Layer<never, E, R>,
    children?: Effect.Effect<ReadonlyArray<Supervisor.ChildInfo>>,
  ) => Effect.Effect<void, never, Exclude<R, Scope.Scope> | Scope.Scope>
  /** The tree as it is now: the root's children, and theirs. */
  readonly children: Effect.Effect<ReadonlyArray<Supervisor.ChildInfo>>
  /** Fails with SupervisorEscalation when the root gave up; resolves when it shut down. */
  readonly await: Effect.Effect<void, Supervisor.SupervisorEscalation>
}

export class ServeTree extends Context.Tag("huskies/ServeTree")<ServeTree, ServeTreeShape>() {}

/** An actor that runs `body` as its whole life and takes no messages. */
const bodyActor = <E, R>(body: Effect.Effect<never, E, R>) =>
  Actor.make<never, never, E, R>({ init: body, receive: (state) => Effect.succeed(state), mailboxSize: 1 })

/** What a part started under a root that has given up gets: an actor that has already ended. */
const endedRef = <Msg>(key: string): Actor.ActorRef<Msg> => ({
  key,
  tell: () => Effect.fail(new Actor.ActorStopped({ key })),
  ask: () => Effect.fail(new Actor.ActorStopped({ key })),
  stop: Effect.void,
  await: Effect.succeed(Actor.Interrupted),
  poll: Effect.succeedSome(Actor.Interrupted),
})

/** Draws the tree as text, one child a line, for the log and the status tools. */
export const drawTree = (root: string, children: ReadonlyArray<Supervisor.ChildInfo>): string => {
  const lines = [root]
  const walk = (nodes: ReadonlyArray<Supervisor.ChildInfo>, indent: string) =>
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1
      const state = [
        node.running ? undefined : "down",
        node.restarts > 0 ? `restarted ${node.restarts}×` : undefined,
      ].filter((s) => s !== undefined)
      lines.push(
        `${indent}${last ? "└── " : "├── "}${node.key}${state.length > 0 ? ` (${state.join(", ")})` : ""}`,
      )
      if (node.children !== undefined) walk(node.children, `${indent}${last ? "    " : "│   "}`)
    })
  walk(children, "")
  return lines.join("\n")
}

const make = (restarts: RootRestarts) =>
  Effect.gen(function* () {
    const root = yield* Supervisor.make({
      name: "serve",
      strategy: "one_for_one",
      intensity: restarts.intensity,
      period: restarts.period,
      onRestart: ({ key, cause, restarts: n }) =>
        Effect.logError(`${key} crashed and was restarted (${n}× since the server started)`, cause),
    })
    // Keys are fixed per server, so a second start under one is a bug. A root that has given up (a part
    // crashed too often while the server was still starting) starts nothing more: the part gets a ref that
    // has ended, and the server goes on to stop (runServer).
    const start = <Msg extends Actor.Message, State, E, R>(child: Supervisor.ChildSpec<Msg, State, E, R>) =>
      Effect.acquireRelease(
        root.startChild(child).pipe(
          Effect.catchTag("SupervisorStopped", () => Effect.succeed(endedRef<Msg>(child.key))),
          Effect.orDie,
        ),
        (ref) => ref.stop,
      )

    const actor: ServeTreeShape["actor"] = (key, spec, restart = "permanent") => start({ key, spec, restart })

    const loop: ServeTreeShape["loop"] = (key, body) =>
      Effect.asVoid(
        start({
          key,
          restart: "permanent",
          spec: bodyActor(Effect.zipRight(body, Effect.dieMessage(`${key} ended by itself`))),
        }),
      )

    const supervisor: ServeTreeShape["supervisor"] = (key, options) =>
      Effect.acquireRelease(
        startNested(root, key, options).pipe(
          Effect.catchTag("SupervisorStopped", () => Effect.succeed(stoppedSupervisor(options.name ?? key))),
          Effect.orDie,
        ),
        (nested) => nested.shutdown,
      )

    const layer: ServeTreeShape["layer"] = (key, part, children) =>
      Effect.asVoid(
        start({
          key,
          restart: "permanent",
          spec: bodyActor(Effect.zipRight(Layer.build(part), Effect.never)),
          ...(children === undefined ? {} : { children }),
        }),
      )

    return {
      actor,
      loop,
      supervisor,
      layer,
      children: root.children,
      await: root.await,
    } satisfies ServeTreeShape
  })

/** The root, for one server: built before everything that starts children under it. */
export const ServeTreeLive = (restarts: RootRestarts = defaultRootRestarts): Layer.Layer<ServeTree> =>
  Layer.scoped(ServeTree, make(restarts))

/** Logs the tree as it is now (at startup, and whenever someone wants to see it in the log). */
export const logTree = Effect.flatMap(ServeTree, (tree) =>
  Effect.flatMap(tree.children, (children) =>
    Effect.logInfo(`supervision tree\n${drawTree("serve", children)}`),
  ),
)

/** Why the root gave up, in words, for the last log line of a server that stops because of it. */
export const describeEscalation = (e: Supervisor.SupervisorEscalation): string =>
  `the server's parts crashed more than ${e.intensity} times within ${Duration.format(Duration.millis(e.periodMillis))}, the last time ${e.key}: the server stops cleanly rather than run without it or loop. Its last crash: ${Cause.pretty(e.cause)}`
