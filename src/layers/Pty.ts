// src/layers/Pty.ts — agent processes in a pseudo-terminal, owned by a Scope: when the scope closes
// (stop, crash, interruption, server shutdown) the whole process group and session are killed,
// so no agent or anything it started outlives its owner; and a program can be held until its pid is
// recorded, so a server killed outright leaves it recorded or not started. Used by AgentActor.
import { Deferred, Effect, Queue, Schema, type Scope } from "effect"
import * as pty from "node-pty"
import { gated } from "./goLine.js"
import { isRunning, processTree } from "./processTable.js"
import { type HeldTerminal, holdTerminal } from "./ptyDrain.js"
import { waitAtMost } from "./waitAtMost.js"

export { isRunning, processTree } from "./processTable.js"

export class PtySpawnError extends Schema.TaggedError<PtySpawnError>()("PtySpawnError", {
  command: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `could not start ${this.command}: ${this.detail} (check that it is installed and on PATH)`
  }
}

export interface PtyExit {
  readonly exitCode: number
  readonly signal: number
}

export interface PtySpec {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  readonly cols?: number
  readonly rows?: number
  /** How long a SIGTERM'd process gets before SIGKILL. */
  readonly graceMillis?: number
  /**
   * Done with the child's pid before its program starts (its pid record): until then the child waits in a
   * shell reading one line from its terminal, and a server killed meanwhile leaves nothing running (the
   * read ends without a line, and the shell exits instead of starting the program).
   */
  readonly beforeStart?: (pid: number) => Effect.Effect<void>
}

export interface PtyProcess {
  readonly pid: number
  /** Output chunks as the terminal produced them (already decoded as UTF-8). */
  readonly output: Queue.Dequeue<string>
  readonly exit: Deferred.Deferred<PtyExit>
  readonly write: (data: string) => Effect.Effect<void>
}

/** Signals the leader's group, session and descendants; returns the processes it found (one /proc scan). */
const signalAll = (leader: number, signal: NodeJS.Signals): ReadonlyArray<number> => {
  // The PTY child is a session and group leader (forkpty calls setsid): list its session and
  // descendants first (they reparent once the leader dies), then kill the group and each of them.
  const tree = processTree(leader)
  try {
    process.kill(-leader, signal)
  } catch {
    // The group is already gone.
  }
  for (const pid of tree) {
    try {
      process.kill(pid, signal)
    } catch {
      // Already exited.
    }
  }
  return tree
}

/**
 * Kills the process and everything it started: SIGTERM, a grace period, then SIGKILL, and returns
 * once none of them runs any more (bounded, so a stuck kernel cannot hang shutdown). It runs as
 * a release (uninterruptible): the grace wait is bounded by `waitAtMost`, or an agent that ignores
 * SIGTERM would never get its SIGKILL.
 */
const terminate = (proc: PtyProcess, held: HeldTerminal, graceMillis: number) =>
  Effect.gen(function* () {
    // Every process seen in either sweep: those found before SIGTERM may have reparented since.
    const tree = new Set<number>()
    if (!(yield* Deferred.isDone(proc.exit))) {
      yield* Effect.sync(() => signalAll(proc.pid, "SIGTERM").forEach((pid) => tree.add(pid)))
      yield* waitAtMost(Deferred.await(proc.exit), graceMillis)
    }
    // Children can outlive the leader's exit; sweep the session and descendants either way.
    yield* Effect.sync(() => {
      signalAll(proc.pid, "SIGKILL").forEach((pid) => tree.add(pid))
      for (const pid of tree) {
        try {
          process.kill(pid, "SIGKILL")
        } catch {
          // Already gone.
        }
      }
    })
    // SIGKILL cannot be ignored: only a process stuck in the kernel outlives this bound, and a stop
    // must still end (grace + at most a second, the promise docs/agents.md makes).
    for (let i = 0; i < 50 && [...tree].some(isRunning); i++) yield* Effect.sleep("10 millis")
    // Nothing runs in the terminal any more: what it printed has been read, or never will be.
    held.release()
  })

export const spawnPty = (spec: PtySpec): Effect.Effect<PtyProcess, PtySpawnError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const output = yield* Queue.unbounded<string>()
      const exit = yield* Deferred.make<PtyExit>()
      // Gated: a shell waits for the go line on its terminal, then becomes the program (goLine.ts).
      const [program, args] =
        spec.beforeStart === undefined ? [spec.command, spec.args] : gated(spec.command, spec.args)
      const term = yield* Effect.try({
        try: () =>
          pty.spawn(program, [...args], {
            name: "xterm-256color",
            cols: spec.cols ?? 200,
            rows: spec.rows ?? 50,
            cwd: spec.cwd,
            env: { ...spec.env },
          }),
        catch: (e) =>
          new PtySpawnError({ command: spec.command, detail: e instanceof Error ? e.message : String(e) }),
      })
      // Held until the process has exited and its output was read (see ptyDrain).
      const held = holdTerminal(term.pid, (term as { readonly ptsName?: string }).ptsName)
      // Callbacks from node-pty run outside any fiber: they only hand data to the queue/deferred.
      term.onData((chunk) => {
        held.sawOutput()
        Queue.unsafeOffer(output, chunk)
      })
      term.onExit(({ exitCode, signal }) => {
        Deferred.unsafeDone(exit, Effect.succeed({ exitCode, signal: signal ?? 0 }))
      })
      const proc: PtyProcess = {
        pid: term.pid,
        output,
        exit,
        write: (data: string) => Effect.sync(() => term.write(data)),
      }
      if (spec.beforeStart !== undefined) {
        yield* spec.beforeStart(term.pid)
        // The go line: the terminal echoes it, so the output starts with an empty line (readers skip it).
        term.write("\n")
      }
      return { proc, held }
    }),
    ({ proc, held }) => terminate(proc, held, spec.graceMillis ?? 3_000),
  ).pipe(Effect.map(({ proc }) => proc))
