// test/layers/GateStart.test.ts — a gate with a pid record starts its command only once the record is on
// disk: until then the child waits for a line on its stdin pipe, and a server killed meanwhile leaves
// nothing running, not even the command it was about to start.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { runGate } from "../../src/layers/Gates.js"
import { killServerBeforeGo } from "../support/gatedChild.js"
import { scopedTempDir } from "../support/tempDir.js"

/** Blocks the thread, as a slow record write would: nothing else in this process runs meanwhile. */
const blockFor = (millis: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, millis)

describe("a gate's start", () => {
  it.live("with a pid record, the command runs only once the record is written, as the same process", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const marker = join(dir, "ran")
      const records = join(dir, ".huskies", "run", "agents")
      const seen: Array<{ pid: number; recorded: ReadonlyArray<string>; ranMeanwhile: boolean }> = []
      const result = yield* runGate({
        command: `echo $$ > ${marker}`,
        cwd: dir,
        timeoutMillis: 10_000,
        logPath: join(dir, "gate.log"),
        pidRecord: { root: dir, storyId: "1_story_gated", name: "gates" },
        beforeStart: (pid) => {
          const recorded = readdirSync(records).map((f) => readFileSync(join(records, f), "utf8"))
          blockFor(300)
          seen.push({ pid, recorded, ranMeanwhile: existsSync(marker) })
        },
      })
      expect(result).toMatchObject({ passed: true, exitCode: 0 })
      const [start] = seen
      expect(start?.ranMeanwhile).toBe(false)
      expect(start?.recorded.map((r) => (JSON.parse(r) as { pid: number }).pid)).toEqual([start?.pid])
      // exec kept the pid: the record names the command's own process.
      expect(Number(readFileSync(marker, "utf8").trim())).toBe(start?.pid)
    }).pipe(Effect.scoped),
  )

  it.live("a server killed before the go line leaves nothing running, and the command never starts", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const marker = join(dir, "ran")
      // The "server" starts a gated child as runGate does (its own session, the go line awaited on a stdin
      // pipe) and never sends the line: its pipe closed, the waiting shell reads no line and exits.
      yield* killServerBeforeGo(
        `const { spawn } = require("node:child_process");
         const child = spawn("/bin/sh", ["-c", process.argv[1], "sh", "-c", "echo ran > " + process.argv[2]],
           { detached: true, stdio: ["pipe", "ignore", "ignore"] });
         console.log(child.pid);
         setInterval(() => {}, 1000);`,
        marker,
      )
      yield* Effect.sleep("200 millis")
      expect(existsSync(marker)).toBe(false)
    }).pipe(Effect.scoped),
  )
})
