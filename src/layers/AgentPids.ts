// src/layers/AgentPids.ts — which agent (and gate) processes this project's server started and has not yet
// seen end, on disk (`.huskies/run/agents/`, private to the user). A server killed with SIGKILL cannot stop
// them; the next start reaps everything their sessions and groups left running, whether or not the process
// it started still lives. Written by AgentActor and Gates, read at startup by recovery.
import { Effect, Either, ParseResult, Schema } from "effect"
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { liveProcesses, type ProcessInfo, processInfo } from "./processTable.js"

const Pid = Schema.Int.pipe(Schema.positive())

export const PidRecord = Schema.Struct({
  /** The process huskies started: a PTY child or a detached gate, so the leader of its session and group. */
  pid: Pid,
  /** Its start time in clock ticks since boot (/proc/<pid>/stat field 22): guards against pid reuse. */
  startTime: Schema.Int.pipe(Schema.nonNegative()),
  storyId: Schema.String,
  agent: Schema.String,
  /** Its session and process group; absent in records from before they were kept (both were the pid). */
  session: Schema.optional(Pid),
  processGroup: Schema.optional(Pid),
})
export type PidRecord = typeof PidRecord.Type
const PidRecordJson = Schema.parseJson(PidRecord)

/** What one reap found left running by a recorded run, and killed. */
export interface Reaped {
  readonly record: PidRecord
  readonly killed: ReadonlyArray<number>
}

const pidsDir = (root: string) => join(root, ".huskies", "run", "agents")
// Encoded, so no name can reach outside the directory whatever it holds.
const fileOf = (root: string, storyId: string, agent: string) =>
  join(pidsDir(root), `${encodeURIComponent(storyId)}--${encodeURIComponent(agent)}.json`)

/**
 * Records `pid` (an agent, or a gate run under the name `agent`) so a later start can reap it and all it
 * started. `pid` must lead its own session and process group (node-pty's forkpty and a detached spawn call
 * setsid): that is written down rather than read from /proc, where a child that has not yet reached its
 * setsid would show the server's own session. Throws.
 */
export const writePidRecord = (root: string, storyId: string, agent: string, pid: number): void => {
  const info = processInfo(pid)
  if (info === undefined) return
  mkdirSync(pidsDir(root), { recursive: true, mode: 0o700 })
  // A directory made by an older version kept the default mode.
  chmodSync(pidsDir(root), 0o700)
  const record: PidRecord = {
    pid,
    startTime: info.startTime,
    storyId,
    agent,
    session: pid,
    processGroup: pid,
  }
  const file = fileOf(root, storyId, agent)
  // Written aside and renamed: a server killed mid-write leaves no half record.
  const partial = `${file}.partial`
  rmSync(partial, { force: true })
  writeFileSync(partial, JSON.stringify(record), { mode: 0o600 })
  renameSync(partial, file)
}

export const removePidRecord = (root: string, storyId: string, agent: string): void =>
  rmSync(fileOf(root, storyId, agent), { force: true })

export const recordAgentPid = (root: string, storyId: string, agent: string, pid: number) =>
  Effect.sync(() => writePidRecord(root, storyId, agent, pid)).pipe(
    // Without the record only a SIGKILL'd server's leftovers go unreaped: worth a warning, not a failed run.
    Effect.catchAllDefect((e) => Effect.logWarning(`agent pid not recorded: ${String(e)}`)),
  )

export const forgetAgentPid = (root: string, storyId: string, agent: string) =>
  Effect.sync(() => removePidRecord(root, storyId, agent)).pipe(
    Effect.catchAllDefect((e) => Effect.logWarning(`agent pid record not removed: ${String(e)}`)),
  )

/**
 * The processes among `procs` (live ones) that the run `record` describes left behind: its leader if it
 * still runs, every member of its session or process group, and their descendants. Pure: the reaping
 * decision. Guards, so that nothing of anyone else's is ever killed:
 * - a session or group id now held by another live process (same pid, other start time) was reused, and
 *   what it leads is not ours (an id cannot be reused while its session or group still has members);
 * - nothing that started before the recorded leader belongs to it;
 * - nothing in the reaping server's own session or group, and never the server itself.
 */
export const leftBehind = (
  record: PidRecord,
  procs: ReadonlyArray<ProcessInfo>,
  self: Pick<ProcessInfo, "pid" | "session" | "processGroup">,
): ReadonlyArray<number> => {
  const byPid = new Map(procs.map((p) => [p.pid, p]))
  const isLeader = (p: ProcessInfo) => p.pid === record.pid && p.startTime === record.startTime
  const stillOurs = (id: number) => {
    const holder = byPid.get(id)
    return holder === undefined || isLeader(holder)
  }
  const session = record.session ?? record.pid
  const group = record.processGroup ?? record.pid
  const bySession = stillOurs(session)
  const byGroup = stillOurs(group)
  const eligible = (p: ProcessInfo) =>
    !p.zombie &&
    p.startTime >= record.startTime &&
    p.pid !== self.pid &&
    p.session !== self.session &&
    p.processGroup !== self.processGroup
  const members = new Set(
    procs
      .filter(
        (p) =>
          eligible(p) &&
          (isLeader(p) || (bySession && p.session === session) || (byGroup && p.processGroup === group)),
      )
      .map((p) => p.pid),
  )
  // Descendants that left the session (setsid) while their parent still runs.
  let grew = true
  while (grew) {
    grew = false
    for (const p of procs) {
      if (!members.has(p.pid) && members.has(p.ppid) && eligible(p)) {
        members.add(p.pid)
        grew = true
      }
    }
  }
  return [...members].sort((a, b) => a - b)
}

const readRecord = (path: string) =>
  Effect.try({
    try: () => readFileSync(path, "utf8"),
    catch: (e) => (e instanceof Error ? e.message : String(e)),
  }).pipe(
    Effect.flatMap((text) =>
      Either.match(Schema.decodeUnknownEither(PidRecordJson)(text), {
        onLeft: (error) => Effect.fail(ParseResult.TreeFormatter.formatErrorSync(error)),
        onRight: Effect.succeed,
      }),
    ),
  )

const killAll = (pids: ReadonlyArray<number>) => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // Already gone.
    }
  }
}

/**
 * Kills everything recorded runs left running (see `leftBehind`) and removes every record; returns what
 * it killed. A record that cannot be read or decoded is logged and removed: it never stops a start.
 */
export const reapOrphanedAgents = (root: string): Effect.Effect<ReadonlyArray<Reaped>> =>
  Effect.gen(function* () {
    let names: ReadonlyArray<string>
    try {
      names = readdirSync(pidsDir(root))
    } catch {
      return []
    }
    const self = processInfo(process.pid) ?? { pid: process.pid, session: -1, processGroup: -1 }
    const reaped: Array<Reaped> = []
    for (const name of names) {
      const path = join(pidsDir(root), name)
      // A `.partial` is a record whose server was killed while writing it (before the run was recorded).
      if (name.endsWith(".json")) {
        const record = yield* Effect.either(readRecord(path))
        if (Either.isLeft(record)) {
          yield* Effect.logWarning(`removed the damaged agent pid record ${path}: ${record.left}`)
        } else {
          const killed = new Set<number>()
          // Again while anything is found: a member may have started another process meanwhile.
          for (let pass = 0; pass < 5; pass++) {
            const found = leftBehind(record.right, liveProcesses(), self)
            if (found.length === 0) break
            killAll(found)
            for (const pid of found) killed.add(pid)
          }
          if (killed.size > 0) reaped.push({ record: record.right, killed: [...killed] })
        }
      }
      rmSync(path, { force: true, recursive: true })
    }
    return reaped
  })
