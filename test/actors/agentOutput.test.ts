// test/actors/agentOutput.test.ts — the live tail of an agent's output: whatever arrives, it keeps the newest
// lines, at most tailMaxLines of them and tailMaxBytes of UTF-8, and its byte count is the kept lines' own.
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { Buffer } from "node:buffer"
import { appendTail, emptyTail, type Tail, tailMaxBytes, tailMaxLines } from "../../src/actors/agentOutput.js"

const bytesOf = (lines: ReadonlyArray<string>) =>
  lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0)

describe("appendTail", () => {
  it("keeps the newest lines within both bounds, its byte count exact", () => {
    fc.assert(
      fc.property(
        // Batches of lines, some long (clipped to 4,000 characters) and some multi-byte.
        fc.array(
          fc.array(
            fc.oneof(
              fc.string(),
              fc.string({ unit: "grapheme" }),
              fc.string({ minLength: 3990, maxLength: 4100 }),
            ),
            { maxLength: 40 },
          ),
          {
            maxLength: 80,
          },
        ),
        (batches) => {
          let tail: Tail = emptyTail
          const all: Array<string> = []
          for (const batch of batches) {
            tail = appendTail(tail, batch)
            all.push(...batch.map((line) => (line.length <= 4000 ? line : `${line.slice(0, 4000)}…`)))
          }
          expect(tail.bytes).toBe(bytesOf(tail.lines))
          expect(tail.lines.length).toBeLessThanOrEqual(tailMaxLines)
          expect(tail.lines).toEqual(all.slice(all.length - tail.lines.length))
          // As many as fit: one more line would break a bound (a single line is always kept).
          const dropped = all[all.length - tail.lines.length - 1]
          if (dropped !== undefined && tail.lines.length > 0)
            expect(
              tail.lines.length + 1 > tailMaxLines || tail.bytes + Buffer.byteLength(dropped) > tailMaxBytes,
            ).toBe(true)
          if (tail.lines.length > 1) expect(tail.bytes).toBeLessThanOrEqual(tailMaxBytes)
        },
      ),
      { numRuns: 60 },
    )
  })

  it("drops the oldest lines once more than tailMaxLines arrive", () => {
    let tail: Tail = emptyTail
    for (let i = 1; i <= tailMaxLines + 500; i++) tail = appendTail(tail, [`line ${i}`])
    expect(tail.lines.length).toBe(tailMaxLines)
    expect(tail.lines[0]).toBe("line 501")
    expect(tail.lines.at(-1)).toBe(`line ${tailMaxLines + 500}`)
    expect(tail.bytes).toBe(bytesOf(tail.lines))
  })

  it("counts bytes, not characters, against tailMaxBytes", () => {
    // 3,000 lines of 1,000 three-byte characters: 3 MB, so the byte bound (1 MiB) binds long before the count.
    let tail: Tail = emptyTail
    for (let i = 0; i < 3000; i++) tail = appendTail(tail, ["€".repeat(1000)])
    expect(tail.lines.length).toBe(Math.floor(tailMaxBytes / 3000))
    expect(tail.bytes).toBe(tail.lines.length * 3000)
  })
})
