// test/nodes/mainKey.test.ts — a worker authenticates its main node: joining, it pins the main node's key that
// its join token names (.huskies/run/main-key.json, 0600); started again against a "main node" (a fake that
// answers the handshake) that signs with another key, or does not sign, it refuses before sending any
// document byte and says what to do; a fresh worker whose token names another key refuses the fake too,
// which learns nothing of the token (the Hello only proves it holds one).
// Pointed back at the real main node, the worker works as before.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { generateKeyPairSync, randomBytes } from "node:crypto"
import { existsSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { WebSocketServer } from "ws"
import * as Y from "yjs"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { identityOf, mainKeyDigest, signWelcome } from "../../src/layers/NodeKeys.js"
import { Hello, nodeProtocolVersion, type Welcome } from "../../src/protocol/nodeHandshake.js"
import { encodeFrame } from "../../src/transports/sync/frames.js"
import { mainKeyPinPath } from "../../src/transports/nodes/mainKeyPin.js"
import { runCli } from "../support/cli.js"
import { eventually } from "../support/waits.js"
import { awaitStage, codedIn, createStories, git, makeCluster } from "./cluster.js"

interface FakeMain {
  readonly url: string
  /** The Hellos it got. */
  readonly hellos: Array<Hello>
  /** Every frame a node sent after the Welcome: a document byte would be a binary one. */
  readonly afterWelcome: Array<{ readonly binary: boolean; readonly bytes: number }>
}

/**
 * A "main node" on loopback that answers every Hello with a Welcome (signed with a key of its own, or not
 * signed), naming itself `server`, and then opens the sync as a main node would (its sync step 1), which
 * a node already syncing answers with its document.
 */
const fakeMain = (server: string, signs: boolean) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ wss: WebSocketServer; fake: FakeMain }>((resolve) => {
          const impostor = identityOf(NodeId.make(server), generateKeyPairSync("ed25519").privateKey)
          const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 })
          const fake: FakeMain = { url: "", hellos: [], afterWelcome: [] }
          wss.on("connection", (socket) => {
            const challenge = {
              _tag: "Challenge",
              nonce: randomBytes(32).toString("base64url"),
              server,
              protocols: [nodeProtocolVersion],
            } as const
            let welcomed = false
            socket.on("message", (data, isBinary) => {
              if (welcomed)
                return void fake.afterWelcome.push({ binary: isBinary, bytes: String(data).length })
              const hello = Schema.decodeUnknownSync(Schema.parseJson(Hello))(data.toString())
              fake.hellos.push(hello)
              const welcome: Welcome = {
                _tag: "Welcome",
                node: hello.node,
                role: "worker",
                ticket: randomBytes(32).toString("base64url"),
                protocol: hello.protocol,
              }
              socket.send(
                JSON.stringify(
                  signs ? signWelcome(impostor, { server: NodeId.make(server) }, hello, welcome) : welcome,
                ),
              )
              welcomed = true
              socket.send(encodeFrame({ _tag: "SyncStep1", stateVector: Y.encodeStateVector(new Y.Doc()) }))
            })
            socket.on("error", () => undefined)
            socket.send(JSON.stringify(challenge))
          })
          wss.on("listening", () => {
            const address = wss.address()
            const port = typeof address === "object" && address !== null ? address.port : 0
            resolve({ wss, fake: { ...fake, url: `ws://127.0.0.1:${port}` } })
          })
        }),
    ),
    ({ wss }) => Effect.promise(() => new Promise<void>((done) => wss.close(() => done()))),
  ).pipe(Effect.map(({ fake }) => fake))

const Pin = Schema.parseJson(Schema.Struct({ server: Schema.String, publicKey: Schema.String }))

describe("a worker and its main node's key", () => {
  it.scopedLive(
    "pins the key its token names, refuses a main node with another key or none before any document byte, and works on",
    () =>
      Effect.gen(function* () {
        // Only the worker codes: a story that reaches Done went through the worker's sync with the main node.
        const cluster = yield* makeCluster({ autoAssign: (node) => node !== "main" })
        const joinedWith = yield* cluster.token
        const w1 = yield* cluster.startWorker("w1", { token: joinedWith })
        const pinPath = mainKeyPinPath(w1.root)
        const pinned = yield* eventually(
          "w1 to pin the main node's key",
          Effect.sync(() => {
            try {
              return Schema.decodeUnknownSync(Pin)(readFileSync(pinPath, "utf8"))
            } catch {
              return undefined
            }
          }),
          { millis: 15_000, every: "100 millis" },
        )
        // The key the token named (after its dot), kept private to the worker's user.
        expect(mainKeyDigest(pinned.publicKey)).toBe(joinedWith.split(".")[1])
        expect(statSync(pinPath).mode & 0o777).toBe(0o600)
        const pinText = readFileSync(pinPath, "utf8")
        yield* Effect.promise(() => w1.process.kill("SIGTERM"))

        /** w1 started again on its clone, dialling `rendezvous`, to its end. */
        const w1At = (rendezvous: string) =>
          Effect.promise(() =>
            runCli(["agent", "--rendezvous", rendezvous, "--label", "w1", w1.root], {
              env: cluster.env("w1"),
            }),
          )

        // A fake that even claims the main node's id, but signs with its own key.
        const otherKey = yield* fakeMain(pinned.server, true)
        const refusedOther = yield* w1At(otherKey.url)
        expect(refusedOther.code, refusedOther.stderr).toBe(1)
        expect(refusedOther.stderr).toContain("refused the main node (key-mismatch)")
        expect(refusedOther.stderr).toContain("huskies token create")
        expect(otherKey.hellos).toHaveLength(1)
        // It joined before: no token goes to whoever answers.
        expect(otherKey.hellos[0]?.joinToken).toBeUndefined()
        expect(otherKey.afterWelcome.filter((f) => f.binary)).toEqual([])

        // A main node that does not sign (a fake, or a huskies from before signed Welcomes).
        const unsigned = yield* fakeMain(pinned.server, false)
        const refusedUnsigned = yield* w1At(unsigned.url)
        expect(refusedUnsigned.code, refusedUnsigned.stderr).toBe(1)
        expect(refusedUnsigned.stderr).toContain("refused the main node (unsigned)")
        expect(refusedUnsigned.stderr).toContain("upgrade the main node")
        expect(unsigned.afterWelcome.filter((f) => f.binary)).toEqual([])
        expect(readFileSync(pinPath, "utf8")).toBe(pinText)

        // A new worker whose token names the real main node's key: the fake is refused at its first join,
        // and it learnt nothing it could join with: the Hello proves the token without carrying it.
        const fresh = join(cluster.base, "w2")
        git(cluster.base, "clone", "-q", cluster.remote, fresh)
        const w2Token = yield* cluster.token
        const firstJoin = yield* Effect.promise(() =>
          runCli(["agent", "--rendezvous", otherKey.url, fresh], {
            env: { ...cluster.env("w2"), HUSKIES_JOIN_TOKEN: w2Token },
          }),
        )
        expect(firstJoin.code, firstJoin.stderr).toBe(1)
        expect(firstJoin.stderr).toContain("not the key of the main node that made the join token")
        expect(otherKey.afterWelcome.filter((f) => f.binary)).toEqual([])
        const leaked = JSON.stringify(otherKey.hellos.at(-1))
        expect(leaked).toContain("joinProof")
        expect(leaked).not.toContain(w2Token.split(".")[0]!.slice(4))
        // The token is still good for the worker it was made for.
        const w2 = yield* cluster.startWorker("w2", { token: w2Token })
        yield* eventually(
          "w2 to join the real main node",
          Effect.sync(() => (existsSync(mainKeyPinPath(w2.root)) ? true : undefined)),
          { millis: 15_000, every: "100 millis" },
        )
        yield* Effect.promise(() => w2.process.kill("SIGTERM"))

        // Back with the real main node, w1 syncs and codes as before.
        const again = yield* cluster.startWorker("w1")
        const [story] = yield* createStories(cluster.url, 1)
        yield* awaitStage(cluster.url, [story!], "Done", 60_000).pipe(Effect.tapDefect(() => cluster.report))
        expect(codedIn(again.root).map(([id]) => id)).toContain(story)
      }),
    120_000,
  )
})
