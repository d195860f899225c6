// test/fakes/discord/gateway.ts — the gateway half of the fake Discord: Discord's real WebSocket protocol
// (HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, sequenced dispatches, RESUME → replay + RESUMED,
// INVALID_SESSION), JSON encoding without compression. Used by test/fakes/discord/server.ts.
import { EventEmitter } from "node:events"
import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import { WebSocket, WebSocketServer } from "ws"

const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  Resume: 6,
  Reconnect: 7,
  InvalidSession: 9,
  Hello: 10,
  Ack: 11,
}

interface Dispatched {
  readonly s: number
  readonly t: string
  readonly d: unknown
}

interface Session {
  readonly id: string
  readonly log: Array<Dispatched>
  seq: number
}

export interface GatewayWorld {
  /** READY's `d` for a new session (user, application, guild list). */
  readonly ready: (sessionId: string, resumeUrl: string) => unknown
  /** Dispatches that follow READY on a fresh session (GUILD_CREATE). */
  readonly afterReady: () => ReadonlyArray<{ readonly t: string; readonly d: unknown }>
  readonly token: string
  readonly intents: (intents: number) => void
}

/** One gateway: at most one connected shard, the way a single-shard bot uses Discord. */
export class FakeGateway extends EventEmitter {
  private socket: WebSocket | undefined
  private live: Session | undefined
  private sessions = new Map<string, Session>()
  private readonly wss = new WebSocketServer({ noServer: true })
  private counter = 0
  /** How often the bot identified and resumed, for tests. */
  identifies = 0
  resumes = 0
  /** While true, new connections are refused with HTTP 503. */
  refusing = false

  constructor(
    private readonly world: GatewayWorld,
    private readonly url: () => string,
  ) {
    super()
  }

  upgrade(req: IncomingMessage, duplex: Duplex, head: Buffer): void {
    const query = new URL(req.url ?? "/", "http://x").searchParams
    if (this.refusing || query.get("encoding") !== "json" || query.has("compress")) {
      duplex.end("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
      return
    }
    this.wss.handleUpgrade(req, duplex, head, (ws) => this.accept(ws))
  }

  private accept(ws: WebSocket): void {
    this.socket?.terminate()
    this.socket = ws
    this.live = undefined
    const send = (payload: unknown) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(payload))
    send({ op: Op.Hello, d: { heartbeat_interval: 41_250 }, s: null, t: null })
    ws.on("message", (raw) => {
      const frame = JSON.parse(String(raw)) as { op: number; d: Record<string, unknown> | number | null }
      const d = (frame.d ?? {}) as Record<string, unknown>
      switch (frame.op) {
        case Op.Heartbeat:
          send({ op: Op.Ack, d: null, s: null, t: null })
          return
        case Op.Identify: {
          if (d["token"] !== this.world.token) return ws.close(4004, "Authentication failed")
          this.world.intents(Number(d["intents"]))
          this.identifies++
          const session: Session = { id: `session-${++this.counter}`, log: [], seq: 0 }
          this.sessions.set(session.id, session)
          this.live = session
          this.record(session, "READY", this.world.ready(session.id, `${this.url()}/resume`))
          for (const event of this.world.afterReady()) this.record(session, event.t, event.d)
          for (const event of session.log) this.write(event)
          this.emit("ready")
          return
        }
        case Op.Resume: {
          const session = this.sessions.get(String(d["session_id"]))
          if (d["token"] !== this.world.token || session === undefined) {
            send({ op: Op.InvalidSession, d: false, s: null, t: null })
            return
          }
          this.resumes++
          this.live = session
          const seq = Number(d["seq"])
          for (const event of session.log) if (event.s > seq) this.write(event)
          this.record(session, "RESUMED", {})
          this.write(session.log[session.log.length - 1]!)
          this.emit("resumed")
          return
        }
      }
    })
    ws.on("close", () => {
      if (this.socket === ws) {
        this.socket = undefined
        this.emit("disconnected")
      }
    })
  }

  private record(session: Session, t: string, d: unknown): Dispatched {
    const event = { s: ++session.seq, t, d }
    session.log.push(event)
    return event
  }

  private write(event: Dispatched): void {
    const ws = this.socket
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ op: Op.Dispatch, ...event }))
  }

  /** Sends a dispatch on the current session; while the bot is away it waits in the log for RESUME. */
  dispatch(t: string, d: unknown): void {
    const session = this.live ?? [...this.sessions.values()].at(-1)
    if (session === undefined) throw new Error(`fake discord: no session to dispatch ${t} on`)
    const event = this.record(session, t, d)
    if (this.live === session) this.write(event)
  }

  /** Drops the bot's socket the way a network failure does (no close frame; the bot resumes). */
  drop(): void {
    this.live = undefined
    this.socket?.terminate()
  }

  /** Closes the bot's socket with a close code (4004 = authentication failed: the bot may not resume). */
  closeWith(code: number): void {
    this.live = undefined
    this.socket?.close(code, "closed by the fake")
  }

  /** Forgets every session: the next RESUME is answered with INVALID_SESSION. */
  invalidateSessions(): void {
    this.sessions.clear()
    this.live = undefined
  }

  get connected(): boolean {
    return this.live !== undefined && this.socket?.readyState === WebSocket.OPEN
  }

  close(): void {
    this.socket?.terminate()
    this.wss.close()
  }
}
