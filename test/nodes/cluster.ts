// test/nodes/cluster.ts — several huskies nodes as real processes on loopback for the multi-node tests: a
// bare git remote, the main node (`huskies serve`) on one clone and workers (`huskies agent`) on others,
// `command` coders that say in their own session logs which node coded what, and helpers to read every
// node's state. Everything started is killed and removed when the test's Scope closes.
import { Effect, Schema, type Scope } from "effect"
import { execFileSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { gitignoreEntries } from "../../src/layers/Scaffold.js"
import { type RunningServer, runCli, startServer } from "../support/cli.js"
import { mcpClient } from "../support/mcpClient.js"
import { scopedTempDir } from "../support/tempDir.js"
import { eventually } from "../support/waits.js"

export interface ClusterOptions {
  /** `[nodes] lease_secs` (short in tests that wait for a lease to run out). */
  readonly leaseSecs?: number
  /** How long each coder session sleeps before it commits (a window to kill or cut a node in). */
  readonly coderSleepMillis?: number
  /** Coders per node (`[concurrency] max_coders`). */
  readonly maxCoders?: number
  /** The gates (`[commands] test`), run in the worktree; none by default. */
  readonly testCommand?: string
  /** `[nodes] push_base`: the main node pushes its base after each merge. */
  readonly pushBase?: boolean
  /** QA by an agent (a script that approves when the story's file is in its worktree), not none. */
  readonly qaAgent?: boolean
  /** `[nodes] worker_stages` (default ["coder"]). */
  readonly workerStages?: ReadonlyArray<string>
  /** More of project.toml, appended (a `[permissions]` table...). */
  readonly projectExtra?: string
  /** Whether the node of that name starts items by itself (its own project.toml: default true). */
  readonly autoAssign?: (node: string) => boolean
}

export interface Node {
  readonly name: string
  readonly root: string
  readonly process: RunningServer
}

export interface Cluster {
  readonly base: string
  readonly remote: string
  readonly main: Node
  /** The main node's URL (http://127.0.0.1:port). */
  readonly url: string
  /** Starts a worker on a fresh clone (or restarts one on its clone) that dials `rendezvous` (default the main node). */
  readonly startWorker: (
    name: string,
    options?: {
      readonly rendezvous?: string
      readonly token?: string
      readonly sleepMillis?: number
      readonly sleepOwnMillis?: number
    },
  ) => Effect.Effect<Node, never, Scope.Scope>
  /** A fresh one-time join token from `huskies token create` on the main node. */
  readonly token: Effect.Effect<string>
  readonly env: (node: string, sleepMillis?: number, sleepOwnMillis?: number) => NodeJS.ProcessEnv
  /** Prints every node's warnings and errors (for a failing test: what went wrong where). */
  readonly report: Effect.Effect<void>
}

const git = (cwd: string, ...args: ReadonlyArray<string>): string =>
  execFileSync("git", [...args], { cwd, encoding: "utf8", env: gitEnv }).trim()

const gitEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "test",
  GIT_AUTHOR_EMAIL: "test@huskies.invalid",
  GIT_COMMITTER_NAME: "test",
  GIT_COMMITTER_EMAIL: "test@huskies.invalid",
}

/**
 * The coder: says which node runs it (HUSKIES_TEST_NODE) in its output (the session log), waits
 * HUSKIES_TEST_SLEEP_MS (plus HUSKIES_TEST_SLEEP_OWN_MS when it continues its own node's work), then appends
 * a line to `<id>.txt` and commits it. A branch taken up from another node's push gets a second line, so the
 * merged file shows both hands.
 */
const coderScript = `import { appendFileSync, existsSync, readFileSync } from "node:fs"
import { execFileSync } from "node:child_process"
const id = process.env.HUSKIES_STORY_ID
const node = process.env.HUSKIES_TEST_NODE
const before = existsSync(id + ".txt") ? readFileSync(id + ".txt", "utf8") : ""
const own = before.includes("coded on " + node + "\\n")
console.log("CODING " + id + " on " + node + (before === "" ? "" : own ? " (again)" : " (taken over)"))
const sleep = Number(process.env.HUSKIES_TEST_SLEEP_MS ?? "0") + (own ? Number(process.env.HUSKIES_TEST_SLEEP_OWN_MS ?? "0") : 0)
await new Promise((done) => setTimeout(done, sleep))
appendFileSync(id + ".txt", "coded on " + node + "\\n")
const env = { ...process.env, GIT_AUTHOR_NAME: node, GIT_AUTHOR_EMAIL: "a@huskies.invalid", GIT_COMMITTER_NAME: node, GIT_COMMITTER_EMAIL: "a@huskies.invalid" }
execFileSync("git", ["add", id + ".txt"], { env })
execFileSync("git", ["commit", "-q", "-m", id + " on " + node], { env })
console.log("CODED " + id + " on " + node)
`

/**
 * The QA agent: says what it found in its worktree ("QA <id> on <node> saw: <file>"), then approves the
 * story over MCP when the coder's file is there, and rejects it when it is not.
 */
const qaScript = (): string => {
  const require = createRequire(import.meta.url)
  const client = pathToFileURL(require.resolve("@modelcontextprotocol/sdk/client/index.js")).href
  const transport = pathToFileURL(require.resolve("@modelcontextprotocol/sdk/client/streamableHttp.js")).href
  return `import { existsSync, readFileSync } from "node:fs"
import { Client } from ${JSON.stringify(client)}
import { StreamableHTTPClientTransport } from ${JSON.stringify(transport)}
const id = process.env.HUSKIES_STORY_ID
const file = id + ".txt"
const seen = existsSync(file) ? readFileSync(file, "utf8").trim().replaceAll("\\n", " / ") : "nothing"
console.log("QA " + id + " on " + process.env.HUSKIES_TEST_NODE + " saw: " + seen)
const client = new Client({ name: "qa", version: "1" })
await client.connect(new StreamableHTTPClientTransport(new URL(process.env.HUSKIES_MCP_URL)))
const tool = seen === "nothing" ? "reject_qa" : "approve_qa"
const result = await client.callTool({ name: tool, arguments: { story_id: id, notes: "checked " + file } })
await client.close()
process.exit(result.isError ? 1 : 0)
`
}

const projectToml = (options: ClusterOptions, autoAssign: boolean) => `base_branch = "main"
default_qa = "${options.qaAgent === true ? "agent" : "none"}"
auto_assign = ${autoAssign}
${options.testCommand === undefined ? "" : `[commands]\ntest = ${JSON.stringify(options.testCommand)}`}
[server]
# A loopback name on any port: a worker may reach the main node through a proxy on another port.
allowed_hosts = ["127.0.0.1"]
[concurrency]
max_coders = ${options.maxCoders ?? 2}
[nodes]
lease_secs = ${options.leaseSecs ?? 30}
remote = "origin"
worker_stages = ${JSON.stringify(options.workerStages ?? ["coder"])}
push_base = ${options.pushBase ?? false}
${options.projectExtra ?? ""}`

const agentsToml = (script: string, qa: string) => `[[agent]]
name = "qa"
stage = "qa"
runtime = "command"
command = ["${process.execPath}", "${qa}"]

[[agent]]
name = "coder-1"
stage = "coder"
runtime = "command"
command = ["${process.execPath}", "${script}"]

[[agent]]
name = "mergemaster"
stage = "mergemaster"
runtime = "command"
command = ["/bin/false"]
`

/** The node's process, killed (SIGKILL if it will not end) when the scope closes. */
const started = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) =>
  Effect.acquireRelease(
    Effect.promise(() => startServer(args, { env })),
    (s) =>
      Effect.promise(async () => {
        const timer = setTimeout(() => s.child.kill("SIGKILL"), 5_000)
        await s.kill("SIGTERM")
        clearTimeout(timer)
      }),
  )

export const makeCluster = (options: ClusterOptions = {}): Effect.Effect<Cluster, never, Scope.Scope> =>
  Effect.gen(function* () {
    const base = yield* scopedTempDir
    const qaPath = join(base, "qa.mjs")
    writeFileSync(qaPath, qaScript())
    const script = join(base, "coder.mjs")
    writeFileSync(script, coderScript)
    chmodSync(script, 0o755)
    const seed = join(base, "seed")
    mkdirSync(join(seed, ".huskies"), { recursive: true })
    git(seed, "init", "-q", "-b", "main")
    writeFileSync(join(seed, "README.md"), "# the project\n")
    writeFileSync(join(seed, ".huskies", "project.toml"), projectToml(options, true))
    writeFileSync(join(seed, ".huskies", "agents.toml"), agentsToml(script, qaPath))
    writeFileSync(join(seed, ".gitignore"), [...gitignoreEntries, ".huskies-prompt.md", ""].join("\n"))
    git(seed, "add", "README.md", ".gitignore", ".huskies/project.toml", ".huskies/agents.toml")
    git(seed, "commit", "-q", "-m", "the project")
    const remote = join(base, "remote.git")
    git(base, "clone", "-q", "--bare", seed, remote)
    // Each node on a branch of its own (so no checkout of the base is ever in the merge queue's way), with
    // the project.toml it runs with committed there.
    const clone = (name: string) => {
      const dir = join(base, name)
      if (existsSync(dir)) return dir
      git(base, "clone", "-q", remote, dir)
      git(dir, "checkout", "-q", "-b", `node-${name}`)
      const autoAssign = options.autoAssign?.(name) ?? true
      if (!autoAssign) {
        writeFileSync(join(dir, ".huskies", "project.toml"), projectToml(options, autoAssign))
        git(dir, "commit", "-q", "-m", `${name}'s settings`, "--", ".huskies/project.toml")
      }
      return dir
    }
    const env = (
      node: string,
      sleepMillis = options.coderSleepMillis ?? 0,
      sleepOwnMillis = 0,
    ): NodeJS.ProcessEnv => ({
      ...gitEnv,
      HUSKIES_TEST_NODE: node,
      HUSKIES_TEST_SLEEP_MS: String(sleepMillis),
      HUSKIES_TEST_SLEEP_OWN_MS: String(sleepOwnMillis),
    })
    const mainRoot = clone("main")
    const main = yield* started(["serve", "--port", "0", mainRoot], env("main"))
    const url = main.url
    const token = Effect.promise(() => runCli(["token", "create", mainRoot], { env: gitEnv })).pipe(
      Effect.flatMap((r) =>
        r.code === 0
          ? Effect.succeed(r.stdout.trim())
          : Effect.dieMessage(`token create failed: ${r.stderr}`),
      ),
    )
    const mainNode: Node = { name: "main", root: mainRoot, process: main }
    const nodes: Array<Node> = [mainNode]
    const report = Effect.sync(() => {
      for (const n of nodes) {
        const lines = n.process
          .output()
          .split("\n")
          .filter((l) => /WARN|ERROR|lost|refused/.test(l))
        console.error(`----- ${n.name}\n${lines.slice(-60).join("\n")}`)
      }
    })
    const startWorker: Cluster["startWorker"] = (name, workerOptions = {}) =>
      Effect.gen(function* () {
        const root = clone(name)
        const admitted = existsSync(join(root, ".huskies", "run", "admission.json"))
        const joinToken = workerOptions.token ?? (admitted ? undefined : yield* token)
        const rendezvous = workerOptions.rendezvous ?? url.replace(/^http/, "ws")
        const args = ["agent", "--rendezvous", rendezvous, "--label", name, root]
        // The token goes in the environment, as docs/nodes.md suggests (it stays out of `ps`);
        // agentCli.test.ts covers --token.
        const process = yield* started(args, {
          ...env(name, workerOptions.sleepMillis, workerOptions.sleepOwnMillis),
          ...(joinToken === undefined ? {} : { HUSKIES_JOIN_TOKEN: joinToken }),
        })
        const node = { name, root, process }
        nodes.push(node)
        return node
      })
    return {
      base,
      remote,
      main: mainNode,
      url,
      startWorker,
      token,
      env,
      report,
    }
  })

// ---------------------------------------------------------------------------------------------- reading

const Listed = Schema.Struct({
  items: Schema.Array(Schema.Struct({ id: Schema.String, stage: Schema.String })),
})

/** Every item on the node at `url` with its stage (list_items over MCP). */
export const stagesAt = (url: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const call = yield* mcpClient(url)
      const { items } = yield* call(Listed, "list_items", { limit: 1000 })
      return new Map(items.map((i) => [i.id, i.stage]))
    }),
  )

const Created = Schema.Struct({ story_id: Schema.String })

/** Files `count` stories on the node at `url`; their ids in order. */
export const createStories = (url: string, count: number, prefix = "feature") =>
  Effect.scoped(
    Effect.gen(function* () {
      const call = yield* mcpClient(url)
      const ids: Array<string> = []
      for (let i = 1; i <= count; i++)
        ids.push((yield* call(Created, "create_story", { name: `${prefix} ${i}` })).story_id)
      return ids
    }),
  )

/** Waits until every id is in `stage` on the node at `url`. */
export const awaitStage = (url: string, ids: ReadonlyArray<string>, stage: string, millis = 60_000) =>
  eventually(
    `${ids.length} items in ${stage}`,
    Effect.map(stagesAt(url), (stages) => (ids.every((id) => stages.get(id) === stage) ? stages : undefined)),
    { millis, every: "250 millis" },
  )

/** Matches of `pattern` (two groups: id, node) in every session log of the node at `root`. */
const inSessionLogs = (root: string, pattern: RegExp): ReadonlyArray<readonly [string, string]> => {
  const logs = join(root, ".huskies", "logs")
  if (!existsSync(logs)) return []
  const found: Array<readonly [string, string]> = []
  for (const entry of readdirSync(logs, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    const dir = join(logs, entry.name)
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".jsonl"))) {
      for (const m of readFileSync(join(dir, file), "utf8").matchAll(pattern)) found.push([m[1]!, m[2]!])
    }
  }
  return found
}

/** The "CODED <id> on <node>" lines (commits made) in the node's session logs, as [id, node] pairs. */
export const codedIn = (root: string) => inSessionLogs(root, /CODED (\S+) on (\w+)/g)

/** The "CODING <id> on <node>" lines (sessions started) in the node's session logs. */
export const codingIn = (root: string) => inSessionLogs(root, /CODING (\S+) on (\w+)/g)

/** The files on the main node's base branch. */
export const filesOnBase = (root: string): ReadonlyArray<string> =>
  git(root, "ls-tree", "--name-only", "main").split("\n")

/** What the base branch's `file` says on the main node. */
export const fileOnBase = (root: string, file: string): string => git(root, "show", `main:${file}`)

/** The branches on the remote. */
export const remoteBranches = (remote: string): ReadonlyArray<string> =>
  git(remote, "for-each-ref", "--format=%(refname:short)", "refs/heads/")
    .split("\n")
    .filter((b) => b !== "")

export { git }

/** Kills the agents a node killed with SIGKILL left behind (their process groups, from its pid records). */
export const killOrphans = (root: string): void => {
  const dir = join(root, ".huskies", "run", "agents")
  if (!existsSync(dir)) return
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    const record = JSON.parse(readFileSync(join(dir, file), "utf8")) as { processGroup?: number }
    try {
      if (record.processGroup !== undefined) process.kill(-record.processGroup, "SIGKILL")
    } catch {
      // Gone already.
    }
  }
}

/** What each QA session in the node's session logs saw: [id, what its worktree's file said]. */
export const qaSeenIn = (root: string) => inSessionLogs(root, /QA (\S+) on \w+ saw: ([^"\\]+)/g)
