// test/support/gatedChild.ts — for the tests of goLine.ts's gate (PtyGate, GateStart): a "server", a node
// process running a script that starts a gated child and prints its pid, SIGKILLed before it sends the
// child its go line; waits until the child, left without a line, has exited.
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { isRunning } from "../../src/layers/processTable.js"
import { waitForGo } from "../../src/layers/goLine.js"
import { eventually, holds } from "./waits.js"

/** Runs `script` (given waitForGo and `marker` as argv[1] and [2]), kills it, and returns the child's pid. */
export const killServerBeforeGo = (
  script: string,
  marker: string,
  env?: NodeJS.ProcessEnv,
): Effect.Effect<number> =>
  Effect.gen(function* () {
    const server = spawn(process.execPath, ["-e", script, waitForGo, marker], {
      stdio: ["ignore", "pipe", "inherit"],
      ...(env === undefined ? {} : { env }),
    })
    const pid = yield* Effect.promise(
      () =>
        new Promise<number>((resolve) =>
          server.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim()))),
        ),
    )
    expect(isRunning(pid)).toBe(true)
    server.kill("SIGKILL")
    yield* eventually(
      `the gated child ${pid} to exit`,
      Effect.sync(() => holds(!isRunning(pid))),
      {
        millis: 5_000,
      },
    )
    return pid
  })
