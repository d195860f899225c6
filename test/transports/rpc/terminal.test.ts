// test/transports/rpc/terminal.test.ts — an agent's terminal as /rpc streams it from a session log: lines
// appended while it is watched arrive as Output and the end as Ended; a log too long to send whole is
// sent in bounded chunks, its middle skipped with a marker saying how much.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Stream } from "effect"
import { appendFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { liveSession, pastSession } from "../../../src/transports/rpc/terminal.js"
import { scopedTempDir } from "../../support/tempDir.js"

const textLine = (text: string) => `${JSON.stringify({ type: "event", event: { _tag: "Text", text } })}\n`

const textOf = (chunks: Iterable<{ readonly _tag: string; readonly text?: string }>) =>
  [...chunks].map((c) => c.text ?? "").join("")

describe("the terminal stream of a session log", () => {
  it.scopedLive("follows a running session: scrollback, what is appended, then its end", () =>
    Effect.gen(function* () {
      const path = join(yield* scopedTempDir, "coder-1-1.jsonl")
      writeFileSync(path, JSON.stringify({ type: "session_start", agent: "coder-1", session: 1 }) + "\n")
      appendFileSync(path, textLine("before"))
      const ended = yield* Deferred.make<"succeeded" | undefined>()
      // Pulled one chunk at a time, so what is appended between two pulls is read by the second.
      const pull = yield* Stream.toPull(liveSession(path, Deferred.await(ended)))
      const take = pull.pipe(Effect.map(Chunk.toReadonlyArray), Effect.timeout("5 seconds"), Effect.orDie)
      expect(yield* take).toEqual([{ _tag: "Scrollback", text: "── coder-1 session 1 ──\r\nbefore\r\n" }])

      // Appended after the watch began, before the scrollback was all read: Output, not Scrollback. Half a
      // line is not shown until its end is written.
      appendFileSync(path, textLine("during").slice(0, 10))
      appendFileSync(path, textLine("during").slice(10))
      expect(yield* take).toEqual([{ _tag: "Output", text: "during\r\n" }])

      appendFileSync(path, textLine("last words"))
      yield* Deferred.succeed(ended, "succeeded")
      const rest: Array<{ readonly _tag: string; readonly text?: string }> = []
      while (rest.at(-1)?._tag !== "Ended") rest.push(...(yield* take))
      expect(textOf(rest)).toBe("last words\r\n")
      expect(rest.at(-1)).toEqual({ _tag: "Ended", outcome: "succeeded" })
    }),
  )

  it.scopedLive("a long log goes in bounded chunks, its middle skipped with a marker", () =>
    Effect.gen(function* () {
      const path = join(yield* scopedTempDir, "coder-1-2.jsonl")
      const line = textLine(`${"x".repeat(1000)}`)
      // About 10 MB of output: more than a terminal is sent at once.
      writeFileSync(path, textLine("the very first line") + line.repeat(10_000) + textLine("the end"))
      const chunks = Chunk.toReadonlyArray(yield* Stream.runCollect(pastSession(path, "failed")))
      const shown = textOf(chunks)
      expect(shown).not.toContain("the very first line")
      expect(shown).toMatch(/\[… \d+ bytes of output not shown …\]/)
      expect(shown.endsWith("the end\r\n")).toBe(true)
      // What is sent is bounded by the skip (4 MiB of log), not by the log.
      expect(shown.length).toBeLessThan(4.5 * 1024 * 1024)
      expect(chunks.length).toBeGreaterThan(10)
      expect(chunks.at(-1)).toEqual({ _tag: "Ended", outcome: "failed" })
    }),
  )
})
