// test/layers/PtyGate.test.ts — an agent's program starts only once the server has done what it must
// first (its pid record): until then the child waits on its terminal, and a server killed meanwhile
// leaves nothing running, not even the program it was about to start.
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { isRunning, spawnPty } from "../../src/layers/Pty.js"
import { killServerBeforeGo } from "../support/gatedChild.js"
import { tempDir } from "../support/tempDir.js"

const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", TERM: "xterm-256color" }

describe("spawnPty's beforeStart", () => {
  it.live("the program runs only after beforeStart is done, as the same process", () =>
    Effect.gen(function* () {
      const { dir, cleanup } = tempDir()
      yield* Effect.addFinalizer(() => Effect.sync(cleanup))
      const marker = join(dir, "ran")
      const called = yield* Deferred.make<number>()
      const go = yield* Deferred.make<void>()
      const spawning = yield* Effect.fork(
        spawnPty({
          command: "bash",
          args: ["-c", `echo $$ > ${marker}; echo started`],
          cwd: dir,
          env,
          beforeStart: (pid) => Effect.zipRight(Deferred.succeed(called, pid), Deferred.await(go)),
        }),
      )
      const pid = yield* Deferred.await(called)
      yield* Effect.sleep("300 millis")
      // The child is there, waiting: the program has not run.
      expect(isRunning(pid)).toBe(true)
      expect(existsSync(marker)).toBe(false)
      yield* Deferred.succeed(go, undefined)
      const proc = yield* Fiber.join(spawning)
      expect((yield* Deferred.await(proc.exit)).exitCode).toBe(0)
      // exec kept the pid: the record written for it names the program's process.
      expect(Number(readFileSync(marker, "utf8").trim())).toBe(pid)
      expect(proc.pid).toBe(pid)
    }).pipe(Effect.scoped),
  )

  it.live(
    "a server killed before beforeStart is done leaves nothing running, and the program never starts",
    () =>
      Effect.gen(function* () {
        const { dir, cleanup } = tempDir()
        yield* Effect.addFinalizer(() => Effect.sync(cleanup))
        const marker = join(dir, "ran")
        // The "server" spawns the gated child in a PTY and never sends the go line: its terminal gone,
        // the waiting shell reads no line and exits.
        const ptyModule = createRequire(import.meta.url).resolve("node-pty")
        yield* killServerBeforeGo(
          `const pty = require(${JSON.stringify(ptyModule)});
           const t = pty.spawn("/bin/sh", ["-c", process.argv[1], "bash", "-c", "echo ran > " + process.argv[2]], { cwd: "/", env: process.env });
           console.log(t.pid);
           setInterval(() => {}, 1000);`,
          marker,
          env,
        )
        yield* Effect.sleep("200 millis")
        expect(existsSync(marker)).toBe(false)
      }).pipe(Effect.scoped),
  )
})
