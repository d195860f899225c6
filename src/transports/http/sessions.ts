// src/transports/http/sessions.ts — the browser's login sessions and the limit on failed logins: the
// access guard admits a request whose `huskies_session` cookie names a live session (see login.ts).
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"

/** SHA-256 of a token as the guard keeps it. */
export const tokenDigest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

/** Whether `given` is the token whose digest is `digest`: fixed-length digests compared in constant time. */
export const tokenMatches = (digest: Uint8Array, given: string): boolean =>
  timingSafeEqual(tokenDigest(given), digest)

/** The cookie that carries a session id; HttpOnly, SameSite=Strict, Path=/. */
export const sessionCookie = "huskies_session"

/** How long a session lasts after the login that made it (the cookie's Max-Age says the same). */
export const sessionLifetimeMillis = 7 * 24 * 60 * 60 * 1000

/** At most this many live sessions: one person's browsers and tabs need a handful. */
const maxSessions = 256

/**
 * Sessions are random ids the server minted and keeps in memory, not a value derived from the token:
 * a logout revokes the id on the server (a copied cookie dies with it), each one expires, and a
 * cookie reveals nothing about the token, not even to an offline guess. The cost: a restart logs the
 * browser out, and the page's next request is answered with the login page again.
 */
export interface Sessions {
  /** A new session id, to be set as the cookie. */
  readonly mint: () => string
  /** Whether `id` names a session that has not expired or been revoked. */
  readonly valid: (id: string) => boolean
  /** Ends the session `id` names, if any. */
  readonly revoke: (id: string) => void
}

// Kept by digest: looking an id up by its own hash leaks nothing about other ids through timing,
// and the map never holds a usable cookie value.
const key = (id: string): string => createHash("sha256").update(id, "utf8").digest("base64url")

export const makeSessions = (now: () => number): Sessions => {
  const expiresAt = new Map<string, number>()
  const prune = (at: number) => {
    for (const [k, until] of expiresAt) if (until <= at) expiresAt.delete(k)
  }
  return {
    mint: () => {
      const at = now()
      prune(at)
      // Full: the oldest session goes (a Map iterates in insertion order, which is expiry order here).
      while (expiresAt.size >= maxSessions) {
        const oldest = expiresAt.keys().next().value
        if (oldest === undefined) break
        expiresAt.delete(oldest)
      }
      const id = randomBytes(32).toString("base64url")
      expiresAt.set(key(id), at + sessionLifetimeMillis)
      return id
    },
    valid: (id) => {
      const until = expiresAt.get(key(id))
      if (until === undefined) return false
      if (until > now()) return true
      expiresAt.delete(key(id))
      return false
    },
    revoke: (id) => void expiresAt.delete(key(id)),
  }
}

/** The values of every cookie named `name` in a Cookie header (a browser may send more than one). */
export const cookieValues = (header: string | undefined, name: string): ReadonlyArray<string> => {
  if (header === undefined) return []
  const values: Array<string> = []
  for (const part of header.split(";")) {
    const eq = part.indexOf("=")
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    const value = part.slice(eq + 1).trim()
    if (value !== "") values.push(value.replace(/^"(.*)"$/, "$1"))
  }
  return values
}

/**
 * The Set-Cookie value for a session, or (id undefined) one that clears it. `secure` only when the
 * request itself came over TLS: a Secure cookie set over plain HTTP would never come back.
 */
export const sessionSetCookie = (id: string | undefined, secure: boolean): string =>
  [
    `${sessionCookie}=${id ?? ""}`,
    "HttpOnly",
    "SameSite=Strict",
    "Path=/",
    `Max-Age=${id === undefined ? 0 : Math.floor(sessionLifetimeMillis / 1000)}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ")

// ------------------------------------------------------------------------------------ failed logins

/** Failed logins one address may make in `failureWindowMillis` before it must wait. */
export const maxFailures = 5
export const failureWindowMillis = 60_000
/** Addresses remembered at once; past it the least recently failing one is forgotten. */
const maxAddresses = 10_000

export interface LoginLimiter {
  /** Milliseconds until `address` may try again; 0 when it may try now. */
  readonly waitMillis: (address: string) => number
  readonly failed: (address: string) => void
  readonly succeeded: (address: string) => void
}

/**
 * A sliding window per remote address. A generated token cannot be guessed in any number of tries;
 * this keeps a short, chosen one from being tried at network speed. Behind a proxy every client
 * shares the proxy's address, so a stranger's failures can make the person wait a minute too.
 */
export const makeLoginLimiter = (now: () => number): LoginLimiter => {
  const failures = new Map<string, Array<number>>()
  const recent = (address: string, at: number): Array<number> => {
    const times = (failures.get(address) ?? []).filter((t) => t > at - failureWindowMillis)
    if (times.length === 0) failures.delete(address)
    else failures.set(address, times)
    return times
  }
  return {
    waitMillis: (address) => {
      const at = now()
      const times = recent(address, at)
      const first = times[times.length - maxFailures]
      return times.length < maxFailures || first === undefined ? 0 : first + failureWindowMillis - at
    },
    failed: (address) => {
      const at = now()
      const times = recent(address, at)
      times.push(at)
      // Re-inserted last, so the first key is always the address that failed longest ago.
      failures.delete(address)
      failures.set(address, times.slice(-maxFailures))
      while (failures.size > maxAddresses) {
        const oldest = failures.keys().next().value
        if (oldest === undefined) break
        failures.delete(oldest)
      }
    },
    succeeded: (address) => void failures.delete(address),
  }
}
