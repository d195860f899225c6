// test/transports/mcp/fuzz.test.ts — /mcp under random and malformed input, against the real server
// in-process on 127.0.0.1 (fast-check generates, raw node:http sends, ~3000 requests in all).
//
// Input classes covered:
// - bodies: garbage bytes, text that is not JSON (random, truncated JSON), JSON that is not JSON-RPC,
//   JSON-RPC with wrong types (id as object/array/bool/float/null, method as number/null, params as
//   string/number/array, jsonrpc other than "2.0"), batches (mixed, empty, 101 messages), deep
//   nesting (up to 100k levels), oversized strings (1 MiB in a message, 5 MiB bodies), unknown
//   methods, notifications, client-sent responses, a second initialize, cancellations;
// - headers: missing/odd content-type and accept, missing/unknown/foreign/random session ids, odd
//   protocol versions, odd Host, random extra headers, chunked or sized bodies;
// - methods: POST, GET (an event stream when the session is valid), DELETE, HEAD, PUT, OPTIONS,
//   TRACE; paths with query strings;
// - in a live session: tools/call with listed and random tool names (incl. "__proto__",
//   "constructor"), arguments that are random JSON values, objects with the tool's own fields given
//   wrong or right types, extra keys and prototype keys (__proto__, constructor, prototype), ids of
//   existing items, progress tokens; requests sent 4 at a time, so ids collide across requests.
// Tools not in `runnable` (ones that may block, start agents, run tests or delete) are only sent
// arguments with an unknown key, which strict decoding always refuses before the tool runs.
//
// Checked: every answer has an expected status and is JSON-RPC 2.0 (a JSON error object, or an event
// stream whose events are JSON-RPC and answer every request sent), or is empty where HTTP says so
// (202, DELETE, HEAD); no request waits past `requestTimeoutMs`; /health answers 200 after every
// batch; afterwards dump_state shows no projection errors, every item (and every one the fuzz
// created) reads with status, and exactly `maxSessions` new sessions fit (none stuck).
import fc from "fast-check"
import { mkdirSync } from "node:fs"
import { request as httpRequest } from "node:http"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { withServer } from "../../support/server.js"

import {
  type Sent,
  send,
  problemWith,
  json,
  baseHeaders,
  openSession,
  runBatch,
  connect,
  checkStore,
  checkSessionsBounded,
  fuzzing,
  listTools,
  batch,
} from "../../support/mcpFuzz/client.js"
import { plannedArb, toolCallArb } from "../../support/mcpFuzz/arbitraries.js"

describe("/mcp under random and malformed input", () => {
  it("answers every protocol-level request with well-formed JSON-RPC and stays healthy", async () => {
    await withServer(async (server) => {
      const f = await fuzzing(server)
      await fc.assert(
        fc.asyncProperty(batch(plannedArb), (planned) => runBatch(f, planned)),
        { numRuns: 50, endOnFailure: true },
      )
      await checkStore(server.url, f.created)
      await checkSessionsBounded(f)
    })
  }, 120_000)

  it("answers random tools/call traffic in live sessions and leaves the Store readable", async () => {
    await withServer(async (server) => {
      const f = await fuzzing(server)
      const tools = await listTools(server.url)
      // Items to aim ids at, one of them with a worktree directory so status takes its slower path.
      const client = await connect(server.url)
      for (const name of ["seed one", "seed two"]) {
        const created = await client.callTool({ name: "create_story", arguments: { name } })
        f.created.push((created.structuredContent as { story_id: string }).story_id)
      }
      await client.close()
      mkdirSync(join(server.root, ".huskies", "worktrees", f.created[0] ?? "none"), { recursive: true })
      await fc.assert(
        fc.asyncProperty(batch(toolCallArb(tools)), (planned) => runBatch(f, planned)),
        { numRuns: 60, endOnFailure: true },
      )
      expect(f.created.length).toBeGreaterThan(2)
      await checkStore(server.url, f.created)
    })
  }, 120_000)

  // Regressions found by the fuzz.
  it("answers methods a web Request cannot carry (TRACE) with a JSON-RPC 405, not an empty 500", async () => {
    await withServer(async ({ url }) => {
      for (const method of ["TRACE", "OPTIONS", "PUT", "HEAD"]) {
        const sent: Sent = { method, path: "/mcp", headers: baseHeaders() }
        const got = await send(url, sent)
        expect(got.status).toBe(405)
        expect(problemWith(sent, got)).toBeUndefined()
      }
    })
  })

  it("refuses a request id still in flight in the session instead of leaving a request hanging", async () => {
    await withServer(async ({ url, root }) => {
      const session = await openSession(url)
      const client = await connect(url)
      const created = await client.callTool({ name: "create_story", arguments: { name: "slow status" } })
      await client.close()
      const id = (created.structuredContent as { story_id: string }).story_id
      // A worktree directory makes status run git: the first call is still running when the rest arrive.
      mkdirSync(join(root, ".huskies", "worktrees", id), { recursive: true })
      const body = json({
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name: "status", arguments: { story_id: id } },
      })
      const sent: Sent = { method: "POST", path: "/mcp", headers: baseHeaders(session), body }
      const answers = await Promise.all(Array.from({ length: 6 }, () => send(url, sent)))
      for (const got of answers) {
        expect([200, 409]).toContain(got.status)
        expect(problemWith(sent, got)).toBeUndefined()
      }
      expect(answers.some((a) => a.status === 200)).toBe(true)
      // Once answered, the id is free again.
      expect((await send(url, sent)).status).toBe(200)
      const twice: Sent = { ...sent, body: `[${body},${body}]` }
      const dup = await send(url, twice)
      expect(dup.status).toBe(409)
      expect(problemWith(twice, dup)).toBeUndefined()
    })
  })

  it("shuts down promptly while a client holds its event stream open", async () => {
    let held: Promise<number> | undefined
    const started = Date.now()
    await withServer(async ({ url }) => {
      const session = await openSession(url)
      const base = new URL(url)
      // The standalone GET stream an MCP client keeps open for as long as it is connected.
      let opened = (): void => undefined
      const open = new Promise<void>((resolve) => (opened = resolve))
      held = new Promise((resolve, reject) => {
        const req = httpRequest({
          host: base.hostname,
          port: base.port,
          path: "/mcp",
          headers: { accept: "text/event-stream", "mcp-session-id": session },
          agent: false,
        })
        req.on("response", (res) => {
          opened()
          res.resume()
          res.on("close", () => resolve(res.statusCode ?? 0))
        })
        req.on("error", reject)
        req.end()
      })
      // Headers arrive at once, before any event: the client knows the stream is open (or it failed).
      await Promise.race([open, held])
    })
    // Before: shutdown waited for the client to leave (forever for a live one).
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(await held).toBe(200)
  })

  it("refuses a body over 4 MiB with a JSON-RPC 413 and keeps serving", async () => {
    await withServer(async ({ url }) => {
      const session = await openSession(url)
      for (const chunked of [false, true]) {
        const sent: Sent = {
          method: "POST",
          path: "/mcp",
          headers: baseHeaders(session),
          body: "x".repeat(5 << 20),
          chunked,
        }
        const got = await send(url, sent)
        expect(got.status).toBe(413)
        expect(problemWith(sent, got)).toBeUndefined()
      }
      expect((await send(url, { method: "GET", path: "/health", headers: {} })).status).toBe(200)
    })
  })
})
