// test/fakes/slack/SlackFake.ts — a local Slack for the Slack adapter's tests: the Web API (form or JSON
// POSTs answered with `ok` envelopes) and the Socket Mode WebSocket (hello, events_api/interactive
// envelopes, the client's acks, disconnect), plus signed Events API deliveries to an HTTP receiver.
import { createHmac, randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { WebSocketServer, type WebSocket } from "ws"

export interface Posted {
  readonly channel: string
  readonly ts: string
  readonly thread_ts?: string
  text: string
  blocks?: ReadonlyArray<Record<string, unknown>>
  readonly edits: number
}

export interface FakeOptions {
  readonly botToken: string
  readonly appToken: string
  readonly botUserId?: string
  readonly port?: number
}

type Waiter = { readonly check: () => boolean; readonly resolve: () => void }

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

/** Web API arguments arrive form-encoded (objects as JSON strings) or as a JSON body. */
const decodeArgs = (req: IncomingMessage, body: string): Record<string, unknown> => {
  if ((req.headers["content-type"] ?? "").includes("application/json")) return JSON.parse(body || "{}")
  const out: Record<string, unknown> = {}
  for (const [k, v] of new URLSearchParams(body)) {
    out[k] = v.startsWith("[") || v.startsWith("{") ? JSON.parse(v) : v
  }
  return out
}

export class SlackFake {
  readonly botUserId: string
  readonly posted: Array<Posted> = []
  readonly acks = new Map<string, unknown>()
  readonly calls: Array<string> = []
  hellos = 0
  private server: Server | undefined
  private wss: WebSocketServer | undefined
  private sockets = new Set<WebSocket>()
  private waiters: Array<Waiter> = []
  private tsCounter = 0
  private pinger: NodeJS.Timeout | undefined
  port = 0

  constructor(private readonly options: FakeOptions) {
    this.botUserId = options.botUserId ?? "UBOT0001"
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`
  }

  async start(): Promise<void> {
    const wss = new WebSocketServer({ noServer: true })
    const server = createServer((req, res) => void this.handle(req, res))
    server.on("upgrade", (req, socket, head) => {
      if (!(req.url ?? "").startsWith("/link")) return socket.destroy()
      wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws))
    })
    await new Promise<void>((resolve) =>
      server.listen(this.port || this.options.port || 0, "127.0.0.1", resolve),
    )
    this.port = (server.address() as AddressInfo).port
    this.server = server
    this.wss = wss
    // Slack pings its clients; the SDK closes a socket that hears no ping for serverPingTimeout.
    this.pinger = setInterval(() => this.sockets.forEach((s) => s.ping("ping")), 2000)
  }

  /** Stops everything (the platform is down); `start()` again comes back on the same port. */
  async stop(): Promise<void> {
    clearInterval(this.pinger)
    this.sockets.forEach((s) => s.terminate())
    this.sockets.clear()
    this.wss?.close()
    await new Promise<void>((resolve) => {
      if (this.server === undefined) return resolve()
      this.server.closeAllConnections()
      this.server.close(() => resolve())
    })
    this.server = undefined
  }

  /** Drops every Socket Mode connection abruptly, as a network failure would. */
  dropSockets(): void {
    this.sockets.forEach((s) => s.terminate())
    this.sockets.clear()
  }

  /** Asks the clients to reconnect, as Slack does before recycling a connection. */
  refresh(): void {
    this.broadcast({ type: "disconnect", reason: "refresh_requested", debug_info: { host: "fake" } })
  }

  /** Resolves when `check` holds (checked now and after every change the fake sees). */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ check, resolve }))
  }

  /** Sends an Events API envelope over Socket Mode; returns its envelope id. */
  sendEvent(event: Record<string, unknown>): string {
    const envelope_id = randomUUID()
    this.broadcast({
      envelope_id,
      type: "events_api",
      accepts_response_payload: false,
      retry_attempt: 0,
      retry_reason: "",
      payload: this.eventCallback(event),
    })
    return envelope_id
  }

  /** A person presses a button of a message the bot posted; returns the envelope id. */
  pressButton(message: Posted, actionIndex: number, user = { id: "UALICE", username: "alice" }): string {
    const envelope_id = randomUUID()
    const actions = (message.blocks ?? []).find((b) => b["type"] === "actions") as
      { block_id: string; elements: Array<Record<string, unknown>> } | undefined
    const element = actions?.elements[actionIndex]
    if (element === undefined) throw new Error("the message has no such button")
    this.broadcast({
      envelope_id,
      type: "interactive",
      accepts_response_payload: true,
      payload: {
        type: "block_actions",
        user: { ...user, name: user.username, team_id: "T0001" },
        api_app_id: "A0001",
        token: "verification-token",
        container: {
          type: "message",
          message_ts: message.ts,
          channel_id: message.channel,
          is_ephemeral: false,
        },
        trigger_id: "1.2.3",
        team: { id: "T0001", domain: "fake" },
        channel: { id: message.channel, name: "ops" },
        message: {
          type: "message",
          user: this.botUserId,
          ts: message.ts,
          thread_ts: message.thread_ts,
          text: message.text,
          blocks: message.blocks,
        },
        response_url: `http://127.0.0.1:${this.port}/response`,
        actions: [{ ...element, block_id: actions?.block_id, action_ts: `${Date.now() / 1000}` }],
      },
    })
    return envelope_id
  }

  /** The Events API body Slack would POST for `event`, signed with `secret` at `timestamp` (seconds). */
  signedDelivery(event: Record<string, unknown>, secret: string, timestamp = Math.floor(Date.now() / 1000)) {
    const body = JSON.stringify(this.eventCallback(event))
    const signature = `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`
    return {
      body,
      headers: {
        "content-type": "application/json",
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": signature,
      },
    }
  }

  private eventCallback(event: Record<string, unknown>) {
    return {
      token: "verification-token",
      team_id: "T0001",
      api_app_id: "A0001",
      event: { event_ts: event["ts"], ...event },
      type: "event_callback",
      event_id: `Ev${randomUUID().slice(0, 8)}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: "T0001", user_id: this.botUserId, is_bot: true }],
    }
  }

  private broadcast(frame: unknown): void {
    const text = JSON.stringify(frame)
    this.sockets.forEach((s) => s.send(text))
  }

  private changed(): void {
    const ready = this.waiters.filter((w) => w.check())
    this.waiters = this.waiters.filter((w) => !ready.includes(w))
    ready.forEach((w) => w.resolve())
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws)
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown }
      if (frame.envelope_id !== undefined) this.acks.set(frame.envelope_id, frame.payload ?? null)
      this.changed()
    })
    ws.on("close", () => {
      this.sockets.delete(ws)
      this.changed()
    })
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: this.sockets.size,
        debug_info: { host: "fake" },
        connection_info: { app_id: "A0001" },
      }),
    )
    this.hellos += 1
    this.changed()
  }

  private nextTs(): string {
    this.tsCounter += 1
    return `${Math.floor(Date.now() / 1000)}.${String(this.tsCounter).padStart(6, "0")}`
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (body: Record<string, unknown>) => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify(body))
    }
    const method = (req.url ?? "").replace(/^\/api\//, "").split("?")[0] ?? ""
    const args = decodeArgs(req, await readBody(req))
    const bearer = (req.headers.authorization ?? "").replace(/^Bearer /, "")
    this.calls.push(method)
    if (method === "apps.connections.open") {
      if (bearer !== this.options.appToken) return reply({ ok: false, error: "invalid_auth" })
      return reply({ ok: true, url: `ws://127.0.0.1:${this.port}/link/?ticket=${randomUUID()}&app_id=A0001` })
    }
    if (bearer !== this.options.botToken) return reply({ ok: false, error: "invalid_auth" })
    switch (method) {
      case "auth.test":
        return reply({
          ok: true,
          url: "https://fake.slack.com/",
          team: "Fake",
          user: "huskies",
          team_id: "T0001",
          user_id: this.botUserId,
          bot_id: "B0001",
          is_enterprise_install: false,
        })
      case "chat.postMessage": {
        if (typeof args["channel"] !== "string") return reply({ ok: false, error: "channel_not_found" })
        const posted: Posted = {
          channel: args["channel"],
          ts: this.nextTs(),
          ...(typeof args["thread_ts"] === "string" ? { thread_ts: args["thread_ts"] } : {}),
          text: String(args["text"] ?? ""),
          ...(Array.isArray(args["blocks"]) ? { blocks: args["blocks"] } : {}),
          edits: 0,
        }
        this.posted.push(posted)
        reply({
          ok: true,
          channel: posted.channel,
          ts: posted.ts,
          message: { type: "message", text: posted.text, user: this.botUserId, ts: posted.ts },
        })
        return this.changed()
      }
      case "chat.update": {
        const found = this.posted.find((p) => p.channel === args["channel"] && p.ts === args["ts"])
        if (found === undefined) return reply({ ok: false, error: "message_not_found" })
        found.text = String(args["text"] ?? "")
        found.blocks = Array.isArray(args["blocks"]) ? args["blocks"] : []
        ;(found as { edits: number }).edits += 1
        reply({ ok: true, channel: found.channel, ts: found.ts, text: found.text })
        return this.changed()
      }
      case "conversations.info":
        return reply({ ok: true, channel: { id: args["channel"], name: "ops", is_channel: true } })
      default:
        return reply({ ok: false, error: "unknown_method" })
    }
  }
}
