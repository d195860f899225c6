// test/transports/cli/serveAgents.test.ts — the real `huskies serve` process with an agent running: shut
// down by a signal it stops the agent and everything the agent started; killed outright (SIGKILL), the
// next start reaps what it left running.
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { defaultGraceMillis } from "../../../src/actors/agentContract.js"
import { isRunning } from "../../../src/layers/Pty.js"
import { liveProcesses } from "../../../src/layers/processTable.js"
import { Store } from "../../../src/layers/Store.js"
import { startServer } from "../../support/cli.js"
import { makeGitRepo } from "../../support/gitRepo.js"
import { storeLayer } from "../../support/store.js"
import { eventually, holds, pidIn } from "../../support/waits.js"

// It ignores SIGHUP: the terminal's hang-up when the server dies already kills an ordinary agent, so
// only one that ignores it (as nohup'd tools do) shows what the reaper is for.
const sleepyAgent = (pids: string) =>
  `#!/bin/sh\ntrap '' HUP\nsleep 300 &\necho $! > ${pids}/child\necho $$ > ${pids}/agent\nwait\n`

/** Deaf to SIGTERM and the hang-up, and never ends by itself: only SIGKILL stops it. */
const deafAgent = (pids: string) =>
  `#!/bin/sh\ntrap '' TERM HUP\nsleep 300 &\necho $! > ${pids}/child\necho $$ > ${pids}/agent-$HUSKIES_AGENT\necho $$ > ${pids}/agent\nwhile true; do sleep 1; done\n`

/** An ordinary agent (the hang-up ends it) that leaves a nohup'd grandchild, deaf to the hang-up, behind. */
const nohupAgent = (pids: string) =>
  `#!/bin/sh\nnohup sh -c 'sleep 300' >/dev/null 2>&1 &\necho $! > ${pids}/child\necho $$ > ${pids}/agent\nwait\n`

/** The live processes of the session `leader` led (it need not run any more). */
const sessionOf = (leader: number) =>
  leader > 0
    ? liveProcesses()
        .filter((p) => p.session === leader)
        .map((p) => p.pid)
    : []

/** A project whose stories (one per agent) start by themselves; agents and a child record their pids. */
const projectWithAgent = (agentScript: (pids: string) => string, agents = 1) =>
  Effect.gen(function* () {
    const repo = yield* makeGitRepo({ initialCommit: true })
    const root = repo.dir
    const pids = join(root, "..", "pids")
    mkdirSync(join(root, ".huskies"), { recursive: true })
    mkdirSync(pids)
    const script = join(root, "..", "agent.sh")
    writeFileSync(script, agentScript(pids))
    chmodSync(script, 0o755)
    const names = Array.from({ length: agents }, (_, i) => `coder-${i + 1}`)
    writeFileSync(
      join(root, ".huskies", "agents.toml"),
      names
        .map(
          (name) =>
            `[[agent]]\nname = "${name}"\nstage = "coder"\nruntime = "command"\ncommand = ["${script}"]\n`,
        )
        .join("\n"),
    )
    writeFileSync(join(root, ".huskies", "project.toml"), `[concurrency]\nmax_coders = ${agents}\n`)
    yield* Effect.scoped(
      Effect.provide(
        Effect.flatMap(Store, (store) =>
          Effect.forEach(names, () =>
            store.create({ kind: "story", name: "Sleep", content: "---\nname: Sleep\n---\n" }),
          ),
        ),
        storeLayer(join(root, ".huskies", "huskies.db")),
      ),
    )
    // Whatever a test does, no sleeper it started survives it: nothing of an agent's session either.
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        const recorded = readdirSync(pids).map((f) => {
          try {
            return Number(readFileSync(join(pids, f), "utf8"))
          } catch {
            return 0
          }
        })
        for (const pid of [...recorded, ...recorded.flatMap(sessionOf)]) {
          try {
            if (pid > 0) process.kill(pid, "SIGKILL")
          } catch {
            // Gone already, as it should be.
          }
        }
      }),
    )
    return { root, pids }
  })

const projectWithSleepyAgent = projectWithAgent(sleepyAgent)

/** Waits (bounded) until the agent has written both pids, and returns them. */
const agentPids = (dir: string) =>
  eventually(
    "the agent to start and write its pids",
    Effect.map(Effect.all([pidIn(join(dir, "agent")), pidIn(join(dir, "child"))]), ([agent, child]) =>
      agent === undefined || child === undefined ? undefined : ([agent, child] as const),
    ),
    { every: "50 millis" },
  )

const until = (condition: () => boolean, what: string) =>
  eventually(
    what,
    Effect.sync(() => holds(condition())),
    { every: "50 millis" },
  )

describe("huskies serve with a running agent", () => {
  it.live(
    "SIGTERM stops the server and leaves no agent process behind",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { root, pids } = yield* projectWithSleepyAgent
          const server = yield* Effect.acquireRelease(
            Effect.promise(() => startServer(["serve", "--port", "0", root])),
            (s) => Effect.promise(() => s.kill("SIGKILL")),
          )
          const [agent, child] = yield* agentPids(pids)
          expect(isRunning(agent) && isRunning(child)).toBe(true)
          yield* Effect.promise(() => server.kill("SIGTERM"))
          expect(isRunning(agent)).toBe(false)
          expect(isRunning(child)).toBe(false)
        }),
      ),
    60_000,
  )

  // Issue 10, item 7: with an agent deaf to SIGTERM, serve stayed up after SIGTERM (30 s and more).
  it.live(
    "SIGTERM, even repeated, stops the server within the grace period plus a second, even with agents that ignore SIGTERM",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          // Two of them: they are stopped together, not one grace period after another.
          const { root, pids } = yield* projectWithAgent(deafAgent, 2)
          const server = yield* Effect.acquireRelease(
            Effect.promise(() => startServer(["serve", "--port", "0", root])),
            (s) => Effect.promise(() => s.kill("SIGKILL")),
          )
          const [agent, child] = yield* agentPids(pids)
          const agents = ["coder-1", "coder-2"].map((name) => join(pids, `agent-${name}`))
          yield* until(() => agents.every(existsSync), "both agents to start")
          const sessions = agents.map((file) => Number(readFileSync(file, "utf8")))
          expect(isRunning(agent) && isRunning(child)).toBe(true)
          expect(sessions.filter(isRunning)).toHaveLength(2)
          const startedAt = yield* Clock.currentTimeMillis
          server.child.kill("SIGTERM")
          // An impatient second Ctrl-C or SIGTERM used to end the process at once, agents left running.
          yield* Effect.sleep("300 millis")
          server.child.kill("SIGINT")
          server.child.kill("SIGTERM")
          yield* until(
            () => server.child.exitCode !== null || server.child.signalCode !== null,
            "serve to exit",
          )
          const tookMillis = (yield* Clock.currentTimeMillis) - startedAt
          expect(tookMillis).toBeLessThan(defaultGraceMillis + 1_000)
          expect(server.child.exitCode).toBe(0)
          expect(isRunning(agent)).toBe(false)
          expect(isRunning(child)).toBe(false)
          expect(sessions.flatMap(sessionOf)).toEqual([])
        }),
      ),
    60_000,
  )

  // Issue 10, item 11: the reaper only looked at the recorded leader, so a nohup'd grandchild whose
  // leader had died with the server survived the next start.
  it.live(
    "after a SIGKILL the next start reaps what the agent left in its session, though the agent itself died",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { root, pids } = yield* projectWithAgent(nohupAgent)
          const first = yield* Effect.promise(() => startServer(["serve", "--port", "0", root]))
          const [agent, grandchild] = yield* agentPids(pids)
          const records = join(root, ".huskies", "run", "agents")
          yield* until(
            () => existsSync(records) && readdirSync(records).some((f) => f.endsWith(".json")),
            "the agent's pid record",
          )
          yield* Effect.promise(() => first.kill("SIGKILL"))
          // The terminal's hang-up ends the agent; the grandchild, deaf to it, stays in the agent's session.
          yield* until(() => !isRunning(agent), "the agent to end with its terminal")
          expect(isRunning(grandchild)).toBe(true)
          expect(sessionOf(agent)).toContain(grandchild)
          const second = yield* Effect.acquireRelease(
            Effect.promise(() => startServer(["serve", "--port", "0", root])),
            (s) => Effect.promise(() => s.kill("SIGKILL")),
          )
          yield* until(() => sessionOf(agent).length === 0, "the agent's session to be reaped")
          expect(isRunning(grandchild)).toBe(false)
          expect(second.output()).toContain("left running by a server that was killed")
          yield* Effect.promise(() => second.kill("SIGTERM"))
        }),
      ),
    60_000,
  )

  it.live(
    "after a SIGKILL the agent outlives the server, and the next start kills it",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { root, pids } = yield* projectWithSleepyAgent
          const first = yield* Effect.promise(() => startServer(["serve", "--port", "0", root]))
          const [agent, child] = yield* agentPids(pids)
          // The server records the agent right after starting it; wait for that record before the kill.
          const records = join(root, ".huskies", "run", "agents")
          yield* until(
            () => existsSync(records) && readdirSync(records).some((f) => f.endsWith(".json")),
            "the agent's pid record",
          )
          yield* Effect.promise(() => first.kill("SIGKILL"))
          // Nothing in a SIGKILL'd process can run: its agent, deaf to the hang-up, is an orphan now.
          expect(isRunning(agent)).toBe(true)
          const second = yield* Effect.acquireRelease(
            Effect.promise(() => startServer(["serve", "--port", "0", root])),
            (s) => Effect.promise(() => s.kill("SIGKILL")),
          )
          yield* until(() => !isRunning(agent) && !isRunning(child), "the orphaned agent to be reaped")
          expect(second.output()).toContain("left running by a server that was killed")
          // The orphan's item was running: it is picked up again by the new server.
          yield* Effect.promise(() => second.kill("SIGTERM"))
        }),
      ),
    60_000,
  )
})
