// test/fakes/discord/server.ts — a local Discord for the discord.js adapter's tests: the REST API
// (/api/v10: gateway info, users, channel messages, threads, interaction callbacks, application commands)
// and the gateway (./gateway.ts) on one port. Tests inject people's messages and button presses and read
// what the bot posted.
import { EventEmitter } from "node:events"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { FakeGateway } from "./gateway.js"

export interface FakeMessage {
  id: string
  channel_id: string
  content: string
  components: ReadonlyArray<{ type: number; components: ReadonlyArray<Record<string, unknown>> }>
  author: { id: string; username: string; bot: boolean }
  edited: number
  nonce?: string
}

export interface Callback {
  readonly interactionId: string
  readonly type: number
  readonly data: Record<string, unknown> | undefined
}

export interface Person {
  readonly id: string
  readonly username: string
}

export const alice: Person = { id: "200000000000000001", username: "alice" }

const iso = () => new Date().toISOString()

export class FakeDiscord extends EventEmitter {
  readonly token = "fake-bot-token"
  readonly botId = "100000000000000001"
  readonly applicationId = "100000000000000002"
  readonly guildId = "100000000000000003"
  readonly channelId = "100000000000000004"
  private lastId = 300_000_000_000_000_000n
  private readonly server = createServer((req, res) => void this.route(req, res))
  readonly gateway: FakeGateway
  /** Every message the bot posted, by id (edits update it in place). */
  readonly posted = new Map<string, FakeMessage>()
  readonly callbacks: Array<Callback> = []
  commands: ReadonlyArray<Record<string, unknown>> = []
  readonly channels = new Map<string, { id: string; type: number; parent_id?: string; name: string }>()
  intents = 0
  /** The channel each interaction happened in, for its reply. */
  private readonly interactionChannel = new Map<string, string>()
  /** While true, REST answers 503 and the gateway refuses connections. */
  private down = false
  private port = 0

  constructor() {
    super()
    this.channels.set(this.channelId, { id: this.channelId, type: 0, name: "ops" })
    this.gateway = new FakeGateway(
      {
        token: this.token,
        intents: (n) => (this.intents = n),
        ready: (sessionId, resumeUrl) => ({
          v: 10,
          user: this.botUser(),
          guilds: [{ id: this.guildId, unavailable: true }],
          session_id: sessionId,
          resume_gateway_url: resumeUrl,
          shard: [0, 1],
          application: { id: this.applicationId, flags: 0 },
          private_channels: [],
          relationships: [],
          user_settings: {},
          presences: [],
        }),
        afterReady: () => [{ t: "GUILD_CREATE", d: this.guild() }],
      },
      () => `ws://127.0.0.1:${this.port}/gateway`,
    )
    this.server.on("upgrade", (req, duplex, head) => this.gateway.upgrade(req, duplex, head))
  }

  static async start(): Promise<FakeDiscord> {
    const fake = new FakeDiscord()
    await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve))
    fake.port = (fake.server.address() as AddressInfo).port
    return fake
  }

  get api(): string {
    return `http://127.0.0.1:${this.port}/api`
  }

  snowflake(): string {
    return String(++this.lastId)
  }

  botUser() {
    return {
      id: this.botId,
      username: "huskies",
      discriminator: "0",
      global_name: null,
      avatar: null,
      bot: true,
    }
  }

  private user(person: Person) {
    return { id: person.id, username: person.username, discriminator: "0", global_name: null, avatar: null }
  }

  private guild() {
    return {
      id: this.guildId,
      name: "team",
      unavailable: false,
      owner_id: alice.id,
      member_count: 2,
      large: false,
      joined_at: iso(),
      roles: [{ id: this.guildId, name: "@everyone", permissions: "0", position: 0, color: 0, hoist: false }],
      channels: [...this.channels.values()].filter((c) => c.type === 0).map((c) => this.channel(c.id)),
      threads: [...this.channels.values()].filter((c) => c.type === 11).map((c) => this.channel(c.id)),
      members: [{ user: this.botUser(), roles: [], joined_at: iso() }],
      emojis: [],
      stickers: [],
      presences: [],
      voice_states: [],
      features: [],
    }
  }

  private channel(id: string) {
    const c = this.channels.get(id)!
    return {
      ...c,
      guild_id: this.guildId,
      position: 0,
      permission_overwrites: [],
      ...(c.type === 11 && { owner_id: this.botId, thread_metadata: { archived: false, locked: false } }),
    }
  }

  private messagePayload(
    person: Person,
    channelId: string,
    content: string,
    mentions: ReadonlyArray<unknown>,
  ) {
    return {
      id: this.snowflake(),
      channel_id: channelId,
      channel_type: this.channels.get(channelId)?.type ?? 0,
      guild_id: this.guildId,
      author: this.user(person),
      member: { roles: [], joined_at: iso() },
      content,
      timestamp: iso(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions,
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
      type: 0,
      components: [],
    }
  }

  /** A person writes to the bot directly: a DM channel the bot has never seen (no guild, no mention). */
  dm(text: string, person: Person = alice): { readonly channel: string; readonly id: string } {
    const channel = `9${person.id.slice(1)}`
    this.channels.set(channel, { id: channel, type: 1, name: "" })
    const { guild_id: _guild, member: _member, ...payload } = this.messagePayload(person, channel, text, [])
    this.gateway.dispatch("MESSAGE_CREATE", payload)
    return { channel, id: payload.id }
  }

  /** A person writes in a channel (or thread); `mention` prefixes the bot's mention the way the client does. */
  say(text: string, options: { channel?: string; mention?: boolean; person?: Person } = {}): string {
    const mention = options.mention ?? true
    const content = mention ? `<@${this.botId}> ${text}` : text
    const payload = this.messagePayload(
      options.person ?? alice,
      options.channel ?? this.channelId,
      content,
      mention ? [{ ...this.botUser(), member: { roles: [], joined_at: iso() } }] : [],
    )
    this.gateway.dispatch("MESSAGE_CREATE", payload)
    return payload.id
  }

  private interaction(type: number, person: Person, channelId: string, data: unknown, extra: object = {}) {
    const id = this.snowflake()
    this.interactionChannel.set(id, channelId)
    this.gateway.dispatch("INTERACTION_CREATE", {
      id,
      application_id: this.applicationId,
      type,
      data,
      guild_id: this.guildId,
      channel_id: channelId,
      channel: this.channel(channelId),
      member: { user: this.user(person), roles: [], permissions: "2147483647", joined_at: iso() },
      token: `interaction-token-${id}`,
      version: 1,
      app_permissions: "2147483647",
      locale: "en-US",
      guild_locale: "en-US",
      entitlements: [],
      authorizing_integration_owners: { "0": this.guildId },
      context: 0,
      ...extra,
    })
    return id
  }

  /** A person runs `/huskies <line>`. */
  slash(line: string, options: { channel?: string; person?: Person } = {}): string {
    const command = this.commands.find((c) => c["name"] === "huskies")
    return this.interaction(2, options.person ?? alice, options.channel ?? this.channelId, {
      id: String(command?.["id"] ?? "0"),
      name: "huskies",
      type: 1,
      options: [{ name: "command", type: 3, value: line }],
    })
  }

  /** A person presses the button `customId` on the bot's message `messageId`. */
  press(messageId: string, customId: string, person: Person = alice): string {
    const message = this.posted.get(messageId)
    if (message === undefined) throw new Error(`fake discord: the bot never posted ${messageId}`)
    return this.interaction(
      3,
      person,
      message.channel_id,
      { custom_id: customId, component_type: 2 },
      { message: this.wireMessage(message) },
    )
  }

  private wireMessage(m: FakeMessage) {
    return {
      ...this.messagePayload(alice, m.channel_id, m.content, []),
      id: m.id,
      author: this.botUser(),
      components: m.components,
    }
  }

  /** Makes Discord unreachable (REST 503, gateway dropped and refused) or reachable again. */
  setDown(down: boolean): void {
    this.down = down
    this.gateway.refusing = down
    if (down) this.gateway.drop()
  }

  /** Resolves with the first posted (or edited) message that satisfies `test`, waiting for it if needed. */
  waitFor(test: (m: FakeMessage) => boolean, timeoutMs = 10_000): Promise<FakeMessage> {
    const found = [...this.posted.values()].find(test)
    if (found) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("posted", check)
        reject(new Error("fake discord: no such message was posted in time"))
      }, timeoutMs)
      const check = (m: FakeMessage) => {
        if (!test(m)) return
        clearTimeout(timer)
        this.off("posted", check)
        resolve(m)
      }
      this.on("posted", check)
    })
  }

  /** Resolves with the bot's answer to interaction `id`, waiting for it if needed. */
  callbackFor(id: string): Promise<Callback> {
    const found = this.callbacks.find((c) => c.interactionId === id)
    if (found) return Promise.resolve(found)
    return new Promise((resolve) => {
      const check = (c: Callback) => {
        if (c.interactionId !== id) return
        this.off("callback", check)
        resolve(c)
      }
      this.on("callback", check)
    })
  }

  /** Resolves when the gateway emits `event` ("ready", "resumed", "disconnected"). */
  next(event: "ready" | "resumed" | "disconnected"): Promise<void> {
    return new Promise((resolve) => this.gateway.once(event, () => resolve()))
  }

  async close(): Promise<void> {
    this.gateway.close()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private post(channelId: string, body: Record<string, unknown>): FakeMessage {
    const nonce = typeof body["nonce"] === "string" ? body["nonce"] : undefined
    if (nonce !== undefined && body["enforce_nonce"] === true) {
      const seen = [...this.posted.values()].find((m) => m.channel_id === channelId && m.nonce === nonce)
      if (seen) return seen
    }
    const message: FakeMessage = {
      id: this.snowflake(),
      channel_id: channelId,
      content: String(body["content"] ?? ""),
      components: (body["components"] as FakeMessage["components"] | undefined) ?? [],
      author: { id: this.botId, username: "huskies", bot: true },
      edited: 0,
      ...(nonce !== undefined && { nonce }),
    }
    this.posted.set(message.id, message)
    this.emit("posted", message)
    return message
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Array<Buffer> = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString("utf8")
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>
    const url = new URL(req.url ?? "/", "http://x")
    const reply = (status: number, payload?: unknown) => {
      if (payload === undefined) return void res.writeHead(status).end()
      res.writeHead(status, { "content-type": "application/json" })
      res.end(JSON.stringify(payload))
    }
    if (this.down) {
      this.emit("refused", url.pathname)
      return reply(503, { message: "Service Unavailable", code: 0 })
    }
    const path = url.pathname.replace(/^\/api\/v10/, "")
    const isInteraction = path.startsWith("/interactions/")
    if (!isInteraction && req.headers.authorization !== `Bot ${this.token}`) {
      this.emit("unauthorized", url.pathname)
      return reply(401, { message: "401: Unauthorized", code: 0 })
    }
    const parts = path.split("/").filter(Boolean)
    const key = `${req.method} ${parts.map((p, i) => (i % 2 === 1 && /^\d+$/.test(p) ? ":id" : p)).join("/")}`
    const unknownChannel = () => reply(404, { message: "Unknown Channel", code: 10003 })
    switch (key) {
      case "GET gateway/bot":
        return reply(200, {
          url: `ws://127.0.0.1:${this.port}/gateway`,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
        })
      case "GET users/@me":
        return reply(200, this.botUser())
      case "PUT applications/:id/commands":
      case "PUT applications/:id/guilds/:id/commands": {
        const list = body as unknown as ReadonlyArray<Record<string, unknown>>
        this.commands = list.map((c) => ({ ...c, id: this.snowflake(), application_id: this.applicationId }))
        this.emit("commands", this.commands)
        return reply(200, this.commands)
      }
      case "POST channels/:id/messages": {
        if (!this.channels.has(parts[1]!)) return unknownChannel()
        return reply(200, this.wireMessage(this.post(parts[1]!, body)))
      }
      case "PATCH channels/:id/messages/:id": {
        const message = this.posted.get(parts[3]!)
        if (message === undefined || message.channel_id !== parts[1])
          return reply(404, { message: "Unknown Message", code: 10008 })
        if ("content" in body) message.content = String(body["content"])
        if ("components" in body) message.components = body["components"] as FakeMessage["components"]
        message.edited++
        this.emit("posted", message)
        return reply(200, this.wireMessage(message))
      }
      case "POST channels/:id/messages/:id/threads": {
        const [, parent, , root] = parts as [string, string, string, string]
        if (this.channels.has(root)) return reply(400, { message: "Thread already created", code: 160004 })
        if (!this.channels.has(parent)) return unknownChannel()
        if (this.channels.get(parent)?.type !== 0)
          return reply(400, { message: "Cannot execute action on this channel type", code: 50024 })
        this.channels.set(root, { id: root, type: 11, parent_id: parent, name: String(body["name"]) })
        this.gateway.dispatch("THREAD_CREATE", { ...this.channel(root), newly_created: true })
        return reply(201, this.channel(root))
      }
      case `POST interactions/:id/${parts[2]}/callback`: {
        const data = body["data"] as Record<string, unknown> | undefined
        this.callbacks.push({ interactionId: parts[1]!, type: Number(body["type"]), data })
        this.emit("callback", this.callbacks.at(-1))
        if (Number(body["type"]) === 4 && url.searchParams.get("with_response") === "true") {
          const channel = String(this.interactionChannel.get(parts[1]!) ?? this.channelId)
          const message = this.post(channel, data ?? {})
          return reply(200, {
            interaction: { id: parts[1], type: 2, response_message_id: message.id },
            resource: { type: 4, message: this.wireMessage(message) },
          })
        }
        return reply(204)
      }
    }
    return reply(404, { message: `fake discord: no route ${req.method} ${path}`, code: 0 })
  }
}
