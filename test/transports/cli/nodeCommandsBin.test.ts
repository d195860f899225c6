// test/transports/cli/nodeCommandsBin.test.ts — `huskies token` and `huskies node` as a person runs them
// (bin/huskies.js in its own process): the token alone on stdout, errors as one line and exit code 1, and
// a revoke from the command reaching a running admission within a second.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Stream } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { answerChallenge } from "../../../src/layers/NodeKeys.js"
import { runCli } from "../../support/cli.js"
import { mainAdmission, otherNode } from "../../support/nodes.js"
import { scopedTempDir } from "../../support/tempDir.js"

const huskies = (args: ReadonlyArray<string>) => Effect.promise(() => runCli(args))

describe("huskies token / node (the command)", () => {
  it.scopedLive(
    "token create prints the token alone; node revoke reaches the running admission within a second",
    () =>
      Effect.gen(function* () {
        const root = yield* scopedTempDir
        mkdirSync(join(root, ".huskies"))
        const made = yield* huskies(["token", "create", "--ttl", "1h", root])
        expect(made.code, made.stderr).toBe(0)
        const token = made.stdout.trim()
        // The secret, then the digest of the main node's key, which the joining node pins.
        expect(made.stdout).toMatch(/^hkj_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}\n$/)
        expect(made.stderr).toContain("shown only now")
        expect(made.stderr).not.toContain(token)

        const listed = yield* huskies(["token", "list", root])
        expect(listed.stdout).toMatch(/ worker .* unused/)
        expect(listed.stdout + listed.stderr).not.toContain(token)

        const { admission } = yield* mainAdmission(root, { pollEvery: "100 millis" })
        const worker = yield* otherNode("node-w1")
        const challenge = yield* admission.challenge
        const { ticket } = yield* admission.admit(
          challenge,
          answerChallenge(worker, challenge, { joinToken: token, label: "box-1" }),
        )
        expect((yield* huskies(["node", "list", root])).stdout).toMatch(/node-w1 +box-1 +worker .* trusted/)

        const revoked = yield* admission.revocations.pipe(Stream.runHead, Effect.fork)
        // Let the fork subscribe; the command's process takes far longer to start than that.
        for (let i = 0; i < 3; i++) yield* Effect.yieldNow()
        const revoke = yield* huskies(["node", "revoke", "node-w1", root])
        expect(revoke.code, revoke.stderr).toBe(0)
        expect(revoke.stdout).toContain("revoked node-w1")
        expect(yield* Fiber.join(revoked).pipe(Effect.timeout("1 second"))).toEqual(Option.some("node-w1"))
        expect(yield* admission.byTicket(ticket)).toEqual(Option.none())
        expect((yield* huskies(["node", "list", root])).stdout).toMatch(/node-w1 .* revoked at /)
      }),
    60_000,
  )

  it.scopedLive("mistakes are one line on stderr and exit code 1", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const bare = yield* huskies(["token", "create", root])
      expect(bare.code).toBe(1)
      expect(bare.stderr).toMatch(/^huskies: .*no \.huskies\/ here/m)
      mkdirSync(join(root, ".huskies"))
      const ttl = yield* huskies(["token", "create", "--ttl", "2y", root])
      expect(ttl.code).toBe(1)
      expect(ttl.stderr).toContain("huskies: --ttl")
      expect(ttl.stdout).toBe("")
      const unknown = yield* huskies(["node", "revoke", "node-x", root])
      expect(unknown.code).toBe(1)
      expect(unknown.stderr).toContain("huskies: no node node-x has joined this project")
    }),
  )
})
