// src/transports/http/nodeAccess.ts — what the access guard (AccessGuard.ts) reads of a node's upgrade:
// whether it asks for the in-band handshake on /crdt-sync, and the ticket it offers on /rpc/node. The sync
// route reads `peer` the same way, so the guard and the route never disagree on which upgrade is a node's.

const bearer = /^bearer +(\S+) *$/i

/** Where nodes sync (the sync server's route). */
export const nodeSyncPath = "/crdt-sync"

/**
 * Whether an upgrade to `url` is a node's: /crdt-sync whose `peer` parameter (the first, as
 * URLSearchParams reads it) is `node`. The sync route must read it the same way and then run the
 * handshake: the guard lets such an upgrade through without the token for that reason alone.
 */
export const asksNodeHandshake = (url: string): boolean => {
  const parsed = parseRequestUrl(url)
  return parsed?.pathname === nodeSyncPath && parsed.searchParams.get("peer") === "node"
}

/** The ticket an upgrade carries: `Authorization: Bearer <ticket>`, else `?ticket=`. */
export const ticketIn = (authorization: string | undefined, url: string): string | undefined =>
  bearer.exec(authorization ?? "")?.[1] ?? parseRequestUrl(url)?.searchParams.get("ticket") ?? undefined

const parseRequestUrl = (url: string): URL | undefined => {
  try {
    return new URL(url, "http://localhost")
  } catch {
    return undefined // a request target no URL parser takes asks for nothing a node asks for
  }
}
