// test/layers/Pty.test.ts — agent processes in a PTY: output and exit code arrive (all of the output, also
// a burst right before the exit), and closing the owning scope leaves no process behind, including
// children in the background or in a new session.
import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Exit, Fiber, Option, Queue, Scope } from "effect"
import { isRunning, processTree, spawnPty } from "../../src/layers/Pty.js"

const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", TERM: "xterm-256color" }

/** Reads output until `pattern` appears (or the process exits). */
const readUntil = (output: Queue.Dequeue<string>, pattern: RegExp) =>
  Effect.gen(function* () {
    let seen = ""
    while (!pattern.test(seen)) seen += yield* Queue.take(output)
    return seen
  }).pipe(Effect.timeout("10 seconds"))

const alive = isRunning

/** SIGKILLs `leader` and everything it started (a test's own clean-up, whatever the code under test did). */
const killAll = (leader: number) => {
  for (const pid of processTree(leader)) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // Already gone.
    }
  }
}

describe("spawnPty", () => {
  it.scoped("delivers output and the exit code", () =>
    Effect.gen(function* () {
      const proc = yield* spawnPty({
        command: "bash",
        args: ["-c", "echo hello from the pty; exit 7"],
        cwd: "/",
        env,
      })
      const exit = yield* Deferred.await(proc.exit)
      expect(exit.exitCode).toBe(7)
      const output = (yield* Queue.takeAll(proc.output)).pipe((c) => [...c].join(""))
      expect(output).toContain("hello from the pty")
    }),
  )

  it.live("a burst printed just before the exit arrives whole, before the exit is reported", () =>
    Effect.gen(function* () {
      // Some 100 KB in the last moment of the process: node-pty alone loses the tail in most runs on Linux.
      const script = `for i in $(seq 1 2000); do echo "line $i of the burst, padded to about fifty bytes"; done; echo END`
      for (let run = 0; run < 10; run++) {
        const output = yield* Effect.scoped(
          Effect.gen(function* () {
            const proc = yield* spawnPty({ command: "bash", args: ["-c", script], cwd: "/", env })
            expect((yield* Deferred.await(proc.exit)).exitCode).toBe(0)
            return [...(yield* Queue.takeAll(proc.output))].join("")
          }),
        )
        expect(output.split("\n").filter((l) => l.startsWith("line ")).length).toBe(2000)
        expect(output).toContain("END")
      }
    }),
  )

  it.effect("closing the scope kills the agent, its background children and a child in a new session", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const proc = yield* spawnPty({
        command: "bash",
        args: ["-c", "sleep 300 & setsid sleep 301 & trap '' TERM; echo ready; wait"],
        cwd: "/",
        env,
        graceMillis: 500,
      }).pipe(Scope.extend(scope))
      yield* readUntil(proc.output, /ready/)
      const tree = processTree(proc.pid)
      // bash, the background sleep and the setsid'd sleep.
      expect(tree.length).toBeGreaterThanOrEqual(3)
      yield* Scope.close(scope, Exit.void)
      // The leader ignores SIGTERM, so this also proves the SIGKILL after the grace period.
      const survivors = tree.filter(alive)
      expect(survivors).toEqual([])
    }),
  )

  it.effect("an interrupted owner fiber also leaves nothing running", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<ReadonlyArray<number>>()
      const fiber = yield* Effect.fork(
        Effect.scoped(
          Effect.gen(function* () {
            const proc = yield* spawnPty({
              command: "bash",
              args: ["-c", "sleep 300 & echo ready; wait"],
              cwd: "/",
              env,
              graceMillis: 500,
            })
            yield* readUntil(proc.output, /ready/)
            yield* Deferred.succeed(started, processTree(proc.pid))
            return yield* Effect.never
          }),
        ),
      )
      const tree = yield* Deferred.await(started)
      expect(tree.length).toBeGreaterThanOrEqual(2)
      yield* Fiber.interrupt(fiber)
      expect(tree.filter(alive)).toEqual([])
    }),
  )

  // Issue 10, item 7: the grace wait ran in the release of acquireRelease (uninterruptible), where a
  // timeout can never interrupt it, so an agent deaf to SIGTERM hung every stop and never got its SIGKILL.
  it.live("an agent that ignores SIGTERM is SIGKILLed after the grace period, even from a finalizer", () =>
    Effect.gen(function* () {
      const graceMillis = 300
      const scope = yield* Scope.make()
      const proc = yield* spawnPty({
        command: "bash",
        args: ["-c", "trap '' TERM HUP; echo ready; while true; do sleep 1; done"],
        cwd: "/",
        env,
        graceMillis,
      }).pipe(Scope.extend(scope))
      // Whatever happens below, the test leaves nothing running.
      yield* Effect.addFinalizer(() => Effect.sync(() => killAll(proc.pid)))
      yield* readUntil(proc.output, /ready/)
      const startedAt = yield* Clock.currentTimeMillis
      // Closed as an actor's finalizer closes it: uninterruptibly. Disconnected, so that on a hang this
      // test fails on its own deadline instead of waiting for ever.
      const closed = yield* Effect.uninterruptible(Scope.close(scope, Exit.void)).pipe(
        Effect.disconnect,
        Effect.timeoutOption("10 seconds"),
      )
      const tookMillis = (yield* Clock.currentTimeMillis) - startedAt
      expect(Option.isSome(closed)).toBe(true)
      expect(alive(proc.pid)).toBe(false)
      expect(tookMillis).toBeGreaterThanOrEqual(graceMillis)
      expect(tookMillis).toBeLessThan(graceMillis + 1_000)
    }).pipe(Effect.scoped),
  )

  it.effect("a command that does not exist fails with its name", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const proc = yield* spawnPty({ command: "/nonexistent/agent-cli", args: [], cwd: "/", env })
        const exit = yield* Deferred.await(proc.exit).pipe(Effect.timeout("10 seconds"))
        expect(exit.exitCode).not.toBe(0)
      }).pipe(
        Effect.catchTag("PtySpawnError", (e) =>
          Effect.sync(() => expect(e.message).toContain("/nonexistent/agent-cli")),
        ),
      ),
    ),
  )
})
