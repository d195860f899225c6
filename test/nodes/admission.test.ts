// test/nodes/admission.test.ts — the main node (`huskies serve`, a real process) refuses, before any
// document byte, a peer whose signature is bad, whose join token was used already, which was revoked, or
// which speaks an old protocol version; each refusal names its reason, and the main node's document is
// exactly what it was (dump_state before and after, a document update sent anyway included).
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { generateKeyPairSync } from "node:crypto"
import { WebSocket } from "ws"
import * as Y from "yjs"
import * as encoding from "lib0/encoding"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { answerChallenge, identityOf } from "../../src/layers/NodeKeys.js"
import {
  type Challenge,
  HandshakeFrame,
  nodeProtocolVersion,
  refusedCloseCode,
  signedText,
} from "../../src/protocol/nodeHandshake.js"
import { runCli } from "../support/cli.js"
import { mcpClient } from "../support/mcpClient.js"
import { makeCluster } from "./cluster.js"

const Dump = Schema.Struct({ state: Schema.Unknown })

/** A node key of its own, as a worker would have in .huskies/node.key. */
const newIdentity = (name: string) => {
  const { privateKey } = generateKeyPairSync("ed25519")
  return identityOf(NodeId.make(`node-${name}`), privateKey)
}

interface Outcome {
  /** The frame answering the Hello: Welcome or Refusal. */
  readonly verdict: HandshakeFrame
  /** The close code, once the server closed (undefined if it stayed open until we closed). */
  readonly closeCode: number | undefined
}

/**
 * Dials /crdt-sync as a node, answers the Challenge with `hello(challenge)` followed at once by a document
 * update when `intrude` (which no peer gets applied before it is admitted), and waits for the verdict.
 */
const handshake = (
  url: string,
  hello: (challenge: Challenge) => Record<string, unknown>,
  intrude: boolean,
): Promise<Outcome> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/crdt-sync?peer=node`, {
      headers: { Origin: url },
    })
    let verdict: HandshakeFrame | undefined
    const timer = setTimeout(() => {
      socket.terminate()
      reject(new Error(`no verdict within 10 s (${JSON.stringify(verdict)})`))
    }, 10_000)
    socket.on("message", (data, isBinary) => {
      if (isBinary) return
      const frame = Schema.decodeUnknownSync(Schema.parseJson(HandshakeFrame))(data.toString())
      if (frame._tag === "Challenge") {
        socket.send(JSON.stringify(hello(frame)))
        // Document bytes before any verdict: a server must not take them from a peer it has not admitted.
        return intrude ? socket.send(intruderUpdate()) : undefined
      }
      verdict = frame
      // A Welcome keeps the connection open: close it ourselves.
      if (frame._tag === "Welcome") socket.close()
    })
    socket.on("close", (code) => {
      clearTimeout(timer)
      if (verdict === undefined) reject(new Error(`closed (${code}) before a verdict`))
      else resolve({ verdict, closeCode: verdict._tag === "Refusal" ? code : undefined })
    })
    socket.on("error", () => undefined)
  })

/** A y-websocket sync update (type 0, step 2) that would add an item "intruder" to the document. */
const intruderUpdate = (): Uint8Array => {
  const doc = new Y.Doc()
  doc.getMap("items").set("99_story_intruder", new Y.Map())
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarUint(encoder, 2)
  encoding.writeVarUint8Array(encoder, Y.encodeStateAsUpdate(doc))
  return encoding.toUint8Array(encoder)
}

describe("admission of nodes on the main node", () => {
  it.scopedLive(
    "refuses a bad signature, a used token, a revoked node and an old protocol, and changes nothing",
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster()
        const call = yield* mcpClient(cluster.url)
        const state = Effect.map(call(Dump, "dump_state"), (d) => JSON.stringify(d.state))
        /** Runs a handshake that must be refused; the main node's document is the same before and after. */
        const refused = (hello: (challenge: Challenge) => Record<string, unknown>) =>
          Effect.gen(function* () {
            const before = yield* state
            const outcome = yield* Effect.promise(() => handshake(cluster.url, hello, true))
            expect(outcome.verdict._tag).toBe("Refusal")
            expect(outcome.closeCode).toBe(refusedCloseCode)
            // The document is unchanged once the connection is gone (the update had time to land).
            expect(yield* state).toBe(before)
            expect(before).not.toContain("intruder")
            return outcome.verdict._tag === "Refusal" ? outcome.verdict : undefined
          })

        /** Runs the handshake of a well-behaved node that joins with `joinToken` (it sends no update first). */
        const joins = (identity: ReturnType<typeof newIdentity>, joinToken: string) =>
          Effect.promise(() =>
            handshake(cluster.url, (challenge) => answerChallenge(identity, challenge, { joinToken }), false),
          )

        // A signature made with another key than the one it presents.
        const mallory = newIdentity("mallory")
        const other = newIdentity("other")
        const token1 = yield* cluster.token
        const badSignature = yield* refused((challenge) => ({
          ...answerChallenge(mallory, challenge, { joinToken: token1 }),
          signature: answerChallenge(other, challenge).signature,
        }))
        expect(badSignature?.reason).toBe("bad-signature")

        // The token was not spent by the refused Hello: a good node joins with it...
        const alice = newIdentity("alice")
        const admitted = yield* joins(alice, token1)
        expect(admitted.verdict._tag).toBe("Welcome")
        // ...and then it is used: another node cannot join with it.
        const bob = newIdentity("bob")
        const used = yield* refused((challenge) => answerChallenge(bob, challenge, { joinToken: token1 }))
        expect(used?.reason).toBe("token-used")

        // Revoked: alice, trusted a moment ago, is refused from now on.
        const revoked = yield* Effect.promise(() => runCli(["node", "revoke", alice.node, cluster.main.root]))
        expect(revoked.code, revoked.stderr).toBe(0)
        const afterRevoke = yield* refused((challenge) => answerChallenge(alice, challenge))
        expect(afterRevoke?.reason).toBe("revoked")

        // An old protocol version: refused with the versions to run.
        const carol = newIdentity("carol")
        const token2 = yield* cluster.token
        const protocol = yield* refused((challenge) => {
          const unsigned = { node: carol.node, publicKey: carol.publicKey, protocol: 0 }
          return {
            _tag: "Hello",
            ...unsigned,
            signature: carol.sign(signedText(challenge, unsigned)),
            joinToken: token2,
          }
        })
        expect(protocol?.reason).toBe("protocol")
        expect(protocol?.supported).toContain(nodeProtocolVersion)
        // The token carol offered is still good: a refusal spends nothing.
        const dave = newIdentity("dave")
        const joined = yield* joins(dave, token2)
        expect(joined.verdict._tag).toBe("Welcome")
      }),
    90_000,
  )
})
