// test/transports/nodes/support.ts — for the node RPC suites: a real huskies server (main or "worker") on a
// real git repository with one `command` agent, its built context at hand.
import { Context, Effect, Either } from "effect"
import { Pipeline } from "../../../src/actors/Pipeline.js"
import { newStoryDoc } from "../../../src/domain/StoryDoc.js"
import type { AccessSettings } from "../../../src/transports/http/AccessGuard.js"
import { makeGitRepo } from "../../support/gitRepo.js"
import { serveProject, writeOneAgent } from "../../support/server.js"

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
    writeOneAgent(root, ["#!/bin/sh", ...options.script, ""].join("\n"))
    const { url, context } = yield* serveProject(root, { ...options, debugEnv: "NODE_RPC_DEBUG" })
    return { url, root, context }
  })

/** Creates a story through the server's command layer. */
export const createStory = (context: Context.Context<Pipeline>, name: string) =>
  Effect.gen(function* () {
    const doc = Either.getOrThrow(newStoryDoc({ name }))
    const created = yield* Effect.orDie(Context.get(context, Pipeline).create("story", doc))
    return created.item.id
  })
