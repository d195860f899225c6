// test/transports/nodes/mainKeyPin.test.ts — how a worker trusts its main node: a Welcome proves its key only
// when signed over this connection's challenge; the key a join token names is pinned (0600) at the first
// Welcome and required from then on; which key a start expects and whether it sends its token, from its
// admission, its pin and the token it was given.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import { generateKeyPairSync, randomBytes } from "node:crypto"
import { existsSync, readFileSync, statSync } from "node:fs"
import { NodeId } from "../../../src/domain/ExecutionState.js"
import {
  answerChallenge,
  identityOf,
  joinTokenParts,
  joinTokenText,
  mainKeyDigest,
  signWelcome,
  verifyWelcome,
} from "../../../src/layers/NodeKeys.js"
import type { Challenge, Welcome } from "../../../src/protocol/nodeHandshake.js"
import { mainKeyTrust } from "../../../src/transports/cli/agentMode.js"
import { mainKeyPinPath, pinnedMainKey, type MainKeyPin } from "../../../src/transports/nodes/mainKeyPin.js"
import { scopedTempDir } from "../../support/tempDir.js"

const newIdentity = (id: string) => identityOf(NodeId.make(id), generateKeyPairSync("ed25519").privateKey)
const main = newIdentity("node-main")
const impostor = newIdentity("node-main")
const worker = newIdentity("node-worker")
const challenge: Challenge = {
  _tag: "Challenge",
  nonce: randomBytes(32).toString("base64url"),
  server: main.node,
  protocols: [1],
}
const welcome: Omit<Welcome, "mainKey" | "signature"> = {
  _tag: "Welcome",
  node: worker.node,
  role: "worker",
  ticket: "t",
  protocol: 1,
}
const nonce = () => randomBytes(32).toString("base64url")

describe("the main node's key on a worker", () => {
  it("a Welcome proves the key that signed it over this Hello's challenge, and nothing else", () => {
    const ours = nonce()
    const hello = answerChallenge(worker, challenge, { challenge: ours })
    const signed = signWelcome(main, challenge, hello, welcome)
    expect(verifyWelcome(challenge, { node: worker.node, challenge: ours }, signed)).toEqual(
      Either.right(main.publicKey),
    )
    // Replayed from another connection (another challenge of ours), or for another node: refused.
    const replayed = verifyWelcome(challenge, { node: worker.node, challenge: nonce() }, signed)
    expect(Either.isLeft(replayed) && replayed.left.reason).toBe("bad-signature")
    const otherNode = verifyWelcome(challenge, { node: NodeId.make("node-other"), challenge: ours }, signed)
    expect(Either.isLeft(otherNode) && otherNode.left.reason).toBe("bad-signature")
    // Another key claimed as the signer's: refused.
    const swapped = verifyWelcome(
      challenge,
      { node: worker.node, challenge: ours },
      { ...signed, mainKey: impostor.publicKey },
    )
    expect(Either.isLeft(swapped) && swapped.left.reason).toBe("bad-signature")
    // A main node that does not sign (it predates this, or is no main node): refused, saying to upgrade it.
    const unsigned = verifyWelcome(challenge, { node: worker.node, challenge: ours }, welcome)
    expect(Either.isLeft(unsigned) && unsigned.left.reason).toBe("unsigned")
    expect(Either.isLeft(unsigned) && unsigned.left.message).toContain("upgrade the main node")
    // A Hello without a challenge (a node from before) gets the Welcome it expects: unsigned.
    expect(signWelcome(main, challenge, answerChallenge(worker, challenge), welcome)).toEqual(welcome)
  })

  it("a join token carries the main key's digest after its dot; the secret comes first", () => {
    const token = joinTokenText("hkj_secret", main.publicKey)
    expect(joinTokenParts(token)).toEqual({
      secret: "hkj_secret",
      mainKeyDigest: mainKeyDigest(main.publicKey),
      malformed: false,
    })
    expect(joinTokenParts("hkj_secret")).toEqual({
      secret: "hkj_secret",
      mainKeyDigest: undefined,
      malformed: false,
    })
    expect(joinTokenParts(token.slice(0, -3)).malformed).toBe(true)
  })

  it.scoped("pins the key the token names at the first Welcome, then trusts only that key", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const trust = yield* pinnedMainKey(root, "ws://main:3001", {
        _tag: "FromToken",
        digest: mainKeyDigest(main.publicKey),
      })
      const refused = yield* Effect.flip(trust({ server: main.node, publicKey: impostor.publicKey }))
      expect(refused.reason).toBe("key-mismatch")
      expect(refused.message).toContain("not the key of the main node that made the join token")
      expect(existsSync(mainKeyPinPath(root))).toBe(false)

      yield* trust({ server: main.node, publicKey: main.publicKey })
      expect(statSync(mainKeyPinPath(root)).mode & 0o777).toBe(0o600)
      const pin = JSON.parse(readFileSync(mainKeyPinPath(root), "utf8")) as MainKeyPin
      expect(pin).toMatchObject({ server: main.node, publicKey: main.publicKey, url: "ws://main:3001" })

      // Pinned now: the same key passes, another is refused with what to do.
      yield* trust({ server: main.node, publicKey: main.publicKey })
      const later = yield* Effect.flip(trust({ server: main.node, publicKey: impostor.publicKey }))
      expect(later.reason).toBe("key-mismatch")
      expect(later.message).toContain("huskies token create")

      // A later start reads the pin: the impostor is refused there too.
      const restarted = yield* pinnedMainKey(root, "ws://main:3001", { _tag: "Pinned", pin })
      expect(
        (yield* Effect.flip(restarted({ server: main.node, publicKey: impostor.publicKey }))).reason,
      ).toBe("key-mismatch")
    }),
  )

  it.scoped("a worker admitted before pins existed pins the first key that signs", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const trust = yield* pinnedMainKey(root, "ws://main:3001", { _tag: "FirstUse" })
      yield* trust({ server: main.node, publicKey: main.publicKey })
      expect(yield* Effect.flip(trust({ server: main.node, publicKey: impostor.publicKey }))).toMatchObject({
        reason: "key-mismatch",
      })
    }),
  )

  it("a start expects the pinned key, or the token's on a (re-)join, and sends its token only then", () => {
    const pin: MainKeyPin = { server: main.node, publicKey: main.publicKey, url: "ws://main", pinnedAt: 1 }
    const tokenFor = (key: string) => Option.some(joinTokenParts(joinTokenText("hkj_s", key)))
    const setupError = (r: ReturnType<typeof mainKeyTrust>) => ("_tag" in r ? r.message : undefined)

    // First join: the token's key, and the token's secret goes to the main node.
    expect(mainKeyTrust(false, Option.none(), tokenFor(main.publicKey))).toEqual({
      joinToken: "hkj_s",
      mainKey: { _tag: "FromToken", digest: mainKeyDigest(main.publicKey) },
    })
    // Later starts: the pinned key, no token (even one still in the environment).
    expect(mainKeyTrust(true, Option.some(pin), tokenFor(main.publicKey))).toEqual({
      joinToken: undefined,
      mainKey: { _tag: "Pinned", pin },
    })
    expect(mainKeyTrust(true, Option.some(pin), Option.none())).toEqual({
      joinToken: undefined,
      mainKey: { _tag: "Pinned", pin },
    })
    // A token naming another key: a re-join, vouched for by whoever gave it.
    expect(mainKeyTrust(true, Option.some(pin), tokenFor(impostor.publicKey))).toEqual({
      joinToken: "hkj_s",
      mainKey: { _tag: "FromToken", digest: mainKeyDigest(impostor.publicKey) },
    })
    // Admitted before pins existed: the first key is pinned.
    expect(mainKeyTrust(true, Option.none(), Option.none())).toEqual({
      joinToken: undefined,
      mainKey: { _tag: "FirstUse" },
    })
    // Never admitted: a token is needed, and it must name the main key, whole.
    expect(setupError(mainKeyTrust(false, Option.none(), Option.none()))).toContain("huskies token create")
    expect(setupError(mainKeyTrust(false, Option.none(), Option.some(joinTokenParts("hkj_old"))))).toContain(
      "does not name the main node's key",
    )
    expect(
      setupError(mainKeyTrust(false, Option.none(), Option.some(joinTokenParts("hkj_s.cut-short")))),
    ).toContain("copy the token whole")
  })
})
