// test/layers/NodeKeys.test.ts — this node's key: made once under .huskies/ (0600, dir 0700), the same
// key on every later start, signatures that verify only for their own text and key, and the Hello a peer
// builds from a challenge.
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger } from "effect"
import { execFileSync } from "node:child_process"
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { NodeId } from "../../src/domain/ExecutionState.js"
import {
  answerChallenge,
  keyFingerprint,
  keyIgnoredByGit,
  makeNodeIdentity,
  NodeIdentityLive,
  nodeKeyPath,
  verifySignature,
} from "../../src/layers/NodeKeys.js"
import { PersistenceLive } from "../../src/layers/Persistence.js"
import { NodeIdentity, nodeProtocolVersion, signedText } from "../../src/protocol/nodeHandshake.js"
import { scopedTempDir } from "../support/tempDir.js"

const node = NodeId.make("node-a")

describe("NodeKeys", () => {
  it.scoped("makes .huskies/node.key 0600 in a 0700 directory on first start and reuses it", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const path = nodeKeyPath(root)
      const first = yield* makeNodeIdentity(path, node)
      expect(statSync(path).mode & 0o777).toBe(0o600)
      expect(statSync(join(root, ".huskies")).mode & 0o777).toBe(0o700)
      expect(readFileSync(path, "utf8")).toContain("BEGIN PRIVATE KEY")
      const pem = readFileSync(path, "utf8")

      // A loosened file is tightened; the key is the same one.
      chmodSync(path, 0o644)
      const second = yield* makeNodeIdentity(path, node)
      expect(second.publicKey).toBe(first.publicKey)
      expect(readFileSync(path, "utf8")).toBe(pem)
      expect(statSync(path).mode & 0o777).toBe(0o600)

      // Another project's key is another key.
      const other = yield* makeNodeIdentity(nodeKeyPath(yield* scopedTempDir), node)
      expect(other.publicKey).not.toBe(first.publicKey)
    }),
  )

  it.scoped("a file that holds no key fails with a message saying what to do", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const path = nodeKeyPath(root)
      yield* makeNodeIdentity(path, node)
      writeFileSync(path, "not a key\n")
      const exit = yield* Effect.exit(makeNodeIdentity(path, node))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
        expect(exit.cause.error._tag).toBe("NodeKeyError")
        expect(exit.cause.error.message).toContain("move the file away")
      } else expect.fail(`expected a NodeKeyError, got ${String(exit)}`)
    }),
  )

  it.scoped("a signature verifies for its text and key only", () =>
    Effect.gen(function* () {
      const a = yield* makeNodeIdentity(nodeKeyPath(yield* scopedTempDir), node)
      const b = yield* makeNodeIdentity(nodeKeyPath(yield* scopedTempDir), node)
      const signature = a.sign("hello")
      expect(verifySignature(a.publicKey, "hello", signature)).toBe(true)
      expect(verifySignature(a.publicKey, "hellp", signature)).toBe(false)
      expect(verifySignature(b.publicKey, "hello", signature)).toBe(false)
      expect(verifySignature("not-a-key", "hello", signature)).toBe(false)
      expect(verifySignature(a.publicKey, "hello", "AAAA")).toBe(false)
      expect(keyFingerprint(a.publicKey)).toMatch(/^sha256:[0-9a-f]{16}$/)
      expect(keyFingerprint(a.publicKey)).toBe(keyFingerprint(a.publicKey))
      expect(keyFingerprint(b.publicKey)).not.toBe(keyFingerprint(a.publicKey))
    }),
  )

  it.scoped("answerChallenge signs the challenge's server and nonce with this build's protocol", () =>
    Effect.gen(function* () {
      const identity = yield* makeNodeIdentity(nodeKeyPath(yield* scopedTempDir), node)
      const challenge = {
        _tag: "Challenge" as const,
        nonce: "bm9uY2U",
        server: NodeId.make("node-main"),
        protocols: [1],
      }
      const hello = answerChallenge(identity, challenge, { joinToken: "hkj_x", label: "box" })
      expect(hello).toMatchObject({ node, protocol: nodeProtocolVersion, joinToken: "hkj_x", label: "box" })
      expect(verifySignature(hello.publicKey, signedText(challenge, hello), hello.signature)).toBe(true)
      const elsewhere = { ...challenge, server: NodeId.make("node-other") }
      expect(verifySignature(hello.publicKey, signedText(elsewhere, hello), hello.signature)).toBe(false)
      expect("joinToken" in answerChallenge(identity, challenge)).toBe(false)
    }),
  )

  it.scoped("warns at start when git would not ignore the key (a project set up by an older init)", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const path = nodeKeyPath(root)
      mkdirSync(join(root, ".huskies"))
      expect(yield* keyIgnoredByGit(path)).toBe(undefined) // not a repository: git cannot say
      execFileSync("git", ["init", "--quiet"], { cwd: root })
      expect(yield* keyIgnoredByGit(path)).toBe(false)

      const lines: Array<string> = []
      const capture = Logger.make(({ message }) => void lines.push(String(message)))
      const start = Effect.gen(function* () {
        const context = yield* Layer.build(
          NodeIdentityLive(path).pipe(Layer.provide(PersistenceLive(join(root, ".huskies", "huskies.db")))),
        )
        return Context.get(context, NodeIdentity)
      }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
      const identity = yield* start
      expect(identity.node).toMatch(/^node-/)
      expect(lines.filter((l) => l.includes("git does not ignore it"))).toHaveLength(1)
      expect(lines[0]).toContain("huskies init")

      writeFileSync(join(root, ".gitignore"), ".huskies/node.key\n.huskies/nodes.db*\n")
      expect(yield* keyIgnoredByGit(path)).toBe(true)
      lines.length = 0
      expect((yield* start).publicKey).toBe(identity.publicKey)
      expect(lines.filter((l) => l.includes("git does not ignore it"))).toEqual([])
    }),
  )
})
