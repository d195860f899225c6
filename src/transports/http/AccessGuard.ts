// src/transports/http/AccessGuard.ts — the one access guard in front of every HTTP route and WebSocket
// upgrade: Host and Origin must name this server (no DNS rebinding), and when a token is in force every
// request carries it as a bearer token or a browser's session cookie (login.ts); the agents' own token
// (agentToken.ts) only on /mcp; nodes authenticate in-band on /crdt-sync?peer=node and by ticket on
// /rpc/node. A pure decision (`decideAccess`) and the shell HttpApp applies.
import { Data, Redacted, Schema } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Duplex } from "node:stream"
import { nodePrincipalHeader, nodeRpcPath } from "../../protocol/nodeRpcs.js"
import { asksNodeHandshake, nodeSyncPath, ticketIn } from "./nodeAccess.js"
import { agentHeader, agentToken } from "./agentToken.js"
import { makeLoginDoor, sendLoginPage } from "./login.js"
import {
  cookieValues,
  makeLoginLimiter,
  makeSessions,
  sessionCookie,
  tokenDigest,
  tokenMatches,
} from "./sessions.js"
import { isApiPath } from "./staticAssets.js"

// ---------------------------------------------------------------------------------------- the decision

export type AccessDecision = Data.TaggedEnum<{
  /**
   * `agent`: admitted with the agents' token, which tools for people refuse (see agentToken.ts).
   * `node`: admitted by that node's ticket (on /rpc/node only).
   */
  Allow: { readonly agent: boolean; readonly node?: string | undefined }
  /** Host or Origin names something else: 403, with what to configure. */
  Forbidden: { readonly reason: string }
  /** A token is in force and the request does not carry it: 401, no detail. */
  Unauthorized: Record<never, never>
}>
export const AccessDecision = Data.taggedEnum<AccessDecision>()

/** A host name or address with an optional port, as in a Host header or an allowed_hosts entry. */
export interface HostPort {
  /** Lower case, without IPv6 brackets or a trailing dot. */
  readonly name: string
  readonly port?: number
}

const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/i
const plain = /^([^\s:/\\[\]@?#]+)(?::(\d{1,5}))?$/

/** `name`, `name:port`, `[v6]` or `[v6]:port`; undefined for anything else. */
export const parseHostPort = (value: string): HostPort | undefined => {
  const m = bracketed.exec(value) ?? plain.exec(value)
  if (m === null || m[1] === undefined) return undefined
  const name = m[1].toLowerCase().replace(/\.$/, "")
  if (name === "") return undefined
  if (m[2] === undefined) return { name }
  const port = Number(m[2])
  return port <= 65535 ? { name, port } : undefined
}

const ipv4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/
const isIpLiteral = (name: string): boolean => ipv4.test(name) || name.includes(":")

/** localhost, any 127.x address, ::1: names that only ever reach this machine. */
export const isLoopbackName = (name: string): boolean => {
  const n = name.toLowerCase().replace(/^\[(.*)\]$/, "$1")
  return n === "localhost" || n === "::1" || (ipv4.test(n) && n.startsWith("127."))
}

const isWildcard = (bindHost: string): boolean => {
  const n = bindHost.replace(/^\[(.*)\]$/, "$1")
  return n === "0.0.0.0" || n === "::"
}

/** Whether binding `host` keeps the server off the network (then no token is needed unless configured). */
export const isLoopbackBind = (host: string): boolean => isLoopbackName(host)

/** What the guard knows about the server: where it is bound and what it admits. */
export interface AccessRules {
  /** The address it was asked to bind: "127.0.0.1", "0.0.0.0", "::", a name. */
  readonly bindHost: string
  /** The port it listens on (the real one when 0 was asked for). */
  readonly port: number
  /** `[server] allowed_hosts`, parsed: a name alone admits it on any port. */
  readonly allowedHosts: ReadonlyArray<HostPort>
  /** SHA-256 of the token, when one is in force. */
  readonly tokenDigest?: Uint8Array
  /** SHA-256 of the agents' token derived from it (admitted on /mcp only). */
  readonly agentTokenDigest?: Uint8Array
}

/** The headers the decision reads; each undefined when absent. */
export interface RequestFacts {
  readonly host: string | undefined
  readonly origin: string | undefined
  readonly authorization: string | undefined
  /** The `huskies_session` cookies it carries (see sessions.ts). */
  readonly sessions?: ReadonlyArray<string>
  /** The path asked for, without the query: the agents' token is good for /mcp alone. */
  readonly path?: string
  /**
   * A WebSocket upgrade to /crdt-sync?peer=node (see `asksNodeHandshake`): the route authenticates it
   * in-band (a signed Hello, before any document byte), so it needs no token. Set for upgrades only.
   */
  readonly nodeHandshake?: boolean
  /** The node ticket an upgrade to /rpc/node carries (`Authorization: Bearer` or `?ticket=`). */
  readonly nodeTicket?: string | undefined
  /**
   * The route authenticates its callers by their platform's signature instead of the token (a chat
   * webhook: Slack's signing secret, WhatsApp's X-Hub-Signature-256, checked by the route over the raw
   * body, which the guard does not read). Host and Origin rules still apply to it.
   */
  readonly signedRoute?: boolean
}

/** Whether `target` names this server: a loopback name on its port, its bind address, or an allowed host. */
export const hostAllowed = (rules: AccessRules, target: HostPort, defaultPort: number): boolean => {
  const port = target.port ?? defaultPort
  if (rules.allowedHosts.some((a) => a.name === target.name && (a.port === undefined || a.port === port)))
    return true
  if (port !== rules.port) return false
  const bind = rules.bindHost.toLowerCase().replace(/^\[(.*)\]$/, "$1")
  const wildcard = isWildcard(bind)
  // A wildcard bind listens on loopback too. An IP literal cannot be rebound by anyone's DNS, so on a
  // wildcard bind any address of this machine is fine (the token is required there anyway).
  if (isLoopbackName(target.name)) return wildcard || isLoopbackName(bind)
  return target.name === bind || (wildcard && isIpLiteral(target.name))
}

const configureHint = (name: string) =>
  `If you reach huskies by this name on purpose, add it to allowed_hosts in the [server] table of ` +
  `.huskies/project.toml (e.g. allowed_hosts = ["${name}"]) and restart huskies serve.`

const bearer = /^bearer +(\S+) *$/i

/**
 * Host first (DNS rebinding: a page whose name now resolves here still sends its own name), then a
 * browser's Origin (a page elsewhere calling this server), then a node's in-band handshake or ticket
 * (`nodeOfTicket`: the node a live ticket belongs to), then the token or a live session
 * (`sessionValid`: the server's sessions; none without it). Total; reads nothing else.
 */
export const decideAccess = (
  rules: AccessRules,
  request: RequestFacts,
  sessionValid: (id: string) => boolean = () => false,
  nodeOfTicket: (ticket: string) => string | undefined = () => undefined,
): AccessDecision => {
  const place = decidePlace(rules, request)
  if (place !== undefined) return place
  if (request.nodeHandshake === true && request.path === nodeSyncPath)
    return AccessDecision.Allow({ agent: false })
  if (request.nodeTicket !== undefined && request.path === nodeRpcPath) {
    const node = nodeOfTicket(request.nodeTicket)
    if (node !== undefined) return AccessDecision.Allow({ agent: false, node })
  }
  if (request.signedRoute === true) return AccessDecision.Allow({ agent: false })
  if (rules.tokenDigest === undefined) return AccessDecision.Allow({ agent: false })
  const given = bearer.exec(request.authorization ?? "")?.[1]
  if (given !== undefined) {
    if (tokenMatches(rules.tokenDigest, given)) return AccessDecision.Allow({ agent: false })
    if (
      rules.agentTokenDigest !== undefined &&
      request.path === "/mcp" &&
      tokenMatches(rules.agentTokenDigest, given)
    )
      return AccessDecision.Allow({ agent: true })
  }
  return (request.sessions ?? []).some(sessionValid)
    ? AccessDecision.Allow({ agent: false })
    : AccessDecision.Unauthorized()
}

/** Host and Origin alone: the refusal, or undefined when the request comes from a place this server answers. */
export const decidePlace = (
  rules: AccessRules,
  request: RequestFacts,
): Extract<AccessDecision, { _tag: "Forbidden" }> | undefined => {
  if (request.host === undefined || request.host === "")
    return AccessDecision.Forbidden({ reason: "refused: the request has no Host header" })
  const host = parseHostPort(request.host)
  if (host === undefined || !hostAllowed(rules, host, 80))
    return AccessDecision.Forbidden({
      reason:
        `refused: Host ${JSON.stringify(request.host)} is not a name this server answers to. ` +
        configureHint(host?.name ?? request.host),
    })
  if (request.origin !== undefined) {
    const origin = parseOrigin(request.origin)
    if (origin === undefined || !hostAllowed(rules, origin.host, origin.defaultPort))
      return AccessDecision.Forbidden({
        reason:
          `refused: a web page from ${JSON.stringify(request.origin)} may not call this server (Origin). ` +
          configureHint(origin?.host.name ?? request.origin),
      })
  }
  return undefined
}

const parseOrigin = (origin: string): { host: HostPort; defaultPort: number } | undefined => {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return undefined // "null" (sandboxed frames, file:) and garbage alike
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined
  const host = parseHostPort(url.host)
  return host === undefined ? undefined : { host, defaultPort: url.protocol === "https:" ? 443 : 80 }
}

// ------------------------------------------------------------------------------------------- the shell

/** How the server is reached and who may: the guard is built from this once the port is known. */
export interface AccessSettings {
  /** `[server] allowed_hosts`: "name" or "name:port" (checked when project.toml is decoded). */
  readonly allowedHosts?: ReadonlyArray<string>
  /** The bearer token every request must carry; required when the bind is not loopback. */
  readonly token?: Redacted.Redacted<string>
}

export class AccessMisconfigured extends Schema.TaggedError<AccessMisconfigured>()("AccessMisconfigured", {
  detail: Schema.String,
}) {
  override get message(): string {
    return this.detail
  }
}

export const accessRules = (
  bindHost: string,
  port: number,
  settings: AccessSettings,
): AccessRules | AccessMisconfigured => {
  if (settings.token === undefined && !isLoopbackBind(bindHost))
    return new AccessMisconfigured({
      detail: `binding ${bindHost} (not loopback) needs a token: set [server] token or HUSKIES_TOKEN`,
    })
  const allowedHosts: Array<HostPort> = []
  for (const entry of settings.allowedHosts ?? []) {
    const parsed = parseHostPort(entry)
    if (parsed === undefined)
      return new AccessMisconfigured({ detail: `allowed_hosts: "${entry}" is not a host or host:port` })
    allowedHosts.push(parsed)
  }
  return {
    bindHost,
    port,
    allowedHosts,
    ...(settings.token === undefined
      ? {}
      : {
          tokenDigest: tokenDigest(Redacted.value(settings.token)),
          agentTokenDigest: tokenDigest(agentToken(Redacted.value(settings.token))),
        }),
  }
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(", ") : value
}

/** What the guard reads of a WebSocket upgrade: the request's facts, a node's handshake, a ticket on /rpc/node. */
export const upgradeFacts = (req: IncomingMessage): RequestFacts => {
  const facts = requestFacts(req)
  const url = req.url ?? "/"
  return {
    ...facts,
    nodeHandshake: asksNodeHandshake(url),
    ...(facts.path === nodeRpcPath ? { nodeTicket: ticketIn(facts.authorization, url) } : {}),
  }
}

export const requestFacts = (req: IncomingMessage): RequestFacts => ({
  host: header(req, "host"),
  origin: header(req, "origin"),
  authorization: header(req, "authorization"),
  sessions: cookieValues(header(req, "cookie"), sessionCookie),
  path: (req.url ?? "/").split("?")[0] ?? "/",
})

/** The answer to a refused request: JSON-RPC error shape on /mcp (what its clients parse), else JSON. */
const refusal = (decision: Exclude<AccessDecision, { _tag: "Allow" }>, jsonRpc: boolean) => {
  const status = decision._tag === "Forbidden" ? 403 : 401
  const message = decision._tag === "Forbidden" ? decision.reason : "unauthorized"
  const body = JSON.stringify(
    jsonRpc ? { jsonrpc: "2.0", error: { code: -32001, message }, id: null } : { error: message },
  )
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    ...(decision._tag === "Unauthorized" ? { "www-authenticate": "Bearer" } : {}),
  }
  return { status, headers, body }
}

export interface AccessGuard {
  /** True when the request may go on; otherwise it has been answered (403/401) and must be left alone. */
  readonly admit: (req: IncomingMessage, res: ServerResponse, jsonRpc: boolean) => boolean
  /** The same for a WebSocket upgrade: a refused one gets a plain HTTP answer and its socket closed. */
  readonly admitUpgrade: (req: IncomingMessage, socket: Duplex) => boolean
}

/** A browser asking for a page (not /mcp, /rpc, an asset...): it gets the login page rather than JSON. */
const wantsPage = (req: IncomingMessage): boolean =>
  (req.method === "GET" || req.method === "HEAD") &&
  (req.headers.accept ?? "").includes("text/html") &&
  !isApiPath((req.url ?? "/").split("?")[0] ?? "/")

export interface GuardOptions {
  /** The time sessions and the failed-login limit are measured by (the server's Clock). */
  readonly now: () => number
  /** The node a live ticket belongs to (NodeAdmission.byTicket); no ticket is good without it. */
  readonly nodeOfTicket?: (ticket: string) => string | undefined
  /** Where a bug in the login door is reported. */
  readonly logDefect: (message: string, cause: unknown) => void
}

export const makeAccessGuard = (rules: AccessRules, options: GuardOptions): AccessGuard => {
  const sessions = makeSessions(options.now)
  // Only a token in force has a login: on a loopback bind without one, /login is an unknown path.
  const login =
    rules.tokenDigest === undefined
      ? undefined
      : makeLoginDoor(rules.tokenDigest, sessions, makeLoginLimiter(options.now), options.logDefect)
  return {
    admit: (req, res, jsonRpc) => {
      const facts = requestFacts(req)
      const place = decidePlace(rules, facts)
      // POST /login passes Host and Origin like every request (a page elsewhere cannot log in), no more.
      if (place === undefined && login?.handle(req, res) === true) return false
      const decision = place ?? decideAccess(rules, facts, sessions.valid)
      if (decision._tag === "Allow") {
        // Set by the guard alone: what a client sent under that name is dropped.
        if (decision.agent) req.headers[agentHeader] = "1"
        else delete req.headers[agentHeader]
        delete req.headers[nodePrincipalHeader]
        return true
      }
      if (decision._tag === "Unauthorized" && wantsPage(req)) {
        sendLoginPage(res, 401, req.url ?? "/")
        return false
      }
      const { status, headers, body } = refusal(decision, jsonRpc)
      // The body is not read: Node discards it, and the connection closes after the answer.
      res.writeHead(status, { ...headers, connection: "close" })
      res.end(body)
      return false
    },
    admitUpgrade: (req, socket) => {
      const decision = decideAccess(rules, upgradeFacts(req), sessions.valid, options.nodeOfTicket)
      if (decision._tag === "Allow") {
        // Set by the guard alone, like the agent mark: which node a ticket admitted, for /rpc/node.
        if (decision.node === undefined) delete req.headers[nodePrincipalHeader]
        else req.headers[nodePrincipalHeader] = decision.node
        return true
      }
      const { status, headers, body } = refusal(decision, false)
      writeRawResponse(socket, status, headers, body)
      return false
    },
  }
}

const statusText: Record<number, string> = { 401: "Unauthorized", 403: "Forbidden", 404: "Not Found" }

/** An HTTP answer written straight to an upgrade's socket (no ServerResponse exists there), then closed. */
export const writeRawResponse = (
  socket: Duplex,
  status: number,
  headers: Record<string, string>,
  body: string,
): void => {
  const lines = Object.entries({ ...headers, connection: "close" }).map(([k, v]) => `${k}: ${v}\r\n`)
  socket.end(`HTTP/1.1 ${status} ${statusText[status] ?? ""}\r\n${lines.join("")}\r\n${body}`)
}

// -------------------------------------------------------------------------------------------- upgrades

/** A WebSocket route (/ws, /rpc, /crdt-sync): called only for requests the guard admitted. */
export type UpgradeRoute = (req: IncomingMessage, socket: Duplex, head: Buffer) => void

/**
 * The server's one 'upgrade' listener: guard, then the route for the path, else 404. Routes register
 * here (HttpLive's `upgrades`) and never listen on the server themselves, so none can skip the guard.
 */
export const upgradeListener =
  (guard: AccessGuard, routes: ReadonlyMap<string, UpgradeRoute>) =>
  (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!guard.admitUpgrade(req, socket)) return
    const path = (req.url ?? "/").split("?")[0] ?? "/"
    const route = routes.get(path)
    if (route !== undefined) return route(req, socket, head)
    const body = JSON.stringify({ error: `not found: no WebSocket route at ${path}` })
    writeRawResponse(
      socket,
      404,
      { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
      body,
    )
  }
