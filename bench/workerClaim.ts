// bench/workerClaim.ts — "claim -> agent started" on a worker node against the main node, in the same run:
// real `huskies serve` and `huskies agent` processes on loopback with a bare git remote, one cluster where
// items are started by turns on the main node and on the worker (start_agent), so both see the same load.
// For each item, from the claim the node wrote (its claimedAt, read from the main node's document) to the
// agent's first instruction (a stamp it writes). Either node confirms its claim with the other before it
// starts; the worker also fetches the base (and the item's branch) from the remote for its worktree.
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { emit, percentile, repoRoot, scratchDir } from "./measure.js"
import { type ServerProcess, startServerProcess, stopServerProcess } from "./serverProcess.js"

// Per node: items alternate between the two, so a run starts twice as many.
const items = Number(process.env["HUSKIES_BENCH_CLAIM_ITEMS"] ?? 20)

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "bench",
  GIT_AUTHOR_EMAIL: "bench@huskies.invalid",
  GIT_COMMITTER_NAME: "bench",
  GIT_COMMITTER_EMAIL: "bench@huskies.invalid",
}
const git = (cwd: string, ...args: ReadonlyArray<string>) =>
  execFileSync("git", [...args], { cwd, env: gitEnv, encoding: "utf8" }).trim()

// The agent's first instruction takes the time; then it commits, so the item moves on and frees the slot.
const agentScript = (stamps: string) => `import { writeFileSync } from "node:fs"
import { execFileSync } from "node:child_process"
writeFileSync(${JSON.stringify(stamps)} + "/" + process.env.HUSKIES_STORY_ID, String(Date.now()))
// A file of its own: branches made from an older base (a worker's) still merge without a conflict.
writeFileSync(process.env.HUSKIES_STORY_ID + ".txt", "work\\n")
execFileSync("git", ["add", process.env.HUSKIES_STORY_ID + ".txt"])
execFileSync("git", ["commit", "-q", "-m", "work"])
`

const projectToml = (autoAssign: boolean) => `base_branch = "main"
default_qa = "none"
auto_assign = ${autoAssign}
[concurrency]
max_coders = 1
[nodes]
remote = "origin"
`

/** A bare remote and a clone for each node named; each node on its own branch with its own auto_assign. */
const makeProject = (dir: string, stamps: string, nodes: Record<string, boolean>) => {
  const seed = join(dir, "seed")
  mkdirSync(join(seed, ".huskies"), { recursive: true })
  const script = join(dir, "agent.mjs")
  writeFileSync(script, agentScript(stamps))
  git(seed, "init", "-q", "-b", "main")
  writeFileSync(join(seed, ".huskies", "project.toml"), projectToml(true))
  writeFileSync(
    join(seed, ".huskies", "agents.toml"),
    `[[agent]]\nname = "coder-1"\nstage = "coder"\nruntime = "command"\ncommand = ["${process.execPath}", "${script}"]\n`,
  )
  writeFileSync(
    join(seed, ".gitignore"),
    ".huskies/huskies.db*\n.huskies/worktrees/\n.huskies/logs/\n.huskies/run/\n.huskies/merge/\n.huskies/node.key\n.huskies/nodes.db*\n.huskies-prompt.md\n",
  )
  git(seed, "add", ".gitignore", ".huskies/project.toml", ".huskies/agents.toml")
  git(seed, "commit", "-q", "-m", "project")
  git(dir, "clone", "-q", "--bare", seed, join(dir, "remote.git"))
  for (const [name, autoAssign] of Object.entries(nodes)) {
    const root = join(dir, name)
    git(dir, "clone", "-q", join(dir, "remote.git"), root)
    git(root, "checkout", "-q", "-b", `node-${name}`)
    writeFileSync(join(root, ".huskies", "project.toml"), projectToml(autoAssign))
    git(root, "commit", "-q", "--allow-empty", "-m", "settings", "--", ".huskies/project.toml")
  }
}

const bin = () => join(repoRoot(), "bin", "huskies.js")
const listening = /huskies listening on (http:\/\/\S+)/

const mcp = async (url: string) => {
  const client = new Client({ name: "bench", version: "1" })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)))
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = await client.callTool({ name, arguments: args })
    if (r.isError === true) throw new Error(`${name}: ${JSON.stringify(r.content)}`)
    return r.structuredContent as Record<string, unknown>
  }
  return { call, close: () => client.close() }
}

const waitFor = async <A>(
  what: string,
  probe: () => A | undefined | Promise<A | undefined>,
  millis = 30_000,
) => {
  const until = Date.now() + millis
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`waited ${millis} ms for ${what}`)
    await new Promise((done) => setTimeout(done, 10))
  }
}

/** claim -> agent started, per item, on the main node and on the worker by turns. */
const measure = async (): Promise<{ readonly main: Array<number>; readonly worker: Array<number> }> => {
  const scratch = scratchDir()
  const stamps = join(scratch.dir, "stamps")
  mkdirSync(stamps)
  makeProject(scratch.dir, stamps, { main: false, w1: false })
  const running: Array<ServerProcess> = []
  try {
    const main = await startServerProcess(
      [bin(), "serve", "--port", "0", join(scratch.dir, "main")],
      listening,
    )
    running.push(main)
    // The token is stdout; what it is for (stderr, for a person) stays out of the bench's output.
    const token = execFileSync(process.execPath, [bin(), "token", "create", join(scratch.dir, "main")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim()
    const rendezvous = main.url.replace(/^http/, "ws")
    const worker = await startServerProcess(
      [bin(), "agent", "--rendezvous", rendezvous, "--token", token, join(scratch.dir, "w1")],
      listening,
    )
    running.push(worker)
    const onMain = await mcp(main.url)
    const onWorker = await mcp(worker.url)
    const samples = { main: [] as Array<number>, worker: [] as Array<number> }
    for (let i = 0; i < 2 * items; i++) {
      // ABBA order: a drift in the machine's load weighs on both nodes alike.
      const here = i % 4 === 0 || i % 4 === 3 ? "main" : "worker"
      const client = here === "main" ? onMain : onWorker
      const { story_id: id } = (await onMain.call("create_story", { name: `item ${i}` })) as {
        story_id: string
      }
      await waitFor(`${id} on the node that starts it`, async () => {
        const { items: listed } = (await client.call("list_items", { text: id })) as {
          items: Array<{ id: string }>
        }
        return listed.some((x) => x.id === id) ? true : undefined
      })
      await client.call("start_agent", { story_id: id })
      const started = await waitFor(`${id}'s agent`, () =>
        existsSync(join(stamps, id)) ? Number(readFileSync(join(stamps, id), "utf8")) : undefined,
      )
      // The claim as the coding node wrote it, once it has reached the main node.
      const claimedAt = await waitFor(`${id}'s claim on the main node`, async () => {
        const { state } = (await onMain.call("dump_state", { story_id: id })) as {
          state: { claim?: Record<string, { claimedAt: number }> }
        }
        const entries = Object.values(state.claim ?? {})
        return entries.length === 0 ? undefined : Math.min(...entries.map((e) => e.claimedAt))
      })
      samples[here].push(started - claimedAt)
      // The next item only once this one is merged, so each claim finds both nodes idle.
      await waitFor(`${id} to be done`, async () => {
        const { items: listed } = (await onMain.call("list_items", { text: id })) as {
          items: Array<{ id: string; stage: string }>
        }
        return listed.find((x) => x.id === id && x.stage === "Done")
      })
    }
    await onMain.close()
    await onWorker.close()
    return samples
  } finally {
    for (const r of running.reverse()) await stopServerProcess(r)
    scratch.cleanup()
  }
}

const main = async () => {
  const samples = await measure()
  const onMain = [...samples.main].sort((a, b) => a - b)
  const onWorker = [...samples.worker].sort((a, b) => a - b)
  emit({
    scenario: "worker-claim",
    metrics: {
      items,
      mainP50Ms: percentile(onMain, 50),
      mainP95Ms: percentile(onMain, 95),
      workerP50Ms: percentile(onWorker, 50),
      workerP95Ms: percentile(onWorker, 95),
      ratioP50: percentile(onWorker, 50) / percentile(onMain, 50),
    },
  })
}

await main()
