// test/actors/agentFiles.test.ts — finding an agent's program on real files in a temp dir: the start path's
// non-blocking findProgram answers as the blocking resolveProgram does, case by case.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { findProgram, resolveProgram } from "../../src/actors/agentFiles.js"
import { scopedTempDir } from "../support/tempDir.js"

const script = (path: string, text: string, mode = 0o755) => {
  writeFileSync(path, text)
  chmodSync(path, mode)
}

describe("findProgram", () => {
  it.scoped("answers as resolveProgram does: working directory, a path, PATH, then huskies' own CLI", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir
      const bin = join(dir, "bin")
      mkdirSync(bin)
      script(join(bin, "agent"), "#!/bin/sh\n")
      script(join(bin, "not-executable"), "#!/bin/sh\n", 0o644)
      const nodeCli = join(dir, "cli.js")
      script(nodeCli, "#!/usr/bin/env node\nconsole.log(1)\n")
      const nativeCli = join(dir, "cli")
      script(nativeCli, "\x7fELF")
      const cases: ReadonlyArray<readonly [string, string, Record<string, string>, string | undefined]> = [
        ["agent", join(dir, "gone"), { PATH: bin }, undefined],
        ["./bin/agent", dir, {}, undefined],
        ["./bin/not-executable", dir, {}, undefined],
        ["agent", dir, { PATH: `/nowhere:${bin}` }, nodeCli],
        ["not-executable", dir, { PATH: bin }, undefined],
        ["claude", dir, { PATH: bin }, nodeCli],
        ["claude", dir, { PATH: bin }, nativeCli],
        ["claude", dir, { PATH: "" }, join(dir, "gone.js")],
      ]
      const found = yield* Effect.forEach(cases, ([command, cwd, env, shipped]) =>
        findProgram(command, cwd, env, shipped),
      )
      expect(found).toEqual(
        cases.map(([command, cwd, env, shipped]) => resolveProgram(command, cwd, env, shipped)),
      )
      expect(found.map((f) => Either.isRight(f))).toEqual([
        false,
        true,
        false,
        true,
        false,
        true,
        true,
        false,
      ])
      expect(found[5]).toEqual(Either.right({ command: process.execPath, args: [nodeCli] }))
      expect(found[6]).toEqual(Either.right({ command: nativeCli, args: [] }))
      expect(Either.getLeft(found[0] ?? Either.right({}))).toEqual(
        expect.objectContaining({ value: expect.stringContaining("working directory") }),
      )
    }),
  )
})
