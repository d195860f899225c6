// test/transports/http/sessions.test.ts — login sessions and the failed-login limit over time (a clock
// the test moves), the session cookie's parsing and attributes, and the guard's decision with sessions.
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import {
  AccessMisconfigured,
  accessRules,
  decideAccess,
  type RequestFacts,
} from "../../../src/transports/http/AccessGuard.js"
import {
  cookieValues,
  failureWindowMillis,
  makeLoginLimiter,
  makeSessions,
  maxFailures,
  sessionLifetimeMillis,
  sessionSetCookie,
} from "../../../src/transports/http/sessions.js"

const clock = () => {
  let at = 1_000_000
  return { now: () => at, advance: (ms: number) => void (at += ms) }
}

describe("sessions", () => {
  it("are valid from minting until their lifetime ends, and not after", () => {
    const time = clock()
    const sessions = makeSessions(time.now)
    const id = sessions.mint()
    expect(sessions.valid(id)).toBe(true)
    expect(sessions.valid(`${id}x`)).toBe(false)
    time.advance(sessionLifetimeMillis - 1)
    expect(sessions.valid(id)).toBe(true)
    time.advance(1)
    expect(sessions.valid(id)).toBe(false)
  })

  it("end when revoked, the others going on", () => {
    const sessions = makeSessions(clock().now)
    const a = sessions.mint()
    const b = sessions.mint()
    sessions.revoke(a)
    expect(sessions.valid(a)).toBe(false)
    expect(sessions.valid(b)).toBe(true)
  })

  it("are bounded: past the cap the oldest goes, the newest stay", () => {
    const sessions = makeSessions(clock().now)
    const first = sessions.mint()
    const ids = Array.from({ length: 256 }, () => sessions.mint())
    expect(sessions.valid(first)).toBe(false)
    expect(ids.every(sessions.valid)).toBe(true)
  })
})

describe("the failed-login limit", () => {
  it(`lets ${maxFailures} failures through a window, then makes the address wait out the oldest`, () => {
    const time = clock()
    const limiter = makeLoginLimiter(time.now)
    for (let i = 0; i < maxFailures; i++) {
      expect(limiter.waitMillis("10.0.0.1")).toBe(0)
      limiter.failed("10.0.0.1")
      time.advance(1000)
    }
    const wait = limiter.waitMillis("10.0.0.1")
    expect(wait).toBe(failureWindowMillis - maxFailures * 1000)
    expect(limiter.waitMillis("10.0.0.2")).toBe(0)
    time.advance(wait)
    expect(limiter.waitMillis("10.0.0.1")).toBe(0)
  })

  it("forgets an address's failures when it logs in", () => {
    const limiter = makeLoginLimiter(clock().now)
    for (let i = 0; i < maxFailures; i++) limiter.failed("a")
    expect(limiter.waitMillis("a")).toBeGreaterThan(0)
    limiter.succeeded("a")
    expect(limiter.waitMillis("a")).toBe(0)
  })
})

describe("the session cookie", () => {
  it("is found among other cookies, every copy of it", () => {
    expect(cookieValues(undefined, "huskies_session")).toEqual([])
    expect(cookieValues('a=1; huskies_session=abc; b=2; huskies_session="def"', "huskies_session")).toEqual([
      "abc",
      "def",
    ])
    expect(cookieValues("xhuskies_session=abc; huskies_session=", "huskies_session")).toEqual([])
  })

  it("is HttpOnly, SameSite=Strict, whole-site, Secure only over TLS; clearing it expires it", () => {
    expect(sessionSetCookie("id", false)).toBe(
      `huskies_session=id; HttpOnly; SameSite=Strict; Path=/; Max-Age=${sessionLifetimeMillis / 1000}`,
    )
    expect(sessionSetCookie("id", true)).toMatch(/; Secure$/)
    expect(sessionSetCookie(undefined, false)).toMatch(/^huskies_session=; .*Max-Age=0$/)
  })
})

describe("decideAccess with sessions", () => {
  const rules = accessRules("0.0.0.0", 3001, { token: Redacted.make("the-token-0123456789") })
  if (rules instanceof AccessMisconfigured) throw rules
  const facts = (sessions: ReadonlyArray<string>, origin?: string): RequestFacts => ({
    host: "127.0.0.1:3001",
    origin,
    authorization: undefined,
    sessions,
  })
  const live = (id: string) => id === "live"

  it("admits a live session in place of the token, and nothing else", () => {
    expect(decideAccess(rules, facts(["live"]), live)._tag).toBe("Allow")
    expect(decideAccess(rules, facts(["stale", "live"]), live)._tag).toBe("Allow")
    expect(decideAccess(rules, facts(["stale"]), live)._tag).toBe("Unauthorized")
    expect(decideAccess(rules, facts(["live"]))._tag).toBe("Unauthorized")
  })

  it("still checks Origin first: a live session from another site's page is refused", () => {
    expect(decideAccess(rules, facts(["live"], "http://evil.example"), live)._tag).toBe("Forbidden")
  })
})
