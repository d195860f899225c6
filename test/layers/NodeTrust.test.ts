// test/layers/NodeTrust.test.ts — the main node's admission over a real nodes.db: a good Hello is admitted
// (a first one by consuming its join token), every bad one is refused with its reason and leaves nodes.db
// as it was, a revoke made by another process reaches the running server within a second, and no log
// line carries a join token.
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Context, type Duration, Effect, Fiber, Layer, Logger, Option, Stream, TestClock } from "effect"
import { execFile } from "node:child_process"
import { existsSync, statSync } from "node:fs"
import { join } from "node:path"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { answerChallenge, nodeKeyPath } from "../../src/layers/NodeKeys.js"
import { MainNodeTrustLive } from "../../src/layers/NodeTrust.js"
import { Persistence, PersistenceLive } from "../../src/layers/Persistence.js"
import { nodesDbPath, openTrustDb } from "../../src/layers/nodeTrustDb.js"
import {
  type AdmissionRefused,
  type Challenge,
  type Hello,
  NodeAdmission,
  NodeIdentity,
  type NodeIdentityShape,
  signedText,
} from "../../src/protocol/nodeHandshake.js"
import { mainAdmission, otherNode } from "../support/nodes.js"
import { scopedTempDir } from "../support/tempDir.js"

const hour = 60 * 60 * 1000

/** A main node's admission and its nodes.db, in a fresh project directory. */
const mainNodePolling = (pollEvery: Duration.DurationInput) =>
  Effect.gen(function* () {
    const root = yield* scopedTempDir
    const { admission, server } = yield* mainAdmission(root, { pollEvery })
    const path = nodesDbPath(root)
    const db = yield* openTrustDb(path)
    return { admission, db, path, server }
  })
const mainNode = mainNodePolling("50 millis")

/** Every row of nodes.db, to show a refusal wrote nothing. */
const rows = (path: string): string => {
  const db = new Database(path, { readonly: true })
  try {
    return JSON.stringify([
      db.prepare("SELECT * FROM nodes ORDER BY id").all(),
      db.prepare("SELECT * FROM join_tokens ORDER BY digest").all(),
    ])
  } finally {
    db.close()
  }
}

const refusal = <A, R>(effect: Effect.Effect<A, AdmissionRefused, R>) =>
  Effect.map(Effect.flip(effect), (e) => e.reason)

describe("NodeAdmission", () => {
  it.scoped("a first Hello with a join token is admitted and consumes it; later ones need only the key", () =>
    Effect.gen(function* () {
      const { admission, db, path } = yield* mainNode
      expect(statSync(path).mode & 0o777).toBe(0o600)
      const worker = yield* otherNode("node-w1")
      const { token } = yield* db.createToken("worker", 0, hour)

      const challenge = yield* admission.challenge
      expect(challenge.server).toBe("node-main")
      expect(Buffer.from(challenge.nonce, "base64url")).toHaveLength(32)
      const admitted = yield* admission.admit(
        challenge,
        answerChallenge(worker, challenge, { joinToken: token, label: "box-1", version: "0.1.0" }),
      )
      expect(admitted).toMatchObject({ node: "node-w1", role: "worker", label: "box-1", version: "0.1.0" })
      expect(Buffer.from(admitted.ticket, "base64url")).toHaveLength(32)
      expect(yield* admission.byTicket(admitted.ticket)).toEqual(Option.some(admitted))

      const [node] = yield* db.listNodes
      expect(node).toMatchObject({
        id: "node-w1",
        publicKey: worker.publicKey,
        role: "worker",
        label: "box-1",
      })
      const [record] = yield* db.listTokens
      expect(record).toMatchObject({ usedBy: "node-w1", usedAt: 0 })
      expect(rows(path)).not.toContain(token)

      // Known now: a Hello without a token is admitted, with the role the token gave.
      const again = yield* admission.challenge
      const second = yield* admission.admit(again, answerChallenge(worker, again))
      expect(second.role).toBe("worker")
      expect(second.ticket).not.toBe(admitted.ticket)
      yield* admission.end(second.ticket)
      expect(yield* admission.byTicket(second.ticket)).toEqual(Option.none())
      expect(Option.isSome(yield* admission.byTicket(admitted.ticket))).toBe(true)
    }),
  )

  it.scoped("a read-only token admits a read-only node", () =>
    Effect.gen(function* () {
      const { admission, db } = yield* mainNode
      const { token } = yield* db.createToken("read-only", 0, hour)
      const challenge = yield* admission.challenge
      const viewer = yield* otherNode("node-view")
      const admitted = yield* admission.admit(
        challenge,
        answerChallenge(viewer, challenge, { joinToken: token }),
      )
      expect(admitted).toMatchObject({ role: "read-only", label: "node-view" })
    }),
  )

  it.scoped("every bad Hello is refused with its reason, and nodes.db is left as it was", () =>
    Effect.gen(function* () {
      const { admission, db, path } = yield* mainNode
      const known = yield* otherNode("node-known")
      const stranger = yield* otherNode("node-stranger")
      const { token: usedToken } = yield* db.createToken("worker", 0, hour)
      const { token: freshToken } = yield* db.createToken("worker", 0, hour)
      const { token: expiredToken } = yield* db.createToken("worker", -2 * hour, hour)
      const first = yield* admission.challenge
      yield* admission.admit(first, answerChallenge(known, first, { joinToken: usedToken }))
      const before = rows(path)

      /** Answers a fresh challenge with `build` and returns the refusal's reason. */
      const refusedWith = (build: (c: Challenge) => Hello) =>
        Effect.flatMap(admission.challenge, (c) => refusal(admission.admit(c, build(c))))
      const signedBy = (
        identity: NodeIdentityShape,
        c: Pick<Challenge, "nonce" | "server">,
        hello: Hello,
      ) => ({
        ...hello,
        signature: identity.sign(signedText(c, hello)),
      })

      // A signature over other bytes, with another key, for another server, for another nonce.
      expect(
        yield* refusedWith((c) => ({
          ...answerChallenge(known, c),
          signature: known.sign("something else"),
        })),
      ).toBe("bad-signature")
      expect(
        yield* refusedWith((c) => ({
          ...answerChallenge(known, c),
          signature: stranger.sign(signedText(c, answerChallenge(known, c))),
        })),
      ).toBe("bad-signature")
      expect(
        yield* refusedWith((c) =>
          signedBy(known, { ...c, server: NodeId.make("node-elsewhere") }, answerChallenge(known, c)),
        ),
      ).toBe("bad-signature")
      expect(
        yield* refusedWith((c) =>
          signedBy(known, { ...c, nonce: "b3RoZXItbm9uY2U" }, answerChallenge(known, c)),
        ),
      ).toBe("bad-signature")
      // The challenge must be this server's: one naming another server is refused even if well signed.
      const forged = { ...(yield* admission.challenge), server: NodeId.make("node-elsewhere") }
      expect(yield* refusal(admission.admit(forged, answerChallenge(known, forged)))).toBe("bad-signature")

      // A replayed answer: the nonce admitted once already.
      const once = yield* admission.challenge
      const hello = answerChallenge(known, once)
      yield* admission.admit(once, hello)
      const afterGood = rows(path) // the known node's last_seen moved: that write is expected
      expect(yield* refusal(admission.admit(once, hello))).toBe("bad-signature")
      // A nonce this server never made.
      const made = { ...once, nonce: "bmV2ZXItbWFkZQ" }
      expect(yield* refusal(admission.admit(made, answerChallenge(known, made)))).toBe("bad-signature")

      expect(yield* refusedWith((c) => answerChallenge(stranger, c))).toBe("unknown-node")
      expect(yield* refusedWith((c) => answerChallenge(stranger, c, { joinToken: "hkj_not-a-token" }))).toBe(
        "token-unknown",
      )
      expect(yield* refusedWith((c) => answerChallenge(stranger, c, { joinToken: usedToken }))).toBe(
        "token-used",
      )
      expect(yield* refusedWith((c) => answerChallenge(stranger, c, { joinToken: expiredToken }))).toBe(
        "token-expired",
      )
      // The known node's id with another key (and a good token: the id is taken).
      const impostor = { ...stranger, node: known.node }
      expect(yield* refusedWith((c) => answerChallenge(impostor, c, { joinToken: freshToken }))).toBe(
        "key-mismatch",
      )
      // A protocol this server does not speak: refused with the versions it does.
      const old = yield* admission.challenge
      const oldHello = signedBy(known, old, { ...answerChallenge(known, old), protocol: 99 })
      const protocolRefusal = yield* Effect.flip(admission.admit(old, oldHello))
      expect(protocolRefusal.reason).toBe("protocol")
      expect(protocolRefusal.supported).toEqual([1])
      expect(protocolRefusal.message).toContain("1")

      expect(rows(path)).toBe(afterGood)
      expect(JSON.parse(rows(path))[1]).toEqual(JSON.parse(before)[1]) // no token consumed by a refusal
      expect((yield* db.listNodes).map((n) => n.id)).toEqual(["node-known"])

      // Revoked: refused from then on, even with a fresh token.
      expect(yield* db.revoke("node-known", 5)).toBe("revoked")
      expect(yield* db.revoke("node-known", 6)).toBe("already-revoked")
      expect(yield* db.revoke("node-nobody", 6)).toBe("unknown")
      const revokedRows = rows(path)
      expect(yield* refusedWith((c) => answerChallenge(known, c))).toBe("revoked")
      expect(yield* refusedWith((c) => answerChallenge(known, c, { joinToken: freshToken }))).toBe("revoked")
      expect(rows(path)).toBe(revokedRows)
    }),
  )

  it.scoped("a challenge not answered within 30 s is refused", () =>
    Effect.gen(function* () {
      // Polls each minute here: the clock jumps, and a poll per step would only slow the test.
      const { admission, db } = yield* mainNodePolling("1 minute")
      const worker = yield* otherNode("node-late")
      const { token } = yield* db.createToken("worker", 0, 24 * hour)
      const challenge = yield* admission.challenge
      yield* TestClock.adjust("31 seconds")
      expect(
        yield* refusal(admission.admit(challenge, answerChallenge(worker, challenge, { joinToken: token }))),
      ).toBe("bad-signature")
      expect(yield* db.listNodes).toEqual([])
    }),
  )

  it.live("a revoke made by another process reaches the running admission within a second", () =>
    Effect.gen(function* () {
      const { admission, db, path } = yield* mainNode
      const worker = yield* otherNode("node-w2")
      const { token } = yield* db.createToken("worker", Date.now(), hour)
      const challenge = yield* admission.challenge
      const admitted = yield* admission.admit(
        challenge,
        answerChallenge(worker, challenge, { joinToken: token }),
      )
      const seen = yield* admission.revocations.pipe(Stream.runHead, Effect.fork)
      // Let the fork subscribe; the child process below takes far longer to start than that.
      for (let i = 0; i < 3; i++) yield* Effect.yieldNow()

      yield* Effect.async<void>((resume) => {
        execFile(
          process.execPath,
          [
            "--input-type=module",
            "-e",
            `import Database from "better-sqlite3"
             const db = new Database(process.argv[1])
             db.prepare("UPDATE nodes SET revoked_at = ? WHERE id = ?").run(Date.now(), process.argv[2])`,
            path,
            "node-w2",
          ],
          { cwd: process.cwd() },
          (error) => resume(error === null ? Effect.void : Effect.die(error)),
        )
      })
      const revoked = yield* Fiber.join(seen).pipe(Effect.timeout("1 second"))
      expect(revoked).toEqual(Option.some("node-w2"))
      expect(yield* admission.byTicket(admitted.ticket)).toEqual(Option.none())
    }).pipe(Effect.scoped),
  )

  it.scoped("no log line carries a join token, admitted or refused", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const capture = Logger.make(({ message, annotations }) => {
        lines.push(JSON.stringify(message) + JSON.stringify([...annotations]))
      })
      yield* Effect.gen(function* () {
        const { admission, db } = yield* mainNode
        const { token } = yield* db.createToken("worker", 0, hour)
        const a = yield* otherNode("node-a")
        const b = yield* otherNode("node-b")
        const c1 = yield* admission.challenge
        yield* admission.admit(c1, answerChallenge(a, c1, { joinToken: token }))
        const c2 = yield* admission.challenge
        yield* refusal(admission.admit(c2, answerChallenge(b, c2, { joinToken: token })))
        const c3 = yield* admission.challenge
        yield* refusal(admission.admit(c3, answerChallenge(b, c3, { joinToken: `${token}x` })))
        expect(lines.some((l) => l.includes("node admitted"))).toBe(true)
        expect(lines.some((l) => l.includes("token-used"))).toBe(true)
        for (const line of lines) expect(line).not.toContain(token.slice(4))
      }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
    }),
  )

  it.scoped("the main node's layer takes its node id from the open store and its key from .huskies/", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const context = yield* Layer.build(
        MainNodeTrustLive(root).pipe(
          Layer.provideMerge(PersistenceLive(join(root, ".huskies", "huskies.db"))),
        ),
      )
      const identity = Context.get(context, NodeIdentity)
      expect(identity.node).toBe(Context.get(context, Persistence).nodeId)
      expect(existsSync(nodeKeyPath(root))).toBe(true)
      expect(existsSync(nodesDbPath(root))).toBe(true)
      expect((yield* Context.get(context, NodeAdmission).challenge).server).toBe(identity.node)
    }),
  )
})
