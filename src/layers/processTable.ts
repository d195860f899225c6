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
  const bytes = Buffer.from(stat, "latin1")
  return parseStatBytes(pid, bytes, bytes.length)
}

const space = 0x20
const closeParen = 0x29
const digit0 = 0x30

/**
 * Decodes the first `length` bytes of `bytes` as a /proc/<pid>/stat line, reading the numbers straight
 * from the bytes: a sweep reads one line per process on the machine, and turning each into a string and
 * splitting it cost some 50 strings a process (7% of all a server with twenty agents allocated).
 */
const parseStatBytes = (pid: number, bytes: Buffer, length: number): ProcessInfo | undefined => {
  // The command (field 2) is in parentheses and may hold spaces and ")": the fields follow the last ")".
  let close = length - 1
  while (close >= 0 && bytes[close] !== closeParen) close--
  if (close < 0 || close + 2 >= length) return undefined
  // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
  // priority nice num_threads itrealvalue starttime: field 22 of the line is field 19 after the ")".
  const zombie = bytes[close + 2] === 0x5a // "Z"
  let ppid = -1
  let processGroup = -1
  let session = -1
  let startTime = -1
  let field = 0
  let i = close + 2
  while (i < length && field <= 19) {
    if (field === 1 || field === 2 || field === 3 || field === 19) {
      let value = 0
      const from = i
      while (i < length && bytes[i] !== space) {
        const d = (bytes[i] ?? 0) - digit0
        // Not a plain non-negative integer: not a stat line we can read.
        if (d < 0 || d > 9) return undefined
        value = value * 10 + d
        i++
      }
      if (i === from) return undefined
      if (field === 1) ppid = value
      else if (field === 2) processGroup = value
      else if (field === 3) session = value
      else startTime = value
    } else {
      while (i < length && bytes[i] !== space) i++
    }
    // The space after the field; the last field ends with a newline instead.
    i++
    field++
  }
  if (ppid < 0 || processGroup < 0 || session < 0 || startTime < 0) return undefined
  return { pid, ppid, processGroup, session, startTime, zombie }
}

// One buffer for every stat line (a line is well under 1 KiB): a sweep reads one per process on the machine,
// and twenty agents ending at once sweep twenty times, so each read is a bare open, read and close.
const statBuffer = Buffer.allocUnsafe(4096)

/** The process `pid` as `/proc/<pid>/stat` describes it, or undefined when it is gone (or there is no /proc). */
const readStat = (pid: number, name: string): ProcessInfo | undefined => {
  let fd: number
  try {
    fd = openSync(`/proc/${name}/stat`, "r")
  } catch {
    return undefined
  }
  try {
    // The kernel hands over the whole line in one read.
    return parseStatBytes(pid, statBuffer, readSync(fd, statBuffer, 0, statBuffer.length, 0))
  } catch {
    return undefined
  } finally {
    closeSync(fd)
  }
}

/** The process `pid`, or undefined when there is none (or no /proc to ask). */
export const processInfo = (pid: number): ProcessInfo | undefined => readStat(pid, String(pid))

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
    const info = readStat(Number(entry), entry)
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
