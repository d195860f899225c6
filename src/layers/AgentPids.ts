// src/layers/AgentPids.ts — the `AgentPids` service: the agent (and gate) processes this server started and has
// not seen end, in `.huskies/run/agents/`, so the start after a SIGKILL'd server reaps all their sessions and
// groups left running. Written by AgentActor and Gates, read at startup by recovery.
import { Context, Effect, Either, Schema } from "effect"
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { readdir, readFile, rm } from "node:fs/promises"
import { join } from "node:path"
import { liveProcesses, type ProcessInfo, processInfo } from "./processTable.js"
import { describeParseError, errorText, logUnreadable, UnreadableRecord } from "./recordFiles.js"

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

/** Why a pid record could not be written or removed. */
export class PidRecordError extends Schema.TaggedError<PidRecordError>()("PidRecordError", {
  path: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `agent pid record ${this.path}: ${this.detail}`
  }
}

const recordOf = (storyId: string, agent: string, pid: number, startTime: number): string =>
  // `pid` leads its own session and group: see writePidRecord.
  Schema.encodeSync(PidRecordJson)({ pid, startTime, storyId, agent, session: pid, processGroup: pid })

/**
 * Records `pid` (an agent, or a gate run under the name `agent`) so a later start can reap it and all it
 * started. `pid` must lead its own session and process group (node-pty's forkpty and a detached spawn call
 * setsid): that is written down rather than read from /proc, where a child that has not yet reached its
 * setsid would show the server's own session. Blocking, for Gates' spawn callback; throws.
 */
export const writePidRecord = (root: string, storyId: string, agent: string, pid: number): void => {
  const info = processInfo(pid)
  if (info === undefined) return
  mkdirSync(pidsDir(root), { recursive: true, mode: 0o700 })
  // A directory made by an older version kept the default mode.
  chmodSync(pidsDir(root), 0o700)
  const file = fileOf(root, storyId, agent)
  // Written aside and renamed: a server killed mid-write leaves no half record.
  const partial = `${file}.partial`
  rmSync(partial, { force: true })
  writeFileSync(partial, recordOf(storyId, agent, pid, info.startTime), { mode: 0o600 })
  renameSync(partial, file)
}

export const removePidRecord = (root: string, storyId: string, agent: string): void =>
  rmSync(fileOf(root, storyId, agent), { force: true })

/**
 * The agent start path's record, written synchronously on purpose: the process already runs, and until
 * the record is on disk a SIGKILL'd server would leave it unreaped. A few small writes, with no turn of
 * the event loop in between, keep that window as short as it can be.
 */
const record = (
  root: string,
  storyId: string,
  agent: string,
  pid: number,
): Effect.Effect<void, PidRecordError> =>
  Effect.try({
    try: () => writePidRecord(root, storyId, agent, pid),
    catch: (e) => new PidRecordError({ path: fileOf(root, storyId, agent), detail: errorText(e) }),
  })

// Removed synchronously too: one unlink, where a promise costs a thread-pool round trip at each run's end.
const forget = (root: string, storyId: string, agent: string): Effect.Effect<void, PidRecordError> =>
  Effect.try({
    try: () => removePidRecord(root, storyId, agent),
    catch: (e) => new PidRecordError({ path: fileOf(root, storyId, agent), detail: errorText(e) }),
  })

// Without the record only a SIGKILL'd server's leftovers go unreaped: worth a warning, not a failed run.
export const recordAgentPid = (
  root: string,
  storyId: string,
  agent: string,
  pid: number,
): Effect.Effect<void> =>
  Effect.flatMap(AgentPids, (pids) => pids.record(root, storyId, agent, pid)).pipe(
    Effect.catchAll((e) => Effect.logWarning(`agent pid not recorded: ${e.message}`)),
  )

// A leftover record is only looked at (and its pid checked against its start time) by the next start.
export const forgetAgentPid = (root: string, storyId: string, agent: string): Effect.Effect<void> =>
  Effect.flatMap(AgentPids, (pids) => pids.forget(root, storyId, agent)).pipe(
    Effect.catchAll((e) => Effect.logWarning(`agent pid record not removed: ${e.message}`)),
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

const readRecord = (path: string): Effect.Effect<PidRecord, UnreadableRecord> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) => new UnreadableRecord({ kind: "pid record", path, detail: errorText(e) }),
  }).pipe(
    Effect.flatMap((text) =>
      Either.match(Schema.decodeUnknownEither(PidRecordJson)(text), {
        onLeft: (error) =>
          Effect.fail(new UnreadableRecord({ kind: "pid record", path, detail: describeParseError(error) })),
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
 * it killed. A record that cannot be read or decoded is logged (UnreadableRecord) and removed: it never
 * stops a start, and the other records are still reaped.
 */
const reap = (root: string): Effect.Effect<ReadonlyArray<Reaped>> =>
  Effect.gen(function* () {
    const names = yield* Effect.promise(() =>
      // No directory: nothing was ever recorded.
      readdir(pidsDir(root)).catch((): ReadonlyArray<string> => []),
    )
    const self = processInfo(process.pid) ?? { pid: process.pid, session: -1, processGroup: -1 }
    const reaped: Array<Reaped> = []
    for (const name of names) {
      const path = join(pidsDir(root), name)
      // A `.partial` is a record whose server was killed while writing it (before the run was recorded).
      if (name.endsWith(".json")) {
        const read = yield* Effect.either(readRecord(path))
        if (Either.isLeft(read)) {
          yield* logUnreadable(read.left)
        } else {
          const killed = new Set<number>()
          // Again while anything is found: a member may have started another process meanwhile.
          for (let pass = 0; pass < 5; pass++) {
            const found = leftBehind(read.right, liveProcesses(), self)
            if (found.length === 0) break
            killAll(found)
            for (const pid of found) killed.add(pid)
          }
          if (killed.size > 0) reaped.push({ record: read.right, killed: [...killed] })
        }
      }
      yield* Effect.tryPromise(() => rm(path, { force: true, recursive: true })).pipe(
        Effect.catchAll((e) =>
          Effect.logWarning(`could not remove the agent pid record ${path}: ${String(e.error)}`),
        ),
      )
    }
    return reaped
  })

/** The pid records as a service: the default keeps them in `.huskies/run/agents/`. */
export class AgentPids extends Context.Reference<AgentPids>()("huskies/AgentPids", {
  defaultValue: () => ({ record, forget, reap }),
}) {}

export const reapOrphanedAgents = (root: string): Effect.Effect<ReadonlyArray<Reaped>> =>
  Effect.flatMap(AgentPids, (pids) => pids.reap(root))
