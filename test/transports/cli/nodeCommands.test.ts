// test/transports/cli/nodeCommands.test.ts — `huskies token create|list` and `huskies node list|revoke`
// through their handlers on a real nodes.db: a token is shown once and stored only as its digest, lists
// say what became of each token and node, and a revoke is refused by the admission from then on.
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { mkdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import {
  answerChallenge,
  keyFingerprint,
  mainKeyDigest,
  nodeKeyPath,
  publicKeyText,
  readOrCreateNodeKey,
} from "../../../src/layers/NodeKeys.js"
import { joinTokenDigest, nodesDbPath } from "../../../src/layers/nodeTrustDb.js"
import {
  createToken,
  listNodes,
  listTokens,
  nodeListText,
  parseTtl,
  revokeNode,
} from "../../../src/transports/cli/nodeCommands.js"
import { mainAdmission, otherNode } from "../../support/nodes.js"
import { scopedTempDir } from "../../support/tempDir.js"

const project = Effect.map(scopedTempDir, (root) => {
  mkdirSync(join(root, ".huskies"))
  return root
})

describe("huskies token / node", () => {
  it("reads a ttl as a number and a unit", () => {
    expect(parseTtl("24h")).toBe(86_400_000)
    expect(parseTtl("30m")).toBe(1_800_000)
    expect(parseTtl("7d")).toBe(7 * 86_400_000)
    expect(parseTtl("90s")).toBe(90_000)
    for (const bad of ["", "24", "h", "0h", "2y", "366d", "-1h", "1.5h"])
      expect(parseTtl(bad), bad).toMatchObject({ _tag: "NodeCommandError" })
  })

  it("shows a node's own label without the control characters it may carry", () => {
    const text = nodeListText([
      {
        id: "node-x",
        publicKey: "k",
        role: "worker",
        label: "box\u001b[2J\nrm",
        addedAt: 0,
        revokedAt: undefined,
        lastSeenAt: undefined,
        tokenId: undefined,
      },
    ])
    expect(text.split("\n")[1]).toMatch(/^node-x +box\?\[2J\?rm +worker/)
  })

  it.scoped("a project without .huskies/ is refused", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const error = yield* Effect.flip(createToken(root, "worker", "24h"))
      expect(error._tag).toBe("ProjectNotInitialised")
    }),
  )

  it.scoped("token create shows the token once; nodes.db holds its digest, never the token", () =>
    Effect.gen(function* () {
      const root = yield* project
      yield* TestClock.setTime(Date.parse("2026-12-07T10:00:00Z"))
      const made = yield* createToken(root, "read-only", "2h")
      expect(made.token).toMatch(/^hkj_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/)
      const [secret, digest] = made.token.split(".")
      // After the dot: the digest of the key this main node signs its Welcomes with.
      expect(digest).toBe(mainKeyDigest(publicKeyText(yield* readOrCreateNodeKey(nodeKeyPath(root)))))
      expect(made.hint).not.toContain(made.token)
      expect(made.hint).toContain("huskies agent --rendezvous")
      expect(made.record).toMatchObject({ role: "read-only", expiresAt: Date.parse("2026-12-07T12:00:00Z") })
      const bytes = readFileSync(nodesDbPath(root)).toString("latin1")
      expect(bytes).not.toContain(secret!.slice(4))
      expect(made.record.id).toBe(joinTokenDigest(secret!).slice(0, 12))

      const other = yield* createToken(root, "worker", "24h")
      expect(other.token).not.toBe(made.token)
      const list = yield* listTokens(root)
      expect(list).not.toContain(made.token)
      expect(list.split("\n")).toEqual([
        expect.stringMatching(/^ID +ROLE +CREATED +EXPIRES +STATE$/),
        expect.stringMatching(
          new RegExp(`^${made.record.id} +read-only +2026-12-07T10:00:00Z +2026-12-07T12:00:00Z +unused$`),
        ),
        expect.stringMatching(new RegExp(`^${other.record.id} +worker .* unused$`)),
      ])
      yield* TestClock.adjust("3 hours")
      expect(yield* listTokens(root)).toMatch(new RegExp(`${made.record.id} .* expired`))
    }),
  )

  it.scoped("node list shows who joined with which token; node revoke cuts a node off for good", () =>
    Effect.gen(function* () {
      const root = yield* project
      expect(yield* listNodes(root)).toContain("no nodes have joined")
      const { admission } = yield* mainAdmission(root)
      const worker = yield* otherNode("node-w1")
      const { token, record } = yield* createToken(root, "worker", "24h")
      const challenge = yield* admission.challenge
      yield* admission.admit(
        challenge,
        answerChallenge(worker, challenge, { joinToken: token, label: "box-1" }),
      )

      expect(yield* listTokens(root)).toMatch(new RegExp(`${record.id} .* used by node-w1 at `))
      const nodes = (yield* listNodes(root)).split("\n")
      expect(nodes[0]).toMatch(/^NODE +LABEL +ROLE +KEY +ADDED +LAST ADMITTED +STATE$/)
      expect(nodes[1]).toMatch(/^node-w1 +box-1 +worker .* trusted$/)
      expect(nodes[1]).toContain(keyFingerprint(worker.publicKey))

      expect(yield* revokeNode(root, "node-w1")).toContain("revoked node-w1")
      expect(yield* revokeNode(root, "node-w1")).toContain("revoked already")
      expect((yield* Effect.flip(revokeNode(root, "node-nobody"))).message).toContain("huskies node list")
      expect(yield* listNodes(root)).toMatch(/node-w1 .* revoked at /)
      const next = yield* admission.challenge
      const refused = yield* Effect.flip(admission.admit(next, answerChallenge(worker, next)))
      expect(refused.reason).toBe("revoked")
    }),
  )
})
