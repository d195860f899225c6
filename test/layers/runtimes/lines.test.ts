// test/layers/runtimes/lines.test.ts — splitting terminal output into clean lines: every line ending a
// PTY produces, escape sequences, chunks cut anywhere, lines past the length limit.
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { cleanLine, makeLineSplitter, parseJsonObject } from "../../../src/layers/runtimes/lines.js"

const split = (chunks: ReadonlyArray<string>, max?: number) => {
  const splitter = makeLineSplitter(max)
  return [...chunks.flatMap((c) => splitter.push(c)), ...splitter.end()]
}
const texts = (chunks: ReadonlyArray<string>) => split(chunks).map((l) => l.text)

describe("line splitting", () => {
  it("ends lines at LF, CRLF and a lone CR, and skips empty ones", () => {
    expect(texts(["a\nb\r\nc\rd\n\n\r\ne"])).toEqual(["a", "b", "c", "d", "e"])
  })

  it("joins a line cut across chunks, including a CRLF cut in two", () => {
    expect(texts(['{"type":', '"x"}\r', '\n{"type"', ':"y"}'])).toEqual(['{"type":"x"}', '{"type":"y"}'])
  })

  it("gives the same lines however the text is chunked (property)", () => {
    const piece = fc.constantFrom("ab", '{"k":1}', "\r\n", "\n", "\r", "\u001b[?25l", "é", " ", "")
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (pieces, cuts) => {
          const text = pieces.join("")
          const points = [...new Set([0, ...cuts.map((c) => c % (text.length + 1)), text.length])].sort(
            (a, b) => a - b,
          )
          const chunks = points.slice(1).map((end, i) => text.slice(points[i], end))
          expect(texts(chunks)).toEqual(texts([text]))
        },
      ),
    )
  })

  it("keeps only a prefix of a line over the limit, counts the rest, and goes on", () => {
    const lines = split(["x".repeat(3000), "y".repeat(3000), "\nnext\n"], 4000)
    expect(lines).toEqual([
      { text: "x".repeat(2000), dropped: 4000 },
      { text: "next", dropped: 0 },
    ])
  })
})

describe("line clean-up", () => {
  it("removes escape sequences and control characters, and never touches JSON", () => {
    expect(cleanLine('\u001b[?25l\u001b[2K\u001b[1G{"a":1}\u001b[0m')).toBe('{"a":1}')
    expect(cleanLine('\u001b]0;claude: working\u0007{"a":1}')).toBe('{"a":1}')
    expect(cleanLine("\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\")).toBe("link")
    expect(cleanLine("\u001bc\u001b(B\u000f\u001b7\u001b8\u001b[r\u001b=\u001b>")).toBe("")
    expect(cleanLine("a\u0008\u0007b\u001b")).toBe("ab")
    const json = JSON.stringify({ text: "tab\there \u001b[31m red \u0007 bell \u007f del \u009b c1" })
    expect(cleanLine(json)).toBe(json)
    expect(JSON.parse(cleanLine(`  ${json}\t`))).toEqual(JSON.parse(json))
  })

  it("recognises JSON objects only", () => {
    expect(parseJsonObject('{"type":"x"}')).toEqual({ type: "x" })
    expect(parseJsonObject("[1]")).toBeUndefined()
    expect(parseJsonObject("{oops")).toBeUndefined()
    expect(parseJsonObject("plain text")).toBeUndefined()
  })
})
