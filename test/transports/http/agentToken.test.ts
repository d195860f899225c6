// test/transports/http/agentToken.test.ts — on a server with a token, the agents it starts get their own
// token, not the person's: a real `command` agent reaches /mcp with it, but answer_decision and
// accept_story refuse its calls, and it opens no other route and no login; the person's token still can.
import { describe, expect, it } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect, Redacted } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { agentToken } from "../../../src/transports/http/agentToken.js"
import { Store } from "../../../src/layers/Store.js"
import { commandAgent, story, withPipeline } from "../../support/pipeline.js"
import { eventually } from "../../support/waits.js"
import { send } from "../../support/webFixture.js"

const token = "person-token-for-agent-tests-0123456789"

// The agent tries what an agent holding a person's credential could: answer a decision, accept a QA.
const selfServe = `#!/bin/sh
d=$(dirname "$0")
printf '%s' "$HUSKIES_TOKEN" > "$d/token-seen"
"$d/mcp-call.mjs" list_items '{}' > "$d/list.out" 2>&1; echo "list=$?" >> "$d/results"
"$d/mcp-call.mjs" answer_decision '{"decision_id":"dec-made-up","verdict":"allow"}' > "$d/answer.out" 2>&1
echo "answer=$?" >> "$d/results"
"$d/mcp-call.mjs" accept_story "{\\"story_id\\":\\"$HUSKIES_STORY_ID\\"}" > "$d/accept.out" 2>&1
echo "accept=$?" >> "$d/results"
echo done >> "$d/results"
`

/** One tools/call over /mcp with the given bearer token and extra headers: the text of its answer. */
const callAs = async (
  url: string,
  bearer: string,
  name: string,
  args: Record<string, unknown>,
  extra = {},
) => {
  const client = new Client({ name: "person", version: "1" })
  const headers = { authorization: `Bearer ${bearer}`, ...extra }
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }))
  try {
    const result = await client.callTool({ name, arguments: args })
    return (result.content as Array<{ text: string }>).map((c) => c.text).join("\n")
  } finally {
    await client.close()
  }
}

describe("the agents' token", () => {
  it.live("reaches /mcp, but not the tools for people, any other route or the login", () =>
    withPipeline(
      {
        projectToml: `base_branch = "main"\n`,
        agentsToml: commandAgent("coder-1", "coder", "self-serve.sh"),
        scripts: { "self-serve.sh": selfServe },
        access: { token: Redacted.make(token) },
      },
      ({ scripts, url }) =>
        Effect.gen(function* () {
          yield* (yield* Store).create(story("Try to answer for a person"))
          const results = join(scripts, "results")
          // A file the agent writes publishes no event: polled until its last line is there.
          const lines = yield* eventually(
            "the agent to finish its calls",
            Effect.sync(() => {
              const text = existsSync(results) ? readFileSync(results, "utf8") : ""
              return text.includes("done") ? text.trim().split("\n") : undefined
            }),
          )
          const given = readFileSync(join(scripts, "token-seen"), "utf8")
          expect(given).toBe(agentToken(token))
          expect(given).not.toContain(token)
          expect(lines).toEqual(["list=0", "answer=1", "accept=1", "done"])
          for (const file of ["answer.out", "accept.out"])
            expect(readFileSync(join(scripts, file), "utf8"), file).toContain("is for people, not agents")

          yield* Effect.promise(async () => {
            // The person's token reaches the tool itself (which then finds no such decision)...
            const person = await callAs(url, token, "answer_decision", {
              decision_id: "dec-made-up",
              verdict: "allow",
            })
            expect(person).not.toContain("is for people")
            expect(person).toContain("dec-made-up")
            // ...also when a client sends the guard's header itself: only the guard sets it.
            const spoofed = await callAs(
              url,
              token,
              "answer_decision",
              { decision_id: "dec-made-up", verdict: "allow" },
              { "x-huskies-agent": "1" },
            )
            expect(spoofed).not.toContain("is for people")
            const agent = `Bearer ${agentToken(token)}`
            expect((await send(url, { path: "/health", headers: { authorization: agent } })).status).toBe(401)
            const upgrade = { connection: "Upgrade", upgrade: "websocket", authorization: agent }
            expect((await send(url, { path: "/rpc", headers: upgrade })).status).toBe(401)
            const login = await send(url, {
              method: "POST",
              path: "/login",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ token: agentToken(token) }),
            })
            expect(login.status).toBe(401)
            expect(login.headers["set-cookie"]).toBeUndefined()
          })
        }),
    ),
  )
})
