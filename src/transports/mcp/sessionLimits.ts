// src/transports/mcp/sessionLimits.ts — the rules that bound /mcp sessions, as pure decisions: which
// session a new client may displace when a cap is reached, and when a quiet session has expired.
// McpEndpoint applies them; tests and docs/mcp.md state them.

export interface SessionLimits {
  /** Open sessions at most, over all clients. */
  readonly maxSessions: number
  /** Open sessions at most from one client (one remote address). */
  readonly maxSessionsPerClient: number
  /**
   * A session that never held an event stream (GET), with nothing in flight, is closed after this
   * long without a request: nothing else shows its client is still there.
   */
  readonly idleMillis: number
  /**
   * A session whose event stream closed, with nothing in flight, is closed after this long unless
   * the client opens a stream again or sends a request: a client that closes drops its stream.
   */
  readonly streamGraceMillis: number
}

export const defaultSessionLimits: SessionLimits = {
  maxSessions: 256,
  maxSessionsPerClient: 64,
  idleMillis: 5 * 60_000,
  streamGraceMillis: 10_000,
}

/** What the admission decision needs to know of an open session. */
export interface SessionState {
  readonly id: string
  readonly client: string
  /** Requests still waiting for their response. */
  readonly inFlight: number
  /** Event streams (GET) open now. */
  readonly streams: number
  /** Whether the session ever opened an event stream. */
  readonly streamed: boolean
  /** When the session last had a request, or its stream closed. */
  readonly lastSeen: number
}

export type Admission =
  | { readonly _tag: "Admit" }
  | { readonly _tag: "Evict"; readonly id: string }
  | { readonly _tag: "Refuse"; readonly message: string }

/**
 * Whether a new session for `client` may open. Past a cap the least recently used idle session
 * (nothing in flight) makes room, one without an open stream first (its client is the likeliest to
 * be gone); the client's own sessions when it is at its own cap. Refused only when every candidate
 * is busy.
 */
export const admit = (
  sessions: Iterable<SessionState>,
  client: string,
  clientSessions: number,
  totalSessions: number,
  limits: Pick<SessionLimits, "maxSessions" | "maxSessionsPerClient">,
): Admission => {
  const ownCap = clientSessions >= limits.maxSessionsPerClient
  if (!ownCap && totalSessions < limits.maxSessions) return { _tag: "Admit" }
  let best: SessionState | undefined
  for (const s of sessions) {
    if (s.inFlight > 0 || (ownCap && s.client !== client)) continue
    if (best === undefined || evictsBefore(s, best)) best = s
  }
  if (best !== undefined) return { _tag: "Evict", id: best.id }
  return {
    _tag: "Refuse",
    message: ownCap
      ? `Too many open MCP sessions from ${client} (${limits.maxSessionsPerClient}), each with a request still running; wait for one to finish, or close clients you no longer use, and retry`
      : `Too many open MCP sessions (${limits.maxSessions}), each with a request still running; retry when one finishes`,
  }
}

const evictsBefore = (a: SessionState, b: SessionState): boolean =>
  a.streams === 0 && b.streams > 0 ? true : a.streams > 0 && b.streams === 0 ? false : a.lastSeen < b.lastSeen

/**
 * When an idle session (nothing in flight, no stream open) closes: its last sign of life plus the
 * grace for a session that had a stream, or the idle timeout for one that never did. Undefined while
 * the session is in use.
 */
export const expiresAt = (session: SessionState, limits: SessionLimits): number | undefined =>
  session.inFlight > 0 || session.streams > 0
    ? undefined
    : session.lastSeen + (session.streamed ? limits.streamGraceMillis : limits.idleMillis)
