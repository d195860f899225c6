// src/layers/AgentPids.ts — which agent (and gate) processes this project's server started and has not yet
// seen end, on disk (`.huskies/run/agents/`). A server killed with SIGKILL cannot stop them; the next
// server start reaps what they left running. Written by AgentActor and Gates, read by Scheduler at startup.
import { Effect } from "effect"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { isRunning, processTree } from "./Pty.js"

interface PidRecord {
  readonly pid: number
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22): guards against pid reuse. */
  readonly startTime: number
  readonly storyId: string
  readonly agent: string
}

const pidsDir = (root: string) => join(root, ".huskies", "run", "agents")
const fileOf = (root: string, storyId: string, agent: string) =>
  join(pidsDir(root), `${storyId}--${agent}.json`)

/** The start time of `pid` as /proc shows it, or undefined when it does not run (or there is no /proc). */
const startTimeOf = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    // Field 22 of the whole line is index 19 after the command (fields 3.. start at index 0).
    return Number(fields[19])
  } catch {
    return undefined
  }
}

/** Records `pid` (an agent, or a gate run under the name `agent`) so a later start can reap it. Throws. */
export const writePidRecord = (root: string, storyId: string, agent: string, pid: number): void => {
  const startTime = startTimeOf(pid)
  if (startTime === undefined) return
  mkdirSync(pidsDir(root), { recursive: true })
  const record: PidRecord = { pid, startTime, storyId, agent }
  writeFileSync(fileOf(root, storyId, agent), JSON.stringify(record))
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

/** Kills every recorded agent process (and all it started) that still runs; returns what it killed. */
export const reapOrphanedAgents = (root: string) =>
  Effect.sync(() => {
    let names: ReadonlyArray<string>
    try {
      names = readdirSync(pidsDir(root))
    } catch {
      return []
    }
    const reaped: Array<PidRecord> = []
    for (const name of names) {
      const path = join(pidsDir(root), name)
      let record: PidRecord | undefined
      try {
        record = JSON.parse(readFileSync(path, "utf8")) as PidRecord
      } catch {
        record = undefined
      }
      if (record !== undefined && startTimeOf(record.pid) === record.startTime && isRunning(record.pid)) {
        for (const pid of processTree(record.pid)) {
          try {
            process.kill(pid, "SIGKILL")
          } catch {
            // Already gone.
          }
        }
        reaped.push(record)
      }
      rmSync(path, { force: true })
    }
    return reaped
  })
