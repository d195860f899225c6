// test/domain/AgentName.test.ts — the agent name rule: the names an outside test got accepted are
// refused with the rule in the message, and every accepted name is one safe path segment.
import { describe, expect, it } from "@effect/vitest"
import { Either, ParseResult, Schema } from "effect"
import * as fc from "fast-check"
import { basename, dirname, join, normalize } from "node:path"
import { AgentName, isAgentNameText, maxAgentNameLength } from "../../src/domain/AgentName.js"

const refusal = (text: string): string =>
  Either.match(Schema.decodeUnknownEither(AgentName)(text), {
    onLeft: (e) => ParseResult.TreeFormatter.formatErrorSync(e),
    onRight: () => "accepted",
  })

describe("AgentName", () => {
  it.each(["coder-1", "qa", "mergemaster", "A.b_c-9", "x".repeat(maxAgentNameLength)])("accepts %j", (n) =>
    expect(isAgentNameText(n)).toBe(true),
  )

  it.each([
    "../../../bin/sh",
    "coder\u0000evil",
    "",
    "coder/1",
    "a\\b",
    ".",
    "..",
    ".hidden",
    "-rf",
    "has space",
    "tab\there",
    "new\nline",
    "x".repeat(maxAgentNameLength + 1),
  ])("refuses %j, saying the rule", (name) => {
    expect(isAgentNameText(name)).toBe(false)
    expect(refusal(name)).toContain(
      'expected an agent name of 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    )
  })

  const candidates = fc.oneof(
    fc.string({ unit: "binary", maxLength: 80 }),
    fc.stringMatching(/^[A-Za-z0-9._/\\\0 -]{0,70}$/),
    fc.constantFrom(".", "..", "./a", "a/..", "a/b", "\0", "a\0"),
  )

  it("accepts only names that are one safe path segment", () => {
    fc.assert(
      fc.property(candidates, (name) => {
        if (!isAgentNameText(name)) return
        expect(name.length).toBeGreaterThan(0)
        expect(name.length).toBeLessThanOrEqual(maxAgentNameLength)
        expect(name).not.toMatch(/[/\\\0\s]/)
        expect([".", ".."]).not.toContain(name)
        expect(name.startsWith("-")).toBe(false)
        expect(basename(name)).toBe(name)
        expect(normalize(name)).toBe(name)
        // Joined under a directory it stays directly inside it, also as part of a file name.
        expect(dirname(join("/base", name))).toBe("/base")
        expect(dirname(join("/base", `${name}-1.jsonl`))).toBe("/base")
      }),
      { numRuns: 2000 },
    )
  })

  it("accepts every name of the allowed letters that starts with a letter or digit", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/), (name) => {
        expect(isAgentNameText(name)).toBe(true)
      }),
    )
  })
})
