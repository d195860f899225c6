// test/nodes/workerDecisions.test.ts — a permission request made on a worker whose process then dies
// (kill -9, its asker gone with it) stays pending on the main node; started again, the worker denies it
// ("restart") and the main node sees the answer.
import { describe, expect, it } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect, Schema } from "effect"
import { mcpClient } from "../support/mcpClient.js"
import { eventually } from "../support/waits.js"
import { makeCluster } from "./cluster.js"

const askRules = '[permissions]\nask = ["Bash(npm publish*)"]\nask_timeout_secs = 600\n'

const Listed = Schema.Struct({
  pending: Schema.Array(
    Schema.Struct({ decision_id: Schema.String, tool_name: Schema.optional(Schema.String) }),
  ),
  recent: Schema.Array(
    Schema.Struct({
      decision_id: Schema.String,
      answer: Schema.optional(Schema.Struct({ verdict: Schema.String, by: Schema.String })),
    }),
  ),
})

/** Asks `prompt_permission` on the node at `url` as an agent CLI would, without waiting for the answer. */
const askOn = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new Client({ name: "agent", version: "1" })
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)))
      // It blocks until answered; the node dies first, and how the call then ends does not matter here.
      client
        .callTool({
          name: "prompt_permission",
          arguments: { tool_name: "Bash", input: { command: "npm publish" } },
        })
        .catch(() => undefined)
      return client
    }),
    (client) => Effect.promise(() => client.close().catch(() => undefined)),
  )

describe("a worker's permission requests across its restart", () => {
  it.scopedLive(
    "stay pending while the worker is down and are denied by its next start",
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster({ autoAssign: () => false, projectExtra: askRules })
        const w1 = yield* cluster.startWorker("w1")
        const main = yield* mcpClient(cluster.url)
        const list = main(Listed, "list_decisions")
        yield* askOn(w1.process.url)
        const request = yield* eventually(
          "the worker's request on the main node",
          Effect.map(list, (l) => l.pending.find((d) => d.tool_name === "Bash")?.decision_id),
          { millis: 15_000, every: "100 millis" },
        )

        yield* Effect.promise(() => w1.process.kill("SIGKILL"))
        // Nobody settles it while the worker is down: its agent might still be waiting, for all the main node knows.
        expect((yield* list).pending.map((d) => d.decision_id)).toContain(request)

        yield* cluster.startWorker("w1")
        const answer = yield* eventually(
          "the request denied by the worker's start",
          Effect.map(list, (l) => l.recent.find((d) => d.decision_id === request)?.answer),
          { millis: 15_000, every: "100 millis" },
        )
        expect(answer).toEqual({ verdict: "deny", by: "restart" })
      }),
    60_000,
  )
})
