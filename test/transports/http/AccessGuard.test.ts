// test/transports/http/AccessGuard.test.ts — the access guard's decision: which Host and Origin a
// server on a given bind answers, and when a bearer token is needed; no sockets (see guardedRoutes.test.ts).
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { agentToken } from "../../../src/transports/http/agentToken.js"
import {
  AccessDecision,
  AccessMisconfigured,
  type AccessRules,
  accessRules,
  type AccessSettings,
  decideAccess,
  parseHostPort,
  type RequestFacts,
} from "../../../src/transports/http/AccessGuard.js"

const rulesFor = (bindHost: string, port: number, settings: AccessSettings = {}): AccessRules => {
  const rules = accessRules(bindHost, port, settings)
  if (rules instanceof AccessMisconfigured) throw rules
  return rules
}

const request = (facts: Partial<RequestFacts>): RequestFacts => ({
  host: undefined,
  origin: undefined,
  authorization: undefined,
  ...facts,
})

const tag = (decision: AccessDecision) => decision._tag

const token = Redacted.make("s3cret-token-of-some-length")

describe("decideAccess on a loopback bind", () => {
  const rules = rulesFor("127.0.0.1", 3001)

  it("admits loopback names on the bound port", () => {
    for (const host of ["localhost:3001", "127.0.0.1:3001", "127.1.2.3:3001", "[::1]:3001", "LOCALHOST:3001"])
      expect(tag(decideAccess(rules, request({ host }))), host).toBe("Allow")
  })

  it("refuses a rebound name, another port, a missing Host, and says what to configure", () => {
    for (const host of ["evil.example:3001", "localhost:3002", "localhost", "127.0.0.1.evil.example:3001"]) {
      const decision = decideAccess(rules, request({ host }))
      expect(tag(decision), host).toBe("Forbidden")
    }
    const decision = decideAccess(rules, request({ host: "evil.example:3001" }))
    expect(decision._tag === "Forbidden" && decision.reason).toContain("allowed_hosts")
    expect(decision._tag === "Forbidden" && decision.reason).toContain(".huskies/project.toml")
    expect(tag(decideAccess(rules, request({})))).toBe("Forbidden")
    expect(tag(decideAccess(rules, request({ host: "" })))).toBe("Forbidden")
  })

  it("refuses a browser Origin that is not this server, even with a good Host (the rebinding page)", () => {
    for (const origin of [
      "http://evil.example",
      "http://evil.example:3001",
      "null",
      "file:///tmp/x.html",
      "http://localhost:3002",
      "ftp://localhost:3001",
    ])
      expect(tag(decideAccess(rules, request({ host: "localhost:3001", origin }))), origin).toBe("Forbidden")
  })

  it("admits an Origin naming this server", () => {
    for (const origin of ["http://localhost:3001", "http://127.0.0.1:3001", "https://[::1]:3001"])
      expect(tag(decideAccess(rules, request({ host: "127.0.0.1:3001", origin }))), origin).toBe("Allow")
  })

  it("needs no token unless one is configured, and then needs it even here", () => {
    expect(tag(decideAccess(rules, request({ host: "localhost:3001", authorization: "Bearer x" })))).toBe(
      "Allow",
    )
    const withToken = rulesFor("127.0.0.1", 3001, { token })
    expect(tag(decideAccess(withToken, request({ host: "localhost:3001" })))).toBe("Unauthorized")
    expect(
      tag(
        decideAccess(
          withToken,
          request({ host: "localhost:3001", authorization: `Bearer ${Redacted.value(token)}` }),
        ),
      ),
    ).toBe("Allow")
  })
})

describe("decideAccess with allowed_hosts", () => {
  const rules = rulesFor("127.0.0.1", 3001, { allowedHosts: ["huskies.lan", "proxy.example:8443"] })

  it("admits a configured name on any port, and a name:port only on that port", () => {
    expect(tag(decideAccess(rules, request({ host: "huskies.lan:3001" })))).toBe("Allow")
    expect(tag(decideAccess(rules, request({ host: "huskies.lan" })))).toBe("Allow")
    expect(tag(decideAccess(rules, request({ host: "Huskies.LAN.:9000" })))).toBe("Allow")
    expect(tag(decideAccess(rules, request({ host: "proxy.example:8443" })))).toBe("Allow")
    expect(tag(decideAccess(rules, request({ host: "proxy.example:443" })))).toBe("Forbidden")
    expect(
      tag(decideAccess(rules, request({ host: "localhost:3001", origin: "https://proxy.example:8443" }))),
    ).toBe("Allow")
    expect(
      tag(decideAccess(rules, request({ host: "localhost:3001", origin: "https://proxy.example" }))),
    ).toBe("Forbidden")
    expect(tag(decideAccess(rules, request({ host: "other.lan:3001" })))).toBe("Forbidden")
  })

  it("refuses an entry that is not a host or host:port", () => {
    expect(accessRules("127.0.0.1", 3001, { allowedHosts: ["http://x"] })).toBeInstanceOf(AccessMisconfigured)
  })
})

describe("decideAccess on a non-loopback bind", () => {
  it("will not build rules without a token", () => {
    expect(accessRules("0.0.0.0", 3001, {})).toBeInstanceOf(AccessMisconfigured)
    expect(accessRules("192.168.1.5", 3001, {})).toBeInstanceOf(AccessMisconfigured)
    expect(accessRules("localhost", 3001, {})).not.toBeInstanceOf(AccessMisconfigured)
  })

  const rules = rulesFor("0.0.0.0", 3001, { token })
  const good = `Bearer ${Redacted.value(token)}`

  it("needs the bearer token on every request, loopback clients too", () => {
    expect(tag(decideAccess(rules, request({ host: "127.0.0.1:3001" })))).toBe("Unauthorized")
    expect(tag(decideAccess(rules, request({ host: "127.0.0.1:3001", authorization: good })))).toBe("Allow")
    expect(
      tag(
        decideAccess(
          rules,
          request({ host: "127.0.0.1:3001", authorization: `bearer  ${Redacted.value(token)}` }),
        ),
      ),
    ).toBe("Allow")
    for (const authorization of [
      "Bearer wrong",
      `Bearer ${Redacted.value(token)}x`,
      `Basic ${Redacted.value(token)}`,
      Redacted.value(token),
      "Bearer ",
    ])
      expect(
        tag(decideAccess(rules, request({ host: "127.0.0.1:3001", authorization }))),
        authorization,
      ).toBe("Unauthorized")
  })

  it("admits this machine's addresses by IP (no DNS to rebind) but not other names", () => {
    expect(tag(decideAccess(rules, request({ host: "192.168.1.5:3001", authorization: good })))).toBe("Allow")
    expect(tag(decideAccess(rules, request({ host: "localhost:3001", authorization: good })))).toBe("Allow")
    expect(tag(decideAccess(rules, request({ host: "myhost.lan:3001", authorization: good })))).toBe(
      "Forbidden",
    )
    expect(tag(decideAccess(rules, request({ host: "192.168.1.5:80", authorization: good })))).toBe(
      "Forbidden",
    )
  })

  it("checks Host and Origin before the token, so a foreign page learns nothing about it", () => {
    expect(tag(decideAccess(rules, request({ host: "evil.example:3001", authorization: good })))).toBe(
      "Forbidden",
    )
    expect(
      tag(
        decideAccess(
          rules,
          request({ host: "127.0.0.1:3001", origin: "http://evil.example", authorization: good }),
        ),
      ),
    ).toBe("Forbidden")
  })

  it("on a specific address admits that address, not loopback names", () => {
    const specific = rulesFor("192.168.1.5", 3001, { token })
    expect(tag(decideAccess(specific, request({ host: "192.168.1.5:3001", authorization: good })))).toBe(
      "Allow",
    )
    expect(tag(decideAccess(specific, request({ host: "192.168.1.6:3001", authorization: good })))).toBe(
      "Forbidden",
    )
    expect(tag(decideAccess(specific, request({ host: "localhost:3001", authorization: good })))).toBe(
      "Forbidden",
    )
  })
})

describe("decideAccess with the agents' token", () => {
  const rules = rulesFor("0.0.0.0", 3001, { token })
  const agent = `Bearer ${agentToken(Redacted.value(token))}`
  const at = (path: string, authorization: string) =>
    decideAccess(rules, request({ host: "127.0.0.1:3001", authorization, path }))

  it("admits it on /mcp only, marked as an agent; the person's token is not marked", () => {
    expect(at("/mcp", agent)).toEqual(AccessDecision.Allow({ agent: true }))
    expect(at("/mcp", `Bearer ${Redacted.value(token)}`)).toEqual(AccessDecision.Allow({ agent: false }))
    for (const path of ["/", "/health", "/rpc", "/login", "/assets/index-x.js", "/mcp/x"])
      expect(tag(at(path, agent)), path).toBe("Unauthorized")
  })

  it("is not the person's token, and another token's agent token is not this one's", () => {
    expect(agentToken(Redacted.value(token))).not.toBe(Redacted.value(token))
    expect(agentToken("another-token-0123456789")).not.toBe(agentToken(Redacted.value(token)))
    expect(tag(at("/mcp", `Bearer ${agentToken("another-token-0123456789")}`))).toBe("Unauthorized")
  })
})

describe("decideAccess on a route signed by its platform (a chat webhook)", () => {
  const rules = rulesFor("0.0.0.0", 3100, { token, allowedHosts: ["hooks.example.org"] })
  const signed = (facts: Partial<RequestFacts>) =>
    decideAccess(rules, request({ ...facts, signedRoute: true }))

  it("needs no token there: the route checks the platform's signature instead", () => {
    expect(signed({ host: "hooks.example.org" })).toEqual(AccessDecision.Allow({ agent: false }))
    expect(signed({ host: "127.0.0.1:3100" })).toEqual(AccessDecision.Allow({ agent: false }))
    // The same request to any other route still needs the token.
    expect(tag(decideAccess(rules, request({ host: "hooks.example.org" })))).toBe("Unauthorized")
  })

  it("keeps the Host and Origin rules: a rebound name or a page elsewhere is refused", () => {
    expect(tag(signed({ host: "evil.example" }))).toBe("Forbidden")
    expect(tag(signed({ host: undefined }))).toBe("Forbidden")
    expect(tag(signed({ host: "127.0.0.1:3101" }))).toBe("Forbidden")
    expect(tag(signed({ host: "hooks.example.org", origin: "https://evil.example" }))).toBe("Forbidden")
  })
})

describe("parseHostPort", () => {
  it("reads names, addresses and ports, and nothing else", () => {
    expect(parseHostPort("Example.COM:80")).toEqual({ name: "example.com", port: 80 })
    expect(parseHostPort("[::1]:3001")).toEqual({ name: "::1", port: 3001 })
    expect(parseHostPort("[::1]")).toEqual({ name: "::1" })
    expect(parseHostPort("localhost.")).toEqual({ name: "localhost" })
    for (const bad of ["", "a b", "user@host", "host:99999", "host:", "::1", "http://host", "host/x"])
      expect(parseHostPort(bad), bad).toBeUndefined()
  })
})
