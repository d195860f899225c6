// test/layers/AgentPids.test.ts — what a killed server's successor reaps: the decision (which processes belong
// to a recorded run, never someone else's after pid reuse), private and atomic records, damaged records logged
// as tagged errors and dropped while the rest are reaped, and a real session reaped to the last member.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import {
  forgetAgentPid,
  leftBehind,
  type PidRecord,
  reapOrphanedAgents,
  recordAgentPid,
  writePidRecord,
} from "../../src/layers/AgentPids.js"
import { LogsLive } from "../../src/layers/Logs.js"
import { isRunning, type ProcessInfo } from "../../src/layers/processTable.js"
import { scopedTempDir } from "../support/tempDir.js"
import { eventually, holds, pidIn } from "../support/waits.js"

const proc = (pid: number, fields: Partial<Omit<ProcessInfo, "pid">> = {}): ProcessInfo => ({
  pid,
  ppid: 1,
  processGroup: pid,
  session: pid,
  startTime: 1_000,
  zombie: false,
  ...fields,
})

/** The run: leader 500, started at tick 1000, its own session and group. */
const record: PidRecord = {
  pid: 500,
  startTime: 1_000,
  storyId: "1_story_x",
  agent: "coder-1",
  session: 500,
  processGroup: 500,
}
const self = { pid: 9_000, session: 8_000, processGroup: 9_000 }

describe("leftBehind (the reaping decision)", () => {
  it("takes the leader, its session, its group and their descendants", () => {
    const procs = [
      proc(500),
      proc(501, { ppid: 500, session: 500, processGroup: 500, startTime: 1_001 }),
      // nohup'd, reparented to init: still in the session.
      proc(502, { ppid: 1, session: 500, processGroup: 500, startTime: 1_002 }),
      // setsid'd while its parent runs: found through the parent.
      proc(503, { ppid: 501, session: 503, processGroup: 503, startTime: 1_003 }),
      proc(504, { ppid: 503, session: 503, processGroup: 503, startTime: 1_004 }),
      proc(700, { ppid: 1, session: 700, processGroup: 700, startTime: 1_005 }),
    ]
    expect(leftBehind(record, procs, self)).toEqual([500, 501, 502, 503, 504])
  })

  it("reaps the members when the leader is gone", () => {
    const procs = [
      proc(502, { session: 500, processGroup: 500, startTime: 1_002 }),
      proc(600, { session: 600, processGroup: 500, startTime: 1_003 }),
    ]
    expect(leftBehind(record, procs, self)).toEqual([502, 600])
  })

  it("leaves a reused pid alone: the leader's id now names another process and what it leads", () => {
    const procs = [
      // Pid 500 again, started later: a new process, leading a session of its own.
      proc(500, { startTime: 5_000 }),
      proc(510, { ppid: 500, session: 500, processGroup: 500, startTime: 5_001 }),
    ]
    expect(leftBehind(record, procs, self)).toEqual([])
  })

  it("leaves alone processes that started before the recorded leader", () => {
    const procs = [proc(400, { session: 500, processGroup: 500, startTime: 999 })]
    expect(leftBehind(record, procs, self)).toEqual([])
  })

  it("never takes the reaping server, its session or its group", () => {
    const procs = [
      proc(502, { session: 500, processGroup: 500, startTime: 1_002 }),
      proc(9_000, { ppid: 502, session: 8_000, processGroup: 9_000, startTime: 1_003 }),
      proc(9_001, { ppid: 502, session: 8_000, processGroup: 9_001, startTime: 1_003 }),
      proc(9_002, { ppid: 502, session: 9_002, processGroup: 9_000, startTime: 1_003 }),
    ]
    expect(leftBehind(record, procs, self)).toEqual([502])
  })

  it("reads a record from before sessions were kept as the leader's own session and group", () => {
    const { session: _s, processGroup: _g, ...old } = record
    const procs = [proc(502, { session: 500, processGroup: 500, startTime: 1_002 })]
    expect(leftBehind(old, procs, self)).toEqual([502])
  })

  it("ignores zombies: they run nothing and cannot be killed", () => {
    const procs = [proc(502, { session: 500, processGroup: 500, startTime: 1_002, zombie: true })]
    expect(leftBehind(record, procs, self)).toEqual([])
  })
})

describe("reapOrphanedAgents", () => {
  it.live("kills a session whose leader already died, keeps records private, drops damaged ones", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const pidFile = join(root, "grandchild")
      // Like an agent in its PTY: the leader of a new session (detached calls setsid). It leaves a nohup'd
      // grandchild behind and exits, as a PTY leader does when its server is killed.
      const leader = spawn(
        "sh",
        ["-c", `nohup sleep 300 >/dev/null 2>&1 & echo $! > ${pidFile}; sleep 0.3`],
        {
          detached: true,
          stdio: "ignore",
        },
      )
      const leaderPid = leader.pid ?? 0
      writePidRecord(root, "1_story_x", "coder-1", leaderPid)
      const grandchild = yield* eventually("the grandchild's pid", pidIn(pidFile), { millis: 5_000 })
      // Whatever the test sees, nothing it started survives it.
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const pid of [leaderPid, grandchild])
            try {
              process.kill(pid, "SIGKILL")
            } catch {
              // Gone, as it should be.
            }
        }),
      )
      const dir = join(root, ".huskies", "run", "agents")
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      const [file] = readdirSync(dir)
      expect(statSync(join(dir, file ?? "")).mode & 0o777).toBe(0o600)
      yield* Effect.promise(() => new Promise((done) => leader.once("exit", done)))
      expect(isRunning(leaderPid)).toBe(false)
      expect(isRunning(grandchild)).toBe(true)

      writeFileSync(join(dir, "2_story_y--coder-1.json"), "{not json")
      writeFileSync(join(dir, "3_story_z--coder-1.json"), JSON.stringify({ pid: -4, storyId: 3 }))
      const lines: Array<string> = []
      const reaped = yield* reapOrphanedAgents(root).pipe(
        Effect.provide(LogsLive({ write: (line) => void lines.push(line) })),
      )
      expect(reaped).toEqual([
        {
          record: expect.objectContaining({ pid: leaderPid, storyId: "1_story_x", agent: "coder-1" }),
          killed: [grandchild],
        },
      ])
      yield* eventually(
        "the grandchild to die",
        Effect.sync(() => holds(!isRunning(grandchild))),
        {
          millis: 1_000,
          every: "10 millis",
        },
      )
      expect(readdirSync(dir)).toEqual([])
      // Each damaged record is one warning naming its file and what is wrong, as a tagged error.
      expect(lines).toHaveLength(2)
      const [bad, wrong] = [...lines].sort()
      expect(bad).toContain(`pid record at ${join(dir, "2_story_y--coder-1.json")}`)
      expect(bad).toContain("JSON")
      expect(wrong).toContain(`pid record at ${join(dir, "3_story_z--coder-1.json")}`)
      expect(wrong).toContain('["pid"]')
      for (const line of lines) expect(line).toContain('error="UnreadableRecord"')
    }).pipe(Effect.scoped),
  )

  it.live("an agent's record is written and removed without blocking, and reads back", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const dir = join(root, ".huskies", "run", "agents")
      yield* recordAgentPid(root, "1_story_x", "coder-1", process.pid)
      const [file] = readdirSync(dir)
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      expect(statSync(join(dir, file ?? "")).mode & 0o777).toBe(0o600)
      expect(JSON.parse(readFileSync(join(dir, file ?? ""), "utf8"))).toMatchObject({
        pid: process.pid,
        storyId: "1_story_x",
        agent: "coder-1",
        session: process.pid,
      })
      yield* forgetAgentPid(root, "1_story_x", "coder-1")
      expect(readdirSync(dir)).toEqual([])
    }).pipe(Effect.scoped),
  )

  it.live("a name cannot place a record outside its directory", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      mkdirSync(join(root, ".huskies"), { recursive: true })
      writePidRecord(root, "../../escape", "../../../x", process.pid)
      expect(readdirSync(join(root, ".huskies", "run", "agents"))).toHaveLength(1)
      expect(readdirSync(root).sort()).toEqual([".huskies"])
    }).pipe(Effect.scoped),
  )
})
