// test/support/tools.ts — calls tools through the real registry against a real Store on a temp
// SQLite file (and a temp project root), exactly as the MCP endpoint does, minus HTTP.
import { Effect, Layer, type Scope } from "effect"
import { join } from "node:path"
import { DecisionsLive } from "../../src/actors/Decisions.js"
import { PipelineLive } from "../../src/actors/Pipeline.js"
import { ViewsLive } from "../../src/actors/PipelineView.js"
import { type Agents, AgentsLive } from "../../src/actors/Scheduler.js"
import { type ServeTree, ServeTreeLive } from "../../src/actors/rootSupervisor.js"
import { Git } from "../../src/layers/Git.js"
import { HuskiesConfigLive } from "../../src/layers/HuskiesConfig.js"
import { ServerUrlFixed } from "../../src/layers/ServerUrl.js"
import { TestRunsLive } from "../../src/layers/TestRuns.js"
import { LogsLive } from "../../src/layers/Logs.js"
import { ProjectLive } from "../../src/layers/Project.js"
import { type Store, StoreOnDisk } from "../../src/layers/Store.js"
import { type ToolEnv, toolRegistry } from "../../src/transports/tools/registry.js"
import type { CallOutcome } from "../../src/transports/tools/Tool.js"
import { tempDir } from "./tempDir.js"

/** The layers a tool needs, for a project rooted at `root`. */
export const toolLayer = (root: string) => {
  const services = Layer.mergeAll(
    StoreOnDisk(join(root, ".huskies", "huskies.db")),
    ProjectLive(root, 0),
    LogsLive({ write: () => undefined }),
    Git.Default,
    TestRunsLive,
    // Nothing listens here: agents started by a tool under test would find no MCP server.
    ServerUrlFixed("http://127.0.0.1:9"),
    HuskiesConfigLive(root),
    // The root the Scheduler starts its long-lived parts under, as serve's.
    ServeTreeLive(),
  )
  // Auto mode off: a tool test decides itself what starts; start_agent still works.
  const actors = Layer.provideMerge(
    AgentsLive({ autoAssign: false }),
    Layer.provideMerge(DecisionsLive, services),
  )
  // Tools get the command layer and the view; tests also reach the Store and Agents underneath.
  return Layer.merge(PipelineLive, ViewsLive).pipe(Layer.provideMerge(actors))
}

export const call = (name: string, args: unknown): Effect.Effect<CallOutcome, never, ToolEnv> =>
  toolRegistry.call(name, args, { progress: () => Effect.void })

/** Calls a tool that must succeed and returns its (encoded) result. */
export const ok = (name: string, args: unknown) =>
  Effect.flatMap(call(name, args), (outcome) =>
    outcome._tag === "Ok"
      ? Effect.succeed(outcome.value as Record<string, unknown>)
      : Effect.dieMessage(`${name} failed: ${outcome.message}`),
  )

/** Calls a tool that must fail and returns its error text. */
export const err = (name: string, args: unknown) =>
  Effect.flatMap(call(name, args), (outcome) =>
    outcome._tag === "Err"
      ? Effect.succeed(outcome.message)
      : Effect.dieMessage(`${name} succeeded but should have failed: ${outcome.text}`),
  )

/** What a tool test may use: the tools' own environment, and the Store and actors beneath it. */
export type ToolTestEnv = ToolEnv | Store | Agents | ServeTree

/** Runs `program` with the tool environment of a fresh temp project; removes it afterwards. */
export const withTools = <A, E>(program: (root: string) => Effect.Effect<A, E, ToolTestEnv | Scope.Scope>) =>
  Effect.gen(function* () {
    const { dir, cleanup } = tempDir()
    yield* Effect.addFinalizer(() => Effect.sync(cleanup))
    return yield* Effect.provide(program(dir), toolLayer(dir))
  }).pipe(Effect.scoped)
