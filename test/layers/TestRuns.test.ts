// test/layers/TestRuns.test.ts — one gate run at a time per item, with real shell commands: a second
// request joins the first, and a run that is stopped (its owner interrupted) holds back no later run.
import { expect, layer } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import { join } from "node:path"
import { TestRuns, TestRunsLive } from "../../src/layers/TestRuns.js"
import { scopedTempDir } from "../support/tempDir.js"
import { eventually, holds } from "../support/waits.js"

const gate = (dir: string, command: string) => ({
  command,
  cwd: dir,
  timeoutMillis: 60_000,
  logPath: join(dir, `${command.length}.log`),
})

/** Waits (bounded) until a run for `key` is in flight. */
const awaitRunning = (key: string) =>
  Effect.flatMap(TestRuns, (runs) =>
    eventually(`a run of ${key} in flight`, Effect.map(runs.running(key), holds), { millis: 10_000 }),
  )

// One TestRuns for the file, as a server has one; each test uses its own item.
layer(TestRunsLive, { excludeTestServices: true })("TestRuns", (it) => {
  it.scoped("a second request joins the run in flight", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const runs = yield* TestRuns
      const first = yield* Effect.fork(runs.run("1_story_a", gate(dir, "sleep 0.5; echo first")))
      yield* awaitRunning("1_story_a")
      const second = yield* runs.run("1_story_a", gate(dir, "echo second"))
      expect(second).toMatchObject({ joined: true, result: { tail: "first\n" } })
      expect(yield* Fiber.join(first)).toMatchObject({ joined: false })
    }),
  )

  // Found with issue 10, item 7: stop_agent during the gates left the run in flight for ever, and the next
  // gates of the item (or run_tests) joined it and waited for ever.
  it.scoped("a run whose owner is interrupted holds back neither later runs nor those that joined it", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const runs = yield* TestRuns
      const owner = yield* Effect.fork(runs.run("2_story_b", gate(dir, "sleep 300")))
      yield* awaitRunning("2_story_b")
      const joiner = yield* Effect.fork(runs.run("2_story_b", gate(dir, "echo joined")))
      // Time for the joiner to join; were it late, it would start its own run and the test still pass.
      yield* Effect.sleep("100 millis")
      yield* Fiber.interrupt(owner)
      const rerun = yield* Fiber.join(joiner).pipe(Effect.timeoutOption("10 seconds"))
      expect(Option.getOrUndefined(rerun)).toMatchObject({ joined: false, result: { tail: "joined\n" } })
      const later = yield* runs
        .run("2_story_b", gate(dir, "echo later"))
        .pipe(Effect.timeoutOption("10 seconds"))
      expect(Option.getOrUndefined(later)).toMatchObject({ joined: false, result: { tail: "later\n" } })
      expect(yield* runs.running("2_story_b")).toBe(false)
    }),
  )
})
