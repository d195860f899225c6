// test/layers/joinProof.test.ts — a node joins by proving it holds a join token (an HMAC keyed with the
// token's digest, over this challenge and its own key) instead of sending it: the main node admits the proof
// and spends the token; a proof made for another challenge or key, or of a token it never made, is refused
// and spends nothing; a used or expired token is refused as when it is sent.
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { answerChallenge } from "../../src/layers/NodeKeys.js"
import { nodesDbPath, openTrustDb } from "../../src/layers/nodeTrustDb.js"
import { createToken } from "../../src/transports/cli/nodeCommands.js"
import { mainAdmission, otherNode } from "../support/nodes.js"
import { scopedTempDir } from "../support/tempDir.js"

const project = Effect.map(scopedTempDir, (root) => {
  mkdirSync(join(root, ".huskies"))
  return root
})

describe("join proofs", () => {
  it.scoped("admit the node that holds the token, never one that replays or forges a proof", () =>
    Effect.gen(function* () {
      const root = yield* project
      const { admission } = yield* mainAdmission(root)
      const { token } = yield* createToken(root, "worker", "24h")
      const worker = yield* otherNode("node-w1")
      const thief = yield* otherNode("node-thief")

      // What a node sends: a proof, not the token.
      const first = yield* admission.challenge
      const hello = answerChallenge(worker, first, { joinProofOf: token })
      expect(hello.joinToken).toBeUndefined()
      expect(JSON.stringify(hello)).not.toContain(token.split(".")[0]!.slice(4))

      // Whoever saw that Hello cannot join with its proof: not on another challenge, not with its own key.
      const replay = yield* admission.challenge
      const replayed = yield* Effect.flip(
        admission.admit(replay, { ...answerChallenge(thief, replay), joinProof: hello.joinProof! }),
      )
      expect(replayed.reason).toBe("token-unknown")
      // A proof of a token this main node never made.
      const forged = yield* admission.challenge
      const unknown = yield* Effect.flip(
        admission.admit(forged, answerChallenge(thief, forged, { joinProofOf: "hkj_made-up" })),
      )
      expect(unknown.reason).toBe("token-unknown")

      // Nothing was spent: the node the token was made for joins with it, and spends it.
      expect(yield* admission.admit(first, hello)).toMatchObject({ node: "node-w1", role: "worker" })
      const again = yield* admission.challenge
      const used = yield* Effect.flip(
        admission.admit(again, answerChallenge(thief, again, { joinProofOf: token })),
      )
      expect(used.reason).toBe("token-used")
      const db = yield* openTrustDb(nodesDbPath(root))
      expect((yield* db.listNodes).map((n) => n.id)).toEqual(["node-w1"])
    }),
  )

  it.scoped("refuse the proof of an expired token", () =>
    Effect.gen(function* () {
      const root = yield* project
      // Revocations polled rarely: the clock jumps two hours.
      const { admission } = yield* mainAdmission(root, { pollEvery: "1 day" })
      const { token } = yield* createToken(root, "worker", "1h")
      yield* TestClock.adjust("2 hours")
      const challenge = yield* admission.challenge
      const worker = yield* otherNode("node-w1")
      const expired = yield* Effect.flip(
        admission.admit(challenge, answerChallenge(worker, challenge, { joinProofOf: token })),
      )
      expect(expired.reason).toBe("token-expired")
    }),
  )
})
