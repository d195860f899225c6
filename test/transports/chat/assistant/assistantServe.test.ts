// test/transports/chat/assistant/assistantServe.test.ts — the assistant as `serve` runs it, with a token in
// force: a Slack mention (the real SDK against the local fake Slack) reaches a `command`-runtime chat agent
// that calls huskies' MCP tools with the HUSKIES_TOKEN it was given. That token is the agents' own: the
// pipeline's tools answer it, the tools for people refuse it.
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Redacted } from "effect"
import { createRequire } from "node:module"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { LogsLive } from "../../../../src/layers/Logs.js"
import { serverLayer } from "../../../../src/transports/cli/serve.js"
import { agentToken } from "../../../../src/transports/http/agentToken.js"
import { makeGitRepo } from "../../../support/gitRepo.js"
import { APP, BOT, scopedSlackFake } from "../slack/support.js"

const TOKEN = "person-token-0123456789abcdef"

const require = createRequire(import.meta.url)
const sdk = (path: string) => require.resolve(`@modelcontextprotocol/sdk/${path}`)

/** A chat agent that calls one pipeline tool and one tool for people, and answers with what each said. */
const agentScript = `
import { Client } from ${JSON.stringify(sdk("client/index.js"))}
import { StreamableHTTPClientTransport } from ${JSON.stringify(sdk("client/streamableHttp.js"))}
const env = process.env
const transport = new StreamableHTTPClientTransport(new URL(env.HUSKIES_MCP_URL), {
  requestInit: { headers: { Authorization: "Bearer " + env.HUSKIES_TOKEN } },
})
const client = new Client({ name: "chat-agent", version: "0.0.0" })
await client.connect(transport)
const verdict = async (name, args) => {
  const result = await client.callTool({ name, arguments: args })
  return (result.isError ? "refused: " : "ok: ") + (result.content?.[0]?.text ?? "").slice(0, 300)
}
const status = await verdict("get_pipeline_status", {})
const accept = await verdict("accept_story", { story_id: "1_story_x" })
await client.close()
console.log(JSON.stringify({ type: "Result", isError: false, subtype: "success", numTurns: 1,
  usage: { inputTokens: 1, outputTokens: 1, cacheRead: 0, cacheCreation: 0 }, permissionDenials: [],
  text: "token=" + env.HUSKIES_TOKEN + "\\nstatus " + status + "\\naccept " + accept }))
`

/** Sets variables for the test's scope and puts back what was there. */
const withEnv = (vars: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
      Object.assign(process.env, vars)
      return before
    }),
    (before) =>
      Effect.sync(() => {
        for (const [k, v] of Object.entries(before)) {
          if (v === undefined) delete process.env[k]
          else process.env[k] = v
        }
      }),
  )

describe("the assistant under serve", () => {
  it.live(
    "the chat agent reaches /mcp with the agents' token: pipeline tools answer, people's tools refuse",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const fake = yield* scopedSlackFake
          yield* withEnv({
            HUSKIES_SLACK_BOT_TOKEN: BOT,
            HUSKIES_SLACK_APP_TOKEN: APP,
            HUSKIES_SLACK_API_URL: fake.apiUrl,
          })
          const repo = yield* makeGitRepo({ initialCommit: true })
          const root = repo.dir
          mkdirSync(join(root, ".huskies"), { recursive: true })
          writeFileSync(join(root, "chat-agent.mjs"), agentScript)
          writeFileSync(join(root, ".huskies", "project.toml"), 'base_branch = "main"\n')
          writeFileSync(
            join(root, ".huskies", "agents.toml"),
            `[[agent]]\nname = "coder-1"\nstage = "coder"\n\n[[agent]]\nname = "helper"\nstage = "chat"\nruntime = "command"\ncommand = [${JSON.stringify(process.execPath)}, "chat-agent.mjs"]\n`,
          )
          writeFileSync(
            join(root, ".huskies", "bot.toml"),
            '[slack]\nenabled = true\nassistant = "mention"\n[slack.users]\nops = ["UALICE"]\n[[slack.room]]\nid = "C0OPS"\nrole = "ops"\n',
          )
          const layer = serverLayer(root, {
            port: 0,
            host: "127.0.0.1",
            durability: "normal",
            autoAssign: false,
            mergeQueue: false,
            access: { token: Redacted.make(TOKEN) },
          }).pipe(Layer.provideMerge(LogsLive({ write: () => undefined })))
          yield* Layer.build(layer)
          yield* Effect.promise(() => fake.until(() => fake.hellos > 0)).pipe(Effect.timeout("20 seconds"))

          fake.sendEvent({
            type: "app_mention",
            channel: "C0OPS",
            user: "UALICE",
            text: `<@${fake.botUserId}> how is the pipeline?`,
            ts: "1700000000.000010",
          })
          yield* Effect.promise(() => fake.until(() => fake.posted.length >= 1)).pipe(
            Effect.timeout(Duration.seconds(30)),
          )
          const answer = fake.posted[0]!.text
          expect(answer).toContain(`token=${agentToken(TOKEN)}`)
          expect(answer).not.toContain(TOKEN)
          expect(answer).toMatch(/^status ok: /m)
          expect(answer).toMatch(/^accept refused: accept_story is for people, not agents/m)
        }),
      ),
  )
})
