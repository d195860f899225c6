// test/transports/mcp/sessionLimits.test.ts — the /mcp session rules as pure decisions: who makes room
// at the total and the per-client cap, and when an idle session expires.
import { describe, expect, it } from "vitest"
import {
  admit,
  defaultSessionLimits,
  expiresAt,
  type SessionState,
} from "../../../src/transports/mcp/sessionLimits.js"

const session = (id: string, over: Partial<SessionState> = {}): SessionState => ({
  id,
  client: "10.0.0.1",
  inFlight: 0,
  streams: 1,
  streamed: true,
  lastSeen: 0,
  ...over,
})

const limits = { maxSessions: 4, maxSessionsPerClient: 2 }

const decide = (sessions: ReadonlyArray<SessionState>, client: string) =>
  admit(sessions, client, sessions.filter((s) => s.client === client).length, sessions.length, limits)

describe("admit", () => {
  it("admits below both caps", () => {
    expect(decide([session("a")], "10.0.0.1")).toEqual({ _tag: "Admit" })
  })

  it("at a client's own cap, evicts that client's least recently used idle session, not another client's", () => {
    const sessions = [
      session("other", { client: "10.0.0.2", lastSeen: 0 }),
      session("old", { lastSeen: 5 }),
      session("new", { lastSeen: 9 }),
    ]
    expect(decide(sessions, "10.0.0.1")).toEqual({ _tag: "Evict", id: "old" })
  })

  it("at the total cap, evicts the least recently used idle session of any client", () => {
    const sessions = [
      session("a", { client: "10.0.0.2", lastSeen: 3 }),
      session("b", { client: "10.0.0.3", lastSeen: 1 }),
      session("c", { client: "10.0.0.4", lastSeen: 2 }),
      session("d", { client: "10.0.0.5", lastSeen: 4 }),
    ]
    expect(decide(sessions, "10.0.0.1")).toEqual({ _tag: "Evict", id: "b" })
  })

  it("evicts a session without an event stream before a more idle one that holds a stream", () => {
    const sessions = [
      session("streaming", { lastSeen: 1 }),
      session("streamless", { streams: 0, lastSeen: 8 }),
    ]
    expect(decide(sessions, "10.0.0.1")).toEqual({ _tag: "Evict", id: "streamless" })
  })

  it("never evicts a session with a request in flight; refuses when every candidate is busy", () => {
    const sessions = [session("a", { inFlight: 1 }), session("b", { inFlight: 2, lastSeen: 9 })]
    const decision = decide(sessions, "10.0.0.1")
    expect(decision._tag).toBe("Refuse")
    if (decision._tag === "Refuse") expect(decision.message).toContain("10.0.0.1")
    // Another client is below its own cap and the total has room: admitted.
    expect(decide(sessions, "10.0.0.9")).toEqual({ _tag: "Admit" })
  })
})

describe("expiresAt", () => {
  it("never expires a session in use (a request in flight or a stream open)", () => {
    expect(expiresAt(session("a", { inFlight: 1, streams: 0 }), defaultSessionLimits)).toBeUndefined()
    expect(expiresAt(session("a"), defaultSessionLimits)).toBeUndefined()
  })

  it("gives a session whose stream closed the grace, and one that never streamed the idle timeout", () => {
    const closed = session("a", { streams: 0, lastSeen: 1000 })
    expect(expiresAt(closed, defaultSessionLimits)).toBe(1000 + defaultSessionLimits.streamGraceMillis)
    const never = session("b", { streams: 0, streamed: false, lastSeen: 1000 })
    expect(expiresAt(never, defaultSessionLimits)).toBe(1000 + defaultSessionLimits.idleMillis)
  })
})
