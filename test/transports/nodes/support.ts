// test/transports/nodes/support.ts — for the node RPC suites: a real huskies server (main or "worker") on a
// real git repository with one `command` agent, its built context at hand.
import { Context, Deferred, Effect, Either, Layer } from "effect"
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Pipeline } from "../../../src/actors/Pipeline.js"
import { newStoryDoc } from "../../../src/domain/StoryDoc.js"
import { LogsLive } from "../../../src/layers/Logs.js"
import { reachableUrl } from "../../../src/transports/cli/mcpConfig.js"
import { serverLayer } from "../../../src/transports/cli/serve.js"
import type { AccessSettings } from "../../../src/transports/http/AccessGuard.js"
import { makeGitRepo } from "../../support/gitRepo.js"

export interface NodeServerOptions {
  /** The agent's shell script (after `#!/bin/sh`). */
  readonly script: ReadonlyArray<string>
  readonly access?: AccessSettings
}

/** A server for a fresh project: its URL, root and everything its layers built (Pipeline, views…). */
export const nodeServer = (options: NodeServerOptions) =>
  Effect.gen(function* () {
    const repo = yield* makeGitRepo({ initialCommit: true })
    const root = repo.dir
    const script = join(root, "..", "agent.sh")
    writeFileSync(script, ["#!/bin/sh", ...options.script, ""].join("\n"))
    chmodSync(script, 0o755)
    mkdirSync(join(root, ".huskies"), { recursive: true })
    writeFileSync(
      join(root, ".huskies", "agents.toml"),
      `[[agent]]\nname = "coder-1"\nstage = "coder"\nruntime = "command"\ncommand = ["${script}"]\n`,
    )
    const bound = yield* Deferred.make<string>()
    const context = yield* Layer.build(
      serverLayer(
        root,
        {
          port: 0,
          host: "127.0.0.1",
          durability: "normal",
          autoAssign: false,
          mergeQueue: false,
          ...(options.access === undefined ? {} : { access: options.access }),
        },
        (u) => Deferred.succeed(bound, reachableUrl(u)).pipe(Effect.asVoid),
      ).pipe(
        Layer.provide(
          LogsLive({
            write: process.env["NODE_RPC_DEBUG"] ? (l) => void process.stderr.write(l) : () => undefined,
          }),
        ),
      ),
    ).pipe(Effect.orDie)
    return { url: yield* Deferred.await(bound), root, context }
  })

/** Creates a story through the server's command layer. */
export const createStory = (context: Context.Context<Pipeline>, name: string) =>
  Effect.gen(function* () {
    const doc = Either.getOrThrow(newStoryDoc({ name }))
    const created = yield* Effect.orDie(Context.get(context, Pipeline).create("story", doc))
    return created.item.id
  })
