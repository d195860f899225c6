// src/transports/chat/webhookGuard.ts — the access guard's rule for the chat webhook receivers (Slack's
// Events API, WhatsApp's webhook), which listen on their own ports: the same decision as every route of
// the main server (AccessGuard.decideAccess): Host and Origin must name the receiver, and the platform's
// signature, checked by the receiver over the raw body, stands in for the token. Used by those adapters.
import type { IncomingMessage, ServerResponse } from "node:http"
import {
  type AccessRules,
  decideAccess,
  type HostPort,
  parseHostPort,
  requestFacts,
} from "../http/AccessGuard.js"

/** Admits a request to a webhook receiver on `port`, or answers it (403) and returns false. */
export type WebhookGuard = (req: IncomingMessage, res: ServerResponse, port: number) => boolean

/**
 * The guard of a receiver bound to `bindHost`: a loopback name or the bind address on its port, or one of
 * `allowedHosts` (project.toml's [server] allowed_hosts: the public name a reverse proxy passes on).
 */
export const webhookGuard = (bindHost: string, allowedHosts: ReadonlyArray<string> = []): WebhookGuard => {
  // Checked when project.toml is decoded; an entry that does not parse admits nothing.
  const allowed = allowedHosts.flatMap((entry): ReadonlyArray<HostPort> => {
    const parsed = parseHostPort(entry)
    return parsed === undefined ? [] : [parsed]
  })
  return (req, res, port) => {
    const rules: AccessRules = { bindHost, port, allowedHosts: allowed }
    const decision = decideAccess(rules, { ...requestFacts(req), signedRoute: true })
    if (decision._tag === "Allow") return true
    const message = decision._tag === "Forbidden" ? decision.reason : "unauthorized"
    const body = JSON.stringify({ error: message })
    res.writeHead(decision._tag === "Forbidden" ? 403 : 401, {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      connection: "close",
    })
    res.end(body)
    return false
  }
}
