// test/reliability/sigkillLoop.test.ts — the real `huskies serve` killed with SIGKILL again and again
// while clients file stories and coders work (each leaving a nohup'ed grandchild behind): no
// acknowledged write is lost, no agent process outlives the server that started it by more than the
// next start, and once the kills stop every story still drains to Done (no job is left stuck).
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { execFileSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { isRunning } from "../../src/layers/Pty.js"
import { type RunningServer, startServer } from "../support/cli.js"
import { useCleanups } from "../support/cleanups.js"
import { tempDir } from "../support/tempDir.js"
import { eventuallyPromise, holds } from "../support/waits.js"

/** Kill cycles: at least 10 (CI); HUSKIES_SIGKILL_CYCLES raises it for a longer soak by hand. */
const cycles = Math.max(10, Number(process.env["HUSKIES_SIGKILL_CYCLES"] ?? 10))

const defer = useCleanups()

const gitEnv = {
  GIT_AUTHOR_NAME: "huskies test",
  GIT_AUTHOR_EMAIL: "test@huskies.invalid",
  GIT_COMMITTER_NAME: "huskies test",
  GIT_COMMITTER_EMAIL: "test@huskies.invalid",
}

/**
 * A coder that leaves a grandchild which ignores SIGHUP and stays in the agent's session (the
 * kind a server killed outright cannot stop), records its pid, works a little and commits its file,
 * unless a run before it (killed with its server) already did, as a real coder would find.
 */
const coder = (pidFile: string) => `#!/bin/sh
set -e
nohup sh -c 'echo $$ >> ${pidFile}; exec sleep 300' >/dev/null 2>&1 &
sleep 0.$(( $(od -An -N1 -tu1 /dev/urandom) % 9 + 1 ))
echo "$HUSKIES_STORY_ID" > "f-$HUSKIES_STORY_ID.txt"
git add "f-$HUSKIES_STORY_ID.txt"
# A run killed after its commit runs again on the same branch: the work is there, and it ends well.
git diff --cached --quiet || git commit -q -m "work on $HUSKIES_STORY_ID"
`

const setUpProject = () => {
  const { dir, cleanup } = tempDir()
  defer(cleanup)
  const root = join(dir, "repo")
  const scripts = join(dir, "scripts")
  mkdirSync(root)
  mkdirSync(scripts)
  const pidFile = join(dir, "grandchildren.txt")
  writeFileSync(join(scripts, "coder.sh"), coder(pidFile))
  chmodSync(join(scripts, "coder.sh"), 0o755)
  const git = (...args: Array<string>) =>
    execFileSync("git", args, { cwd: root, env: { ...process.env, ...gitEnv }, stdio: "pipe" })
  git("-c", "init.defaultBranch=main", "init", "-q")
  writeFileSync(join(root, ".gitignore"), ".huskies/\n")
  git("add", ".gitignore")
  git("commit", "-q", "-m", "start")
  mkdirSync(join(root, ".huskies"))
  writeFileSync(
    join(root, ".huskies", "project.toml"),
    `base_branch = "main"\ndefault_qa = "none"\nretry_limit = 50\n\n[commands]\ntest = "true"\n\n[concurrency]\nmax_agents = 4\nmax_coders = 3\n`,
  )
  writeFileSync(
    join(root, ".huskies", "agents.toml"),
    ["coder-1", "coder-2", "coder-3"]
      .map(
        (name) =>
          `[[agent]]\nname = "${name}"\nstage = "coder"\nruntime = "command"\ncommand = ["${scripts}/coder.sh"]\n`,
      )
      .join("\n"),
  )
  return { root, pidFile }
}

const grandchildren = (pidFile: string): ReadonlyArray<number> =>
  existsSync(pidFile)
    ? readFileSync(pidFile, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map(Number)
    : []

const connect = async (url: string): Promise<Client> => {
  const client = new Client({ name: "sigkill-loop", version: "1" })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)))
  return client
}

const serve = async (root: string): Promise<RunningServer> => {
  const server = await startServer(["serve", "--port", "0", root], { env: { ...process.env, ...gitEnv } })
  defer(() => server.kill("SIGKILL"))
  return server
}

/** Files stories from two clients at once until `stop` says so; returns the ids the server acknowledged. */
const fileStories = async (url: string, cycle: number, stop: (acked: number) => boolean) => {
  const acked: Array<string> = []
  const clients = await Promise.all([0, 1].map(() => connect(url)))
  await Promise.all(
    clients.map(async (client, c) => {
      for (let n = 0; !stop(acked.length); n++) {
        const result = await client
          .callTool({ name: "create_story", arguments: { name: `cycle ${cycle} client ${c} story ${n}` } })
          .catch(() => undefined)
        // After the kill a call fails: it was never acknowledged, so it may or may not exist.
        if (result === undefined) return
        const id = (result.structuredContent as { story_id?: string } | undefined)?.story_id
        if (result.isError === true || id === undefined) throw new Error(JSON.stringify(result.content))
        acked.push(id)
      }
    }),
  )
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)))
  return acked
}

describe("SIGKILL loop", () => {
  it(`${cycles} kill -9 cycles mid-write and mid-agent: nothing acknowledged is lost, nothing is orphaned, nothing stays stuck`, async () => {
    const { root, pidFile } = setUpProject()
    const acked: Array<string> = []
    for (let cycle = 0; cycle < cycles; cycle++) {
      const server = await serve(root)
      // Whatever the killed server's agents left running is gone once the next one is up.
      const before = grandchildren(pidFile)
      await eventuallyPromise(
        `cycle ${cycle}: the orphans of the killed server to be reaped`,
        () => holds(!before.some(isRunning)),
        { millis: 10_000, every: "100 millis" },
      )
      let killed: Promise<void> | undefined
      const filed = await fileStories(server.url, cycle, (count) => {
        // The kill lands while the clients are still writing: some calls are in flight.
        if (count >= 1 && killed === undefined) killed = server.kill("SIGKILL")
        return killed !== undefined
      })
      await (killed ?? server.kill("SIGKILL"))
      acked.push(...filed)
    }
    expect(acked.length).toBeGreaterThanOrEqual(cycles)

    const server = await serve(root)
    const client = await connect(server.url)
    defer(() => client.close().catch(() => undefined))
    const stages = async () => {
      const result = await client.callTool({ name: "list_items", arguments: { limit: 1000 } })
      const { items } = result.structuredContent as { items: ReadonlyArray<{ id: string; stage: string }> }
      return new Map(items.map((i) => [i.id, i.stage]))
    }
    const first = await stages()
    expect(acked.filter((id) => !first.has(id))).toEqual([])
    // Every story, acknowledged or filed just before a kill, is coded and merged by itself.
    await eventuallyPromise(
      "every story to be Done",
      async () => holds([...(await stages()).values()].every((stage) => stage === "Done")),
      { millis: 150_000, every: "100 millis" },
    )
    const merged = execFileSync("git", ["ls-tree", "--name-only", "main"], { cwd: root }).toString()
    for (const id of acked) expect(merged).toContain(`f-${id}.txt`)
    const lastRun = grandchildren(pidFile)
    await server.kill("SIGTERM")
    await eventuallyPromise(
      "every grandchild to end with the server",
      () => holds(!lastRun.some(isRunning)),
      {
        millis: 10_000,
        every: "100 millis",
      },
    )
  }, 280_000)
})
