// test/transports/nodes/nodeRpc.test.ts — the node RPCs end to end on loopback: a real main server and a real
// "worker" server (each its own project, a `command` agent) whose node client attaches to /rpc/node. A
// remote agent's output reaches the main node's terminal in order with nothing lost across a cut
// connection; the main node's stop stops the worker's agent; list_agents shows the node and its agent; an
// old protocol and a client without credentials are refused.
import { describe, expect, it } from "@effect/vitest"
import { RpcClient, RpcSerialization } from "@effect/rpc"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Context, Effect, Fiber, Layer, Option, Queue, Redacted, Schedule, Stream } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { WebSocket } from "ws"
import { Pipeline } from "../../../src/actors/Pipeline.js"
import { ActivityView, PipelineView } from "../../../src/actors/PipelineView.js"
import { NodeRpcs, nodeProtocolVersion, nodeRpcPath } from "../../../src/protocol/nodeRpcs.js"
import { NodeAdmission } from "../../../src/protocol/nodeHandshake.js"
import { NodeId } from "../../../src/domain/ExecutionState.js"
import { answerChallenge, makeNodeIdentity, nodeKeyPath } from "../../../src/layers/NodeKeys.js"
import { nodesDbPath, openTrustDb } from "../../../src/layers/nodeTrustDb.js"
import { scopedTempDir } from "../../support/tempDir.js"
import { type TerminalChunk, UiRpcs } from "../../../src/protocol/uiRpcs.js"
import { bearerSocket, nodeRpcUrl, runNodeClient } from "../../../src/transports/nodes/nodeClient.js"
import { makeProxy } from "../../support/proxy.js"
import { createStory, nodeServer } from "./support.js"

const token = "node-rpc-test-token-0123456789abcdef"
const access = { token: Redacted.make(token), allowedHosts: ["127.0.0.1"] }

/** An RPC protocol to `wsUrl` with the server's token, its socket closed with the scope. */
const protocolAt = (wsUrl: string) =>
  Layer.build(
    RpcClient.layerProtocolSocket({ retryTransientErrors: false }).pipe(
      Layer.provide(bearerSocket(wsUrl, token)),
      Layer.provide(RpcSerialization.layerNdjson),
    ),
  )

const uiClient = (url: string) =>
  Effect.flatMap(protocolAt(`${url.replace(/^http/, "ws")}/rpc`), (protocol) =>
    RpcClient.make(UiRpcs).pipe(Effect.provide(protocol)),
  )

const nodeRpcClient = (url: string) =>
  Effect.flatMap(protocolAt(nodeRpcUrl(url)), (protocol) =>
    RpcClient.make(NodeRpcs).pipe(Effect.provide(protocol)),
  )

/** Retries `check` (a condition on servers that publish no event for it) every 50 ms for up to 20 s. */
const eventually = <A, E>(check: Effect.Effect<A, E>) =>
  Effect.retry(check, Schedule.spaced("50 millis").pipe(Schedule.upTo("20 seconds")))

const ensure = (ok: boolean, what: string) => (ok ? Effect.void : Effect.fail(what))

/** A main node with the token in force, and a worker whose client attaches to it through `via` (a port). */
const mainAndWorker = (script: ReadonlyArray<string>, through: "direct" | "proxy") =>
  Effect.gen(function* () {
    const main = yield* nodeServer({ script: ["true"], access })
    const worker = yield* nodeServer({ script })
    const proxy = yield* makeProxy(main.url)
    const node = Context.get(worker.context, PipelineView).nodeId
    const url = through === "proxy" ? `http://127.0.0.1:${proxy.port}` : main.url
    yield* runNodeClient({
      url,
      node,
      credential: Effect.succeed(token),
      label: "worker-1",
      version: "test",
      statusEveryMillis: 200,
    }).pipe(Effect.provide(worker.context), Effect.forkScoped)
    return { main, worker, proxy, node }
  })

/** The HTTP status a WebSocket upgrade to `wsUrl` gets (101 when it opens). */
const upgradeStatus = (wsUrl: string, bearer?: string) =>
  Effect.async<number>((resume) => {
    const socket = new WebSocket(
      wsUrl,
      bearer === undefined ? {} : { headers: { authorization: `Bearer ${bearer}` } },
    )
    socket.on("unexpected-response", (_req, res) => {
      resume(Effect.succeed(res.statusCode ?? 0))
      socket.terminate()
    })
    socket.on("open", () => {
      resume(Effect.succeed(101))
      socket.close()
    })
    // The refusal is seen above; the socket's own error after it says nothing more.
    socket.on("error", () => undefined)
  })

const numbered = (text: string) => text.split("\r\n").filter((l) => /^(early|late) \d+$/.test(l))

describe("node RPCs", () => {
  it.scopedLive(
    "a worker's agent output reaches the main node's terminal in order, nothing lost across a cut connection",
    () =>
      Effect.gen(function* () {
        const goFile = join(process.env["TMPDIR"] ?? "/tmp", `node-rpc-go-${process.pid}-${Date.now()}`)
        const { main, worker, proxy } = yield* mainAndWorker(
          [
            'i=1; while [ $i -le 300 ]; do echo "early $i"; i=$((i+1)); done',
            `while [ ! -f ${goFile} ]; do sleep 0.05; done`,
            'i=1; while [ $i -le 300 ]; do echo "late $i"; i=$((i+1)); done',
            'git commit -q --allow-empty -m "the work"',
          ],
          "proxy",
        )
        const id = yield* createStory(worker.context, "remote work")
        yield* Effect.orDie(Context.get(worker.context, Pipeline).startAgent(id, "coder-1"))

        const ui = yield* uiClient(main.url)
        const chunks = yield* Queue.unbounded<TerminalChunk>()
        // The main node knows the session once the worker's first lines arrive.
        yield* eventually(
          Effect.flatMap(ui.Agents(), (rows) =>
            ensure(
              rows.some((r) => r.storyId === id),
              "not listed yet",
            ),
          ),
        )
        yield* ui.Terminal({ id }).pipe(
          Stream.runForEach((c) => Queue.offer(chunks, c)),
          Effect.forkScoped,
        )
        let text = ""
        const takeUntil = (done: (t: string) => boolean) =>
          Effect.gen(function* () {
            while (!done(text)) {
              const chunk = yield* Queue.take(chunks).pipe(Effect.timeout("20 seconds"), Effect.orDie)
              if (chunk._tag === "Ended") return chunk
              text += chunk.text
            }
            return undefined
          })
        yield* takeUntil((t) => t.includes("early 300\r\n"))

        // Cut the worker off, let its agent finish meanwhile, then heal.
        yield* proxy.cut
        writeFileSync(goFile, "")
        const run = yield* Context.get(worker.context, ActivityView).agents.awaitRun(id)
        expect(Option.map(run, (r) => r.outcome)).toEqual(Option.some("succeeded"))
        yield* proxy.heal

        const ended = yield* takeUntil(() => false)
        expect(ended).toEqual({ _tag: "Ended", outcome: "succeeded" })
        const expected = [
          ...Array.from({ length: 300 }, (_, i) => `early ${i + 1}`),
          ...Array.from({ length: 300 }, (_, i) => `late ${i + 1}`),
        ]
        expect(numbered(text)).toEqual(expected)
        expect(text).not.toContain("not received")
      }),
    60_000,
  )

  it.scopedLive(
    "the main node's stop stops the agent on the worker; list_agents, get_agent_output and wait_for_agent follow it; its log is fetched",
    () =>
      Effect.gen(function* () {
        const { main, worker, node } = yield* mainAndWorker(['echo "working"', "exec sleep 600"], "direct")
        const id = yield* createStory(worker.context, "long work")
        yield* Effect.orDie(Context.get(worker.context, Pipeline).startAgent(id, "coder-1"))

        const mcp = yield* Effect.acquireRelease(
          Effect.promise(async () => {
            const client = new Client({ name: "node-rpc-test", version: "1" })
            await client.connect(
              new StreamableHTTPClientTransport(new URL(`${main.url}/mcp`), {
                requestInit: { headers: { authorization: `Bearer ${token}` } },
              }),
            )
            return client
          }),
          (client) => Effect.promise(() => client.close()),
        )
        const listed = yield* eventually(
          Effect.gen(function* () {
            const answer = yield* Effect.promise(() => mcp.callTool({ name: "list_agents", arguments: {} }))
            const result = answer.structuredContent as {
              readonly nodes: ReadonlyArray<{
                readonly node: string
                readonly label: string
                readonly connected: boolean
              }>
              readonly remote: ReadonlyArray<{
                readonly node: string
                readonly story_id: string
                readonly agent: string
              }>
            }
            yield* ensure(result.remote.length > 0, "no remote agent yet")
            return result
          }),
        )
        expect(listed.nodes).toEqual([expect.objectContaining({ node, label: "worker-1", connected: true })])
        expect(listed.remote).toEqual([expect.objectContaining({ node, story_id: id, agent: "coder-1" })])
        const output = yield* eventually(
          Effect.gen(function* () {
            const answer = yield* Effect.promise(() =>
              mcp.callTool({ name: "get_agent_output", arguments: { story_id: id } }),
            )
            const result = answer.structuredContent as {
              readonly running: boolean
              readonly node?: string
              readonly lines: ReadonlyArray<string>
            }
            yield* ensure(result.lines.includes("working"), "no output yet")
            return result
          }),
        )
        expect(output).toEqual(expect.objectContaining({ running: true, node }))
        // The same item on the main node (as sync would bring it): status names the node running its agent.
        expect(yield* createStory(main.context, "long work")).toBe(id)
        const status = yield* Effect.promise(() =>
          mcp.callTool({ name: "status", arguments: { story_id: id } }),
        )
        expect((status.structuredContent as { readonly remote_agent: unknown }).remote_agent).toEqual({
          node,
          agent: "coder-1",
          role: "coder",
          session: 1,
        })

        // wait_for_agent on the main node waits for the worker's agent to end.
        const waiting = yield* Effect.fork(
          Effect.promise(() => mcp.callTool({ name: "wait_for_agent", arguments: { story_id: id } })),
        )
        const ui = yield* uiClient(main.url)
        const answer = yield* ui.StopAgent({ id })
        expect(answer.message).toBe(`${id}: stopped`)
        const waited = (yield* Fiber.join(waiting).pipe(Effect.timeout("20 seconds"))).structuredContent
        expect(waited).toEqual(
          expect.objectContaining({ still_running: false, result: null, node, outcome: "stopped" }),
        )
        const workerAgents = Context.get(worker.context, ActivityView).agents
        expect(Option.isNone(yield* workerAgents.running(id))).toBe(true)
        const last = yield* workerAgents.awaitRun(id)
        expect(Option.map(last, (r) => r.outcome)).toEqual(Option.some("stopped"))
        // The worker's own record says who stopped it.
        const item = yield* Effect.orDie(Context.get(worker.context, PipelineView).get(id))
        expect(item.execution[node]?._tag).not.toBe("Running")

        // The session's log, fetched from the main node.
        const nodes = Option.getOrThrow(Context.get(main.context, ActivityView).nodes)
        const log = yield* nodes.fetchLog(node, { storyId: id, agent: "coder-1" })
        expect(log).toEqual(expect.objectContaining({ session: 1, truncated: false }))
        expect(log.problem).toBeUndefined()
        expect(log.lines).toContain("working")
        const none = yield* nodes.fetchLog(node, { storyId: id, agent: "coder-9" })
        expect(none.lines).toEqual([])
        expect(none.problem).toMatch(/has no session of coder-9 on this node/)
        // get_agent_log on the main node fetches it from the worker (no log of it is here).
        const agentLog = (yield* Effect.promise(() =>
          mcp.callTool({ name: "get_agent_log", arguments: { story_id: id } }),
        )).structuredContent as {
          readonly log: { readonly path: string; readonly entries: ReadonlyArray<unknown> }
        }
        expect(agentLog.log.path).toBe(`node:${node}`)
        expect(agentLog.log.entries).toContainEqual({ type: "line", text: "working" })
      }),
    60_000,
  )

  it.scopedLive("an old protocol is refused with the versions to run", () =>
    Effect.gen(function* () {
      const main = yield* nodeServer({ script: ["true"], access })
      const client = yield* nodeRpcClient(main.url)
      const error = yield* Effect.flip(client.Attach({ protocol: 0, node: "node-old" as never }))
      expect(error._tag).toBe("ProtocolUnsupported")
      expect(error.message).toMatch(/node protocol 0 and the main node 1: run a huskies version/)
    }),
  )

  /** A worker admitted by serve's own admission (over the project's nodes.db), attached with its ticket. */
  const admittedWorker = Effect.gen(function* () {
    const main = yield* nodeServer({ script: ["true"], access })
    const db = yield* openTrustDb(nodesDbPath(main.root))
    const { token: joinToken } = yield* db.createToken("worker", Date.now(), 60 * 60 * 1000)
    const worker = yield* makeNodeIdentity(nodeKeyPath(yield* scopedTempDir), NodeId.make("node-worker-a"))
    const admission = Context.unsafeGet(main.context, NodeAdmission)
    const challenge = yield* admission.challenge
    const peer = yield* admission.admit(challenge, answerChallenge(worker, challenge, { joinToken }))
    const withTicket = Effect.flatMap(
      Layer.build(
        RpcClient.layerProtocolSocket({ retryTransientErrors: false }).pipe(
          Layer.provide(bearerSocket(nodeRpcUrl(main.url), peer.ticket)),
          Layer.provide(RpcSerialization.layerNdjson),
        ),
      ),
      (protocol) => RpcClient.make(NodeRpcs).pipe(Effect.provide(protocol)),
    )
    const nodes = Option.getOrThrow(Context.get(main.context, ActivityView).nodes)
    const connected = (wanted: boolean) =>
      eventually(
        Effect.flatMap(nodes.nodes, (all) =>
          ensure(
            all.some((n) => n.node === worker.node && n.connected === wanted),
            wanted ? "not yet connected" : "still connected",
          ),
        ),
      )
    /** Attaches as the worker; the fiber ends when the main node ends its command stream. */
    const attach = Effect.gen(function* () {
      const own = yield* withTicket
      const attached = yield* own.Attach({ protocol: nodeProtocolVersion, node: worker.node })
      expect(attached.main).toBe(Context.get(main.context, PipelineView).nodeId)
      const commandsEnded = yield* own.Commands().pipe(Stream.runDrain, Effect.exit, Effect.fork)
      yield* connected(true)
      return commandsEnded
    })
    return { main, db, worker, peer, withTicket, attach, connected }
  })

  it.scopedLive(
    "a ticket attaches only as its own node; a revoked node's connection ends and its ticket is refused",
    () =>
      Effect.gen(function* () {
        const { main, db, worker, peer, withTicket, attach, connected } = yield* admittedWorker
        const other = yield* withTicket
        const refused = yield* Effect.flip(
          other.Attach({ protocol: nodeProtocolVersion, node: NodeId.make("node-worker-b") }),
        )
        expect(refused.message).toBe(
          "this connection was admitted for node node-worker-a; it cannot attach as node-worker-b",
        )

        const commandsEnded = yield* attach
        yield* db.revoke(worker.node, Date.now())
        yield* Fiber.join(commandsEnded).pipe(Effect.timeout("10 seconds"))
        yield* connected(false)
        expect(yield* upgradeStatus(nodeRpcUrl(main.url), peer.ticket)).toBe(401)
      }),
    60_000,
  )

  it.scopedLive("a node's RPC attachment ends with its sync connection, and its ticket with it", () =>
    Effect.gen(function* () {
      const { main, peer, attach, connected } = yield* admittedWorker
      const commandsEnded = yield* attach
      // What the sync route does when the node's connection closes.
      yield* Context.unsafeGet(main.context, NodeAdmission).end(peer.ticket)
      yield* Fiber.join(commandsEnded).pipe(Effect.timeout("10 seconds"))
      yield* connected(false)
      expect(yield* upgradeStatus(nodeRpcUrl(main.url), peer.ticket)).toBe(401)
    }),
  )

  it.scopedLive("a node connection without a ticket or token is refused (401)", () =>
    Effect.gen(function* () {
      const main = yield* nodeServer({ script: ["true"], access })
      const status = yield* upgradeStatus(nodeRpcUrl(main.url))
      expect(status).toBe(401)
      expect(nodeRpcPath).toBe("/rpc/node")
    }),
  )
})
