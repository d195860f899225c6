// test/transports/http/nodeAccess.test.ts — the guard's rules for nodes: a /crdt-sync?peer=node upgrade
// passes without the token (it authenticates in-band) but not without Host/Origin; a node's ticket opens
// /rpc/node and nothing else, marks the request with its node, and dies with a revoke.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Redacted, Stream } from "effect"
import fc from "fast-check"
import { createServer, type IncomingMessage, request } from "node:http"
import type { Duplex } from "node:stream"
import { answerChallenge } from "../../../src/layers/NodeKeys.js"
import { nodesDbPath, openTrustDb } from "../../../src/layers/nodeTrustDb.js"
import { nodePrincipalHeader } from "../../../src/protocol/nodeRpcs.js"
import {
  AccessMisconfigured,
  type AccessRules,
  accessRules,
  decideAccess,
  makeAccessGuard,
  type RequestFacts,
  upgradeFacts,
  upgradeListener,
} from "../../../src/transports/http/AccessGuard.js"
import { asksNodeHandshake, ticketIn } from "../../../src/transports/http/nodeAccess.js"
import { mainAdmission, otherNode } from "../../support/nodes.js"
import { scopedTempDir } from "../../support/tempDir.js"

const token = "s3cret-token-of-some-length"

const rulesFor = (bindHost: string, withToken: boolean): AccessRules => {
  const rules = accessRules(bindHost, 3001, withToken ? { token: Redacted.make(token) } : {})
  if (rules instanceof AccessMisconfigured) throw rules
  return rules
}

const facts = (more: Partial<RequestFacts>): RequestFacts => ({
  host: "127.0.0.1:3001",
  origin: undefined,
  authorization: undefined,
  ...more,
})

const tickets: Record<string, string> = { "ticket-of-w1": "node-w1" }
const nodeOf = (ticket: string) => tickets[ticket]

describe("decideAccess for nodes", () => {
  const rules = rulesFor("0.0.0.0", true)

  it("reads a node's handshake from /crdt-sync's first peer parameter only", () => {
    expect(asksNodeHandshake("/crdt-sync?peer=node")).toBe(true)
    expect(asksNodeHandshake("/crdt-sync?x=1&peer=node&peer=viewer")).toBe(true)
    for (const url of [
      "/crdt-sync",
      "/crdt-sync?peer=viewer&peer=node",
      "/crdt-sync/?peer=node",
      "/crdt-sync/x?peer=node",
      "/rpc?peer=node",
      "//crdt-sync?peer=node",
      "/crdt-sync?peer=Node",
    ])
      expect(asksNodeHandshake(url), url).toBe(false)
  })

  it("takes a ticket from the bearer header first, else from ?ticket=", () => {
    expect(ticketIn("Bearer abc", "/rpc/node?ticket=def")).toBe("abc")
    expect(ticketIn(undefined, "/rpc/node?ticket=def")).toBe("def")
    expect(ticketIn("Basic abc", "/rpc/node")).toBe(undefined)
  })

  it("admits a node's handshake upgrade without the token, never past Host or Origin", () => {
    const sync = { path: "/crdt-sync", nodeHandshake: true }
    expect(decideAccess(rules, facts(sync))).toEqual({ _tag: "Allow", agent: false })
    expect(decideAccess(rules, facts({ ...sync, nodeHandshake: false }))._tag).toBe("Unauthorized")
    expect(decideAccess(rules, facts({ ...sync, path: "/rpc" }))._tag).toBe("Unauthorized")
    expect(decideAccess(rules, facts({ ...sync, host: "evil.example:3001" }))._tag).toBe("Forbidden")
    expect(decideAccess(rules, facts({ ...sync, origin: "http://evil.example" }))._tag).toBe("Forbidden")
  })

  it("admits a live ticket on /rpc/node alone, naming its node", () => {
    const node = { path: "/rpc/node", nodeTicket: "ticket-of-w1" }
    expect(decideAccess(rules, facts(node), undefined, nodeOf)).toEqual({
      _tag: "Allow",
      agent: false,
      node: "node-w1",
    })
    expect(decideAccess(rules, facts({ ...node, nodeTicket: "stale" }), undefined, nodeOf)._tag).toBe(
      "Unauthorized",
    )
    // Without the admission's lookup no ticket is good.
    expect(decideAccess(rules, facts(node))._tag).toBe("Unauthorized")
    // A ticket is not the server's token: /rpc (the UI's), /mcp and pages refuse it.
    for (const path of ["/rpc", "/mcp", "/", "/crdt-sync"])
      expect(
        decideAccess(
          rules,
          facts({ path, authorization: "Bearer ticket-of-w1", nodeTicket: "ticket-of-w1" }),
          undefined,
          nodeOf,
        )._tag,
        path,
      ).toBe("Unauthorized")
    expect(decideAccess(rules, facts({ ...node, host: "evil.example:3001" }), undefined, nodeOf)._tag).toBe(
      "Forbidden",
    )
    // The server's token still opens /rpc/node, as no node in particular.
    expect(
      decideAccess(rules, facts({ path: "/rpc/node", authorization: `Bearer ${token}` }), undefined, nodeOf),
    ).toEqual({
      _tag: "Allow",
      agent: false,
    })
  })

  it("on a loopback bind without a token a ticket still names its node", () => {
    const open = rulesFor("127.0.0.1", false)
    expect(
      decideAccess(open, facts({ path: "/rpc/node", nodeTicket: "ticket-of-w1" }), undefined, nodeOf),
    ).toMatchObject({
      node: "node-w1",
    })
  })
})

describe("upgrades without the token (property)", () => {
  const rules = rulesFor("0.0.0.0", true)
  const piece = fc.constantFrom(
    "peer",
    "ticket",
    "x",
    "node",
    "viewer",
    "ticket-of-w1",
    "bad",
    "",
    "%70eer",
    "peer=node",
  )
  const query = fc
    .array(fc.tuple(piece, piece), { maxLength: 4 })
    .map((pairs) => (pairs.length === 0 ? "" : `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`))
  const path = fc.constantFrom(
    "/crdt-sync",
    "/crdt-sync/",
    "/rpc/node",
    "/rpc",
    "/mcp",
    "/",
    "//crdt-sync",
    "/crdt%2Dsync",
    "/rpc/node/",
  )
  const authorization = fc.constantFrom(
    undefined,
    "Bearer ticket-of-w1",
    "Bearer bad",
    `Bearer ${token}`,
    "ticket-of-w1",
  )
  const tail = fc.constantFrom("", "#frag", "&", "?peer=node")

  it("passes only a node's handshake on /crdt-sync, a live ticket on /rpc/node, or the token", () =>
    fc.assert(
      fc.property(path, query, tail, authorization, (p, q, t, auth) => {
        const url = `${p}${q}${t}`
        const headers: Record<string, string> = {
          host: "127.0.0.1:3001",
          ...(auth === undefined ? {} : { authorization: auth }),
        }
        const decision = decideAccess(
          rules,
          upgradeFacts({ url, headers } as unknown as IncomingMessage),
          undefined,
          nodeOf,
        )
        // Said independently of the guard's code: what may pass without the token.
        const params = new URLSearchParams(
          url.includes("?") ? url.slice(url.indexOf("?") + 1).split("#")[0] : "",
        )
        const rawPath = url.split("?")[0]
        const bearerValue = auth?.startsWith("Bearer ") === true ? auth.slice(7) : undefined
        const handshake = rawPath === "/crdt-sync" && params.get("peer") === "node"
        const ticket = rawPath === "/rpc/node" && (bearerValue ?? params.get("ticket")) === "ticket-of-w1"
        const tokenGiven = bearerValue === token
        expect(decision._tag, url).toBe(handshake || ticket || tokenGiven ? "Allow" : "Unauthorized")
        if (decision._tag === "Allow") expect(decision.node, url).toBe(ticket ? "node-w1" : undefined)
      }),
      { numRuns: 2_000 },
    ))
})

/** Asks for an upgrade at `path`: the status, and the node mark the route saw. */
const upgrade = (port: number, path: string, headers: Record<string, string> = {}) =>
  Effect.async<{ status: number; node: string | undefined }>((resume) => {
    const req = request(`http://127.0.0.1:${port}${path}`, {
      headers: { connection: "Upgrade", upgrade: "websocket", ...headers },
    })
    req.on("response", (res) => {
      res.resume()
      const seen = res.headers["x-seen-node"]
      resume(
        Effect.succeed({ status: res.statusCode ?? 0, node: seen === "-" ? undefined : (seen as string) }),
      )
    })
    req.on("error", (e) => resume(Effect.die(e)))
    req.end()
  })

describe("the guard's shell for nodes", () => {
  it.scopedLive(
    "a ticket from NodeAdmission opens /rpc/node until the node is revoked; clients cannot mark themselves",
    () =>
      Effect.gen(function* () {
        const root = yield* scopedTempDir
        const { admission } = yield* mainAdmission(root, { pollEvery: "20 millis" })
        const db = yield* openTrustDb(nodesDbPath(root))
        const worker = yield* otherNode("node-w1")
        const { token: joinToken } = yield* db.createToken("worker", Date.now(), 60_000)
        const challenge = yield* admission.challenge
        const { ticket } = yield* admission.admit(
          challenge,
          answerChallenge(worker, challenge, { joinToken }),
        )

        // A route that answers what it was handed: the node mark the guard left on the request.
        const routed = (req: IncomingMessage, socket: Duplex) => {
          const node = req.headers[nodePrincipalHeader]
          socket.end(
            `HTTP/1.1 299 Routed\r\nx-seen-node: ${typeof node === "string" ? node : "-"}\r\nconnection: close\r\n\r\n`,
          )
        }
        const http = createServer()
        yield* Effect.async<void>((resume) => void http.listen(0, "127.0.0.1", () => resume(Effect.void)))
        yield* Effect.addFinalizer(() =>
          Effect.async<void>((resume) => void http.close(() => resume(Effect.void))),
        )
        const address = http.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        const guard = makeAccessGuard(
          { ...rulesFor("0.0.0.0", true), port },
          {
            now: () => Date.now(),
            logDefect: () => undefined,
            nodeOfTicket: (t) => Option.getOrUndefined(Effect.runSync(admission.byTicket(t)))?.node,
          },
        )
        http.on(
          "upgrade",
          upgradeListener(
            guard,
            new Map([
              ["/rpc/node", routed],
              ["/rpc", routed],
              ["/crdt-sync", routed],
            ]),
          ),
        )
        const host = { host: `127.0.0.1:${port}` }

        expect(yield* upgrade(port, "/rpc/node", { ...host, authorization: `Bearer ${ticket}` })).toEqual({
          status: 299,
          node: "node-w1",
        })
        expect(yield* upgrade(port, `/rpc/node?ticket=${ticket}`, host)).toEqual({
          status: 299,
          node: "node-w1",
        })
        expect((yield* upgrade(port, "/rpc", { ...host, authorization: `Bearer ${ticket}` })).status).toBe(
          401,
        )
        // The server's token opens it as no node, whatever the client claims to be.
        expect(
          yield* upgrade(port, "/rpc/node", {
            ...host,
            authorization: `Bearer ${token}`,
            [nodePrincipalHeader]: "node-w1",
          }),
        ).toEqual({ status: 299, node: undefined })
        expect(
          yield* upgrade(port, "/crdt-sync?peer=node", { ...host, [nodePrincipalHeader]: "node-w1" }),
        ).toEqual({
          status: 299,
          node: undefined,
        })
        expect((yield* upgrade(port, "/crdt-sync", host)).status).toBe(401)
        expect((yield* upgrade(port, "/crdt-sync?peer=node", { host: `evil.example:${port}` })).status).toBe(
          403,
        )

        // Revoked (as `huskies node revoke` does, from its own connection): the ticket is dead.
        const revoked = yield* admission.revocations.pipe(Stream.runHead, Effect.fork)
        for (let i = 0; i < 3; i++) yield* Effect.yieldNow()
        yield* (yield* openTrustDb(nodesDbPath(root))).revoke("node-w1", Date.now())
        yield* Fiber.join(revoked).pipe(Effect.timeout("1 second"))
        expect(
          (yield* upgrade(port, "/rpc/node", { ...host, authorization: `Bearer ${ticket}` })).status,
        ).toBe(401)
      }),
  )
})
