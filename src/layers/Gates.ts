// src/layers/Gates.ts — runs a project's gate command (tests, lint, build) in a worktree: with a
// timeout, output streamed to a log file and only a bounded tail kept in memory (so even 100 MB of
// output cannot deadlock a pipe or fill memory), the whole process group killed on timeout or
// interruption, and a recorded run's command started only once its pid record is written. Used by
// StoryActor after a coder exits, by the merge queue, by run_tests/run_lint/run_build, and (with `argv`,
// no shell) by run_command.
import { Effect, Schema } from "effect"
import { spawn } from "node:child_process"
import { createWriteStream } from "node:fs"
import { dirname } from "node:path"
import { ensurePrivateDir, privateWrite } from "./privateFiles.js"
import { removePidRecord, writePidRecord } from "./AgentPids.js"
import { gated } from "./goLine.js"
import { processTree } from "./processTable.js"

export class GateSpawnError extends Schema.TaggedError<GateSpawnError>()("GateSpawnError", {
  command: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `could not run the gate command \`${this.command}\`: ${this.detail} (check [commands] in .huskies/project.toml)`
  }
}

export interface GateSpec {
  /** A shell command line, run with `sh -c` (as [commands] in project.toml documents). */
  readonly command: string
  /**
   * When given, this program and its arguments are run directly, without a shell (so nothing in them
   * is expanded or interpreted); `command` is then only how the result names it.
   */
  readonly argv?: readonly [string, ...Array<string>]
  readonly cwd: string
  readonly timeoutMillis: number
  /** The full output goes here (created with its directory). */
  readonly logPath: string
  /** Bytes of the output's end kept for the result (and the next coder's prompt). */
  readonly tailBytes?: number
  /** Changes to the server's environment for the command; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /**
   * Record the process under this name while it runs, so a server killed meanwhile has it reaped. The
   * command then starts only once the record is written (goLine.ts): a server killed in between leaves
   * nothing running.
   */
  readonly pidRecord?: { readonly root: string; readonly storyId: string; readonly name: string }
  /** Done with the child's pid after its record is written and before the command starts (tests). */
  readonly beforeStart?: (pid: number) => void
}

export interface GateResult {
  readonly command: string
  readonly passed: boolean
  readonly exitCode: number | null
  readonly signal: string | null
  readonly timedOut: boolean
  readonly durationMillis: number
  readonly outputBytes: number
  /** The last `tailBytes` of combined stdout and stderr, decoded as UTF-8. */
  readonly tail: string
  readonly tailTruncated: boolean
  readonly logPath: string
}

/** Keeps the last `capacity` bytes written to it. */
class TailBuffer {
  private chunks: Array<Buffer> = []
  private size = 0
  total = 0
  constructor(private readonly capacity: number) {}
  push(chunk: Buffer): void {
    this.total += chunk.length
    this.chunks.push(chunk)
    this.size += chunk.length
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.capacity) {
      this.size -= this.chunks.shift()?.length ?? 0
    }
  }
  text(): string {
    const all = Buffer.concat(this.chunks)
    const start = Math.max(0, all.length - this.capacity)
    // Skip UTF-8 continuation bytes so the tail starts on a character boundary.
    let from = start
    while (from < all.length && from - start < 4 && ((all[from] ?? 0) & 0xc0) === 0x80) from++
    return all.subarray(from).toString("utf8")
  }
}

/** Whether any process is left in the group `pgid` (a signal 0 checks without sending anything). */
const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (e) {
    // EPERM: there is one, though not ours to signal; ESRCH: the group is empty.
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

export const runGate = (spec: GateSpec): Effect.Effect<GateResult, GateSpawnError> =>
  Effect.async<GateResult, GateSpawnError>((resume) => {
    const started = Date.now()
    const tail = new TailBuffer(spec.tailBytes ?? 64 * 1024)
    ensurePrivateDir(dirname(spec.logPath))
    const log = createWriteStream(spec.logPath, privateWrite)
    // A log that cannot be written (its directory gone, a full disk) loses the log, not the gate: the
    // result still carries the output's tail, and the problem is logged with it. Without a listener the
    // stream's error would be thrown at the top of the process.
    let logProblem: string | undefined
    log.on("error", (e) => {
      logProblem ??= e.message
    })
    const reportLog = Effect.suspend(() =>
      logProblem === undefined
        ? Effect.void
        : Effect.logWarning(`the gate's log ${spec.logPath} could not be written: ${logProblem}`),
    )
    // detached: the command leads a new process group, so a timeout kills everything it started.
    const [command, ...commandArgs] = spec.argv ?? ["sh", "-c", spec.command]
    const record = spec.pidRecord
    const waits = record !== undefined || spec.beforeStart !== undefined
    const [program, args] = waits ? gated(command, commandArgs) : [command, commandArgs]
    const child = spawn(program, args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env, CI: "true" },
      detached: true,
      // Closed right after the go line (or at once): the command reads nothing from it, as from /dev/null.
      stdio: ["pipe", "pipe", "pipe"],
    })
    const forgetPid = () => {
      if (record === undefined) return
      try {
        removePidRecord(record.root, record.storyId, record.name)
      } catch {
        // A leftover record is only looked at (and its pid checked) by the next start.
      }
    }
    if (record !== undefined && child.pid !== undefined) {
      try {
        writePidRecord(record.root, record.storyId, record.name, child.pid)
      } catch {
        // Without it only a SIGKILL'd server's gate goes unreaped.
      }
    }
    if (waits && child.pid !== undefined) spec.beforeStart?.(child.pid)
    // The go line, when the child waits for one. A child that died first closed the pipe: nothing to tell.
    child.stdin.on("error", () => undefined)
    child.stdin.end(waits ? "\n" : undefined)
    let timedOut = false
    let settled = false
    // The command leads its own session and group (detached calls setsid): the group, the session and
    // every descendant, including one that moved to a session of its own while its parent still ran.
    // Set once the command's tree was swept at its exit: a SIGKILLed tree starts nothing new, so a later
    // sweep (at "close") needs no second look through /proc.
    let swept = false
    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return
      const tree = swept ? [] : processTree(child.pid)
      try {
        process.kill(-child.pid, signal)
      } catch {
        // The group already exited.
      }
      for (const pid of tree) {
        try {
          process.kill(pid, signal)
        } catch {
          // Already gone.
        }
      }
    }
    const timer = setTimeout(() => {
      timedOut = true
      killGroup("SIGTERM")
      setTimeout(() => killGroup("SIGKILL"), 2_000).unref()
    }, spec.timeoutMillis)
    // The result is given on "close" (all output read). A process that escaped the kill and holds the
    // pipes open would hold that back for ever: once the command has exited and its tree is killed, the
    // pipes get a moment to drain and are then closed from this side.
    let drain: NodeJS.Timeout | undefined
    child.on("exit", () => {
      // The usual end leaves nothing in the command's group. Then the look through /proc (a read per process
      // on the machine, for every gate) is skipped: with the group empty, all it could still find is a
      // process of the command's session in a group of its own (job control, `set -m`), which is left
      // running. Anything left in the group, and a timeout or an interruption, get the whole sweep.
      if (child.pid !== undefined && groupAlive(child.pid)) killGroup("SIGKILL")
      swept = true
      drain = setTimeout(() => {
        child.stdout.destroy()
        child.stderr.destroy()
      }, 1_000)
    })
    // Both pipes are always drained into the log and the tail: the child never blocks on a full pipe.
    const onData = (chunk: Buffer) => {
      tail.push(chunk)
      log.write(chunk)
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("error", (error) => {
      if (settled) return
      settled = true
      forgetPid()
      clearTimeout(timer)
      log.end()
      resume(Effect.fail(new GateSpawnError({ command: spec.command, detail: error.message })))
    })
    child.on("close", (code, signal) => {
      clearTimeout(drain)
      if (settled) return
      settled = true
      clearTimeout(timer)
      // Anything the command left running in its group goes with it.
      killGroup("SIGKILL")
      forgetPid()
      log.end(() =>
        resume(
          Effect.as(reportLog, {
            command: spec.command,
            passed: code === 0 && !timedOut,
            exitCode: code,
            signal,
            timedOut,
            durationMillis: Date.now() - started,
            outputBytes: tail.total,
            tail: tail.text(),
            tailTruncated: tail.total > (spec.tailBytes ?? 64 * 1024),
            logPath: spec.logPath,
          }),
        ),
      )
    })
    return Effect.sync(() => {
      clearTimeout(timer)
      clearTimeout(drain)
      killGroup("SIGKILL")
      forgetPid()
      log.end()
    })
  })
