// test/support/pipeline.ts — a real huskies server (in-process, ephemeral port) on a real git repository
// with `command` agents written as small scripts, for tests of the whole coder -> gates -> QA loop.
import { StoryId } from "../../src/domain/StoryId.js"
import { Effect, Layer, Queue, type Scope } from "effect"
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import type { MergeNews } from "../../src/actors/mergeWaiting.js"
import type { QaMode } from "../../src/domain/Stage.js"
import type { WorkItem } from "../../src/domain/WorkItem.js"
import { LogsLive } from "../../src/layers/Logs.js"
import { Store } from "../../src/layers/Store.js"
import { reachableUrl } from "../../src/transports/cli/mcpConfig.js"
import { serverLayer } from "../../src/transports/cli/serve.js"
import type { AccessSettings } from "../../src/transports/http/AccessGuard.js"
import type { ToolTestEnv } from "./tools.js"
import { makeGitRepo, type TempDir } from "./gitRepo.js"
import { awaitStore, holds } from "./waits.js"

export interface PipelineSetup {
  /** Body of .huskies/project.toml. */
  readonly projectToml: string
  /** Body of .huskies/agents.toml; `{{scripts}}` is replaced with the scripts' directory. */
  readonly agentsToml: string
  /** Executable files written to the scripts directory (outside the repository). */
  readonly scripts?: Readonly<Record<string, string>>
  readonly autoAssign?: boolean
  /** Run the merge queue (default off: these tests stop at the merge handoff). */
  readonly mergeQueue?: boolean
  /** Added to every agent's environment (e.g. ANTHROPIC_BASE_URL of a fake model API). */
  readonly agentEnv?: Readonly<Record<string, string>>
  /** Address to bind (default 127.0.0.1); `url` is 127.0.0.1 whatever it is. */
  readonly host?: string
  readonly access?: AccessSettings
}

export interface PipelineProject {
  readonly root: string
  readonly url: string
  readonly repo: TempDir
  readonly scripts: string
}

/** An `[[agent]]` of runtime "command" that runs `script` from the scripts directory. */
export const commandAgent = (name: string, stage: "coder" | "qa" | "mergemaster", script: string): string =>
  `[[agent]]\nname = "${name}"\nstage = "${stage}"\nruntime = "command"\ncommand = ["{{scripts}}/${script}"]\n`

/**
 * Items move only as the test moves them (QA none), and the merge queue is left to the test to build, so
 * it can subscribe to the queue's news before anything merges.
 */
export const mergeQueueByTest: PipelineSetup = {
  projectToml: `base_branch = "main"\ndefault_qa = "none"\n`,
  agentsToml: commandAgent("coder-1", "coder", "coder.sh"),
  scripts: { "coder.sh": "#!/bin/sh\n" },
  autoAssign: false,
  mergeQueue: false,
}

/** Shell lines that give a script's git commits an author. */
export const gitIdentity =
  "export GIT_AUTHOR_NAME=agent GIT_AUTHOR_EMAIL=agent@huskies.invalid GIT_COMMITTER_NAME=agent GIT_COMMITTER_EMAIL=agent@huskies.invalid"

/**
 * A node script that calls one huskies MCP tool with JSON arguments (argv[2], argv[3]) and prints the
 * answer; with the server's token when HUSKIES_TOKEN is set, as the command runtime documents.
 */
export const mcpCallScript = (): string => {
  const require = createRequire(import.meta.url)
  const client = pathToFileURL(require.resolve("@modelcontextprotocol/sdk/client/index.js")).href
  const transport = pathToFileURL(require.resolve("@modelcontextprotocol/sdk/client/streamableHttp.js")).href
  return `#!/usr/bin/env node
import { Client } from ${JSON.stringify(client)}
import { StreamableHTTPClientTransport } from ${JSON.stringify(transport)}
const [tool, args] = process.argv.slice(2)
const client = new Client({ name: "test-agent", version: "1" })
const token = process.env.HUSKIES_TOKEN
const requestInit = token === undefined ? {} : { headers: { authorization: \`Bearer \${token}\` } }
await client.connect(new StreamableHTTPClientTransport(new URL(process.env.HUSKIES_MCP_URL), { requestInit }))
const result = await client.callTool({ name: tool, arguments: JSON.parse(args) })
console.log(JSON.stringify(result.content))
await client.close()
process.exit(result.isError ? 1 : 0)
`
}

/** Runs `body` against a server for a fresh repository set up as `setup` says; all removed afterwards. */
export const withPipeline = <A, E>(
  setup: PipelineSetup,
  body: (project: PipelineProject) => Effect.Effect<A, E, ToolTestEnv | Scope.Scope>,
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const repo = yield* makeGitRepo({ initialCommit: true })
      const root = repo.dir
      const scripts = join(root, "..", "scripts")
      mkdirSync(scripts, { recursive: true })
      for (const [name, text] of Object.entries({ "mcp-call.mjs": mcpCallScript(), ...setup.scripts })) {
        writeFileSync(join(scripts, name), text)
        chmodSync(join(scripts, name), 0o755)
      }
      mkdirSync(join(root, ".huskies"), { recursive: true })
      writeFileSync(join(root, ".huskies", "project.toml"), setup.projectToml)
      writeFileSync(
        join(root, ".huskies", "agents.toml"),
        setup.agentsToml.replaceAll("{{scripts}}", scripts),
      )
      yield* repo.write(".gitignore", ".huskies/\n")
      yield* repo.git("add", ".gitignore")
      yield* repo.git("commit", "-q", "-m", "ignore .huskies")
      let url = ""
      const layer = serverLayer(
        root,
        {
          port: 0,
          host: setup.host ?? "127.0.0.1",
          durability: "normal",
          autoAssign: setup.autoAssign ?? true,
          mergeQueue: setup.mergeQueue ?? false,
          ...(setup.agentEnv === undefined ? {} : { agentEnv: setup.agentEnv }),
          ...(setup.access === undefined ? {} : { access: setup.access }),
        },
        (u) =>
          Effect.sync(() => {
            url = reachableUrl(u)
          }),
      ).pipe(Layer.provideMerge(LogsLive({ write: () => undefined })))
      const context = yield* Layer.build(layer)
      return yield* Effect.provide(body({ root, url, repo, scripts }), context)
    }),
  )

/** Waits until item `id` satisfies `done` (checked now and after every Store change), at most `millis`. */
export const awaitItem = (id: string, done: (item: WorkItem) => boolean, millis = 30_000) =>
  Effect.gen(function* () {
    const store = yield* Store
    return yield* awaitStore(
      `${id} to get where the test expects`,
      Effect.map(Effect.either(store.get(StoryId.make(id))), (r) =>
        r._tag === "Right" && done(r.right) ? r.right : undefined,
      ),
      millis,
    )
  })

/** Waits until every merge job is cleared (checked now and after every Store change: MergeJobChanged). */
export const awaitNoMergeJobs = Effect.flatMap(Store, (store) =>
  awaitStore(
    "every merge job to be cleared",
    Effect.map(store.mergeJobs, ({ jobs }) => holds(jobs.length === 0)),
  ),
)

export const story = (name: string, frontMatter = "") => ({
  kind: "story" as const,
  name,
  content: `---\nname: ${name}\n${frontMatter}---\n\n## Acceptance Criteria\n\n- [ ] it works\n`,
})

/** A coder script that commits feature.txt in two steps: "feature of <id>", then "more". */
export const twoStepCoder = `#!/bin/sh
set -e
${gitIdentity}
echo "feature of $HUSKIES_STORY_ID" > feature.txt
git add feature.txt
git commit -q -m "first step"
echo "more" >> feature.txt
git add feature.txt
git commit -q -m "second step"
`

/** A coder script that talks, then waits for `openGate` before it commits feature.txt and exits. */
export const gatedCoder = `#!/bin/sh
${gitIdentity}
echo "hello from $HUSKIES_AGENT"
while [ ! -f "$HUSKIES_WORKTREE/../go" ]; do sleep 0.1; done
echo done > feature.txt
git add feature.txt
git commit -q -m "work"
`

/** Lets every `gatedCoder` of the project at `root` go on: writes the `go` file next to the worktrees. */
export const openGate = (root: string) =>
  Effect.sync(() => {
    mkdirSync(join(root, ".huskies", "worktrees"), { recursive: true })
    writeFileSync(join(root, ".huskies", "worktrees", "go"), "")
  })

/** An item in Coding whose feature branch has one commit adding `file`. */
export const codedItem = (repo: TempDir, name: string, file: string) =>
  Effect.gen(function* () {
    const store = yield* Store
    const item = yield* store.create(story(name))
    yield* store.apply(item.id, { _tag: "Start", at: 1 })
    const branch = `feature/story-${item.id}`
    yield* repo.git("checkout", "-q", "-b", branch, "main")
    yield* repo.write(file, `${name}\n`)
    yield* repo.git("add", file)
    yield* repo.git("commit", "-q", "-m", name)
    yield* repo.git("checkout", "-q", "main")
    return { id: item.id, branch }
  })

/** The coded item moved on by passing its gates with `qa` (to Merge with "none": the queue takes it). */
export const gatesPassed = (coded: { readonly id: StoryId; readonly branch: string }, qa: QaMode) =>
  Effect.flatMap(Store, (store) =>
    store.apply(coded.id, {
      _tag: "GatesPassed",
      featureBranch: coded.branch,
      commitsAhead: 1,
      qa,
      at: 2,
    }),
  )

/** The first piece of the merge queue's news about `id` that `pick` takes (30 s at most). */
export const awaitNews = <A>(
  news: Queue.Dequeue<MergeNews>,
  id: string,
  pick: (n: MergeNews) => A | undefined,
): Effect.Effect<A> =>
  Effect.gen(function* () {
    for (;;) {
      const n = yield* Queue.take(news)
      const picked = n.storyId === id ? pick(n) : undefined
      if (picked !== undefined) return picked
    }
  }).pipe(
    Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error(`no news of ${id}`) }),
    Effect.orDie,
  )
