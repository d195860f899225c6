// src/layers/processTable.ts — the machine's processes as /proc shows them (pid, parent, group, session,
// start time), for killing an agent's or a gate's whole tree (Pty, Gates) and for reaping what a killed
// server left (AgentPids).
import { closeSync, openSync, readdirSync, readSync } from "node:fs"

export interface ProcessInfo {
  readonly pid: number
  readonly ppid: number
  readonly processGroup: number
  readonly session: number
  /** Clock ticks since boot when it started: with the pid, names one process even if the pid is reused. */
  readonly startTime: number
  /** Ended but not yet waited for by its parent: it runs nothing and cannot be killed. */
  readonly zombie: boolean
}

/** Decodes one /proc/<pid>/stat line; undefined when it is not one. */
export const parseStat = (pid: number, stat: string): ProcessInfo | undefined => {
  // The command (field 2) is in parentheses and may hold spaces and ")": the fields follow the last ")".
  const close = stat.lastIndexOf(")")
  if (close < 0) return undefined
  // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
  // priority nice num_threads itrealvalue starttime: field 22 of the line is index 19 here.
  const fields = stat.slice(close + 2).split(" ")
  const [ppid, processGroup, session, startTime] = [fields[1], fields[2], fields[3], fields[19]].map(Number)
  if (
    ppid === undefined ||
    processGroup === undefined ||
    session === undefined ||
    startTime === undefined ||
    ![ppid, processGroup, session, startTime].every(Number.isInteger)
  )
    return undefined
  return { pid, ppid, processGroup, session, startTime, zombie: fields[0] === "Z" }
}

// One buffer for every stat line (a line is well under 1 KiB): a sweep reads one per process on the machine,
// and twenty agents ending at once sweep twenty times, so each read is a bare open, read and close.
const statBuffer = Buffer.allocUnsafe(4096)

/** `/proc/<pid>/stat`, or undefined when the process is gone (or there is no /proc). */
const readStat = (pid: number | string): string | undefined => {
  let fd: number
  try {
    fd = openSync(`/proc/${pid}/stat`, "r")
  } catch {
    return undefined
  }
  try {
    // The kernel hands over the whole line in one read. Only the numbers after the command name are used:
    // latin1 decodes those as UTF-8 would, and a ")" byte is never part of a multi-byte character.
    return statBuffer.toString("latin1", 0, readSync(fd, statBuffer, 0, statBuffer.length, 0))
  } catch {
    return undefined
  } finally {
    closeSync(fd)
  }
}

/** The process `pid`, or undefined when there is none (or no /proc to ask). */
export const processInfo = (pid: number): ProcessInfo | undefined => {
  const stat = readStat(pid)
  return stat === undefined ? undefined : parseStat(pid, stat)
}

/** Live (non-zombie) processes; empty where there is no /proc (a group kill still works there). */
export const liveProcesses = (): ReadonlyArray<ProcessInfo> => {
  let entries: ReadonlyArray<string>
  try {
    entries = readdirSync("/proc")
  } catch {
    return []
  }
  const out: Array<ProcessInfo> = []
  for (const entry of entries) {
    // Process directories are the entries that start with a digit (the rest: self, sys, meminfo...).
    const first = entry.charCodeAt(0)
    if (first < 48 || first > 57) continue
    const stat = readStat(entry)
    const info = stat === undefined ? undefined : parseStat(Number(entry), stat)
    // Undefined: the process ended while we looked.
    if (info !== undefined && !info.zombie) out.push(info)
  }
  return out
}

/** Whether `pid` is still a running (non-zombie) process. */
export const isRunning = (pid: number): boolean => processInfo(pid)?.zombie === false

/**
 * Every live process that belongs to `leader`, a process started as the leader of its own session (an
 * agent in its PTY, a detached gate): that session, plus all its descendants (which catches a child that
 * called setsid but did not double-fork away).
 */
export const processTree = (leader: number): ReadonlyArray<number> => {
  const procs = liveProcesses()
  const members = new Set(procs.filter((p) => p.session === leader || p.pid === leader).map((p) => p.pid))
  let grew = true
  while (grew) {
    grew = false
    for (const p of procs) {
      if (!members.has(p.pid) && members.has(p.ppid)) {
        members.add(p.pid)
        grew = true
      }
    }
  }
  return [...members]
}
