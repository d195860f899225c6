// test/actors/agentEnv.test.ts — what a `command` agent finds in its environment on a real server: the
// server's variables, huskies' own, and its agents.toml env table on top, `${NAME}` filled from the server's.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Store } from "../../src/layers/Store.js"
import { story, withPipeline } from "../support/pipeline.js"
import { eventually } from "../support/waits.js"

// Set in this test process, which is the server's: an env value names it, as it would an API key.
const serverVariable = "AGENT_ENV_TEST_API_KEY"

const agentsToml = `[[agent]]
name = "coder-1"
stage = "coder"
runtime = "command"
command = ["{{scripts}}/print-env.sh"]
[agent.env]
GREETING = "from agents.toml"
API_KEY = "\${${serverVariable}}"
PRICE = "$5 and $\${literal}"
`

const printEnv = `#!/bin/sh
printf '%s\\n' "GREETING=$GREETING" "API_KEY=$API_KEY" "PRICE=$PRICE" "SERVE_ONLY=$SERVE_ONLY" \\
  "HUSKIES_STORY_ID=$HUSKIES_STORY_ID" > "$(dirname "$0")/env-seen"
`

describe("an agent's environment", () => {
  it.live("is the server's, then huskies' variables, then the agent's env table", () =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        process.env[serverVariable] = "sk-from-the-server"
      }),
      () =>
        withPipeline(
          {
            projectToml: `base_branch = "main"\n`,
            agentsToml,
            scripts: { "print-env.sh": printEnv },
            // What serve itself was started with: the table overrides GREETING, SERVE_ONLY passes through.
            agentEnv: { GREETING: "from the server", SERVE_ONLY: "kept" },
          },
          ({ scripts }) =>
            Effect.gen(function* () {
              const item = yield* (yield* Store).create(story("Print the environment"))
              const seen = join(scripts, "env-seen")
              // A file the agent writes publishes no event: polled until its last line is there.
              const text = yield* eventually(
                "the agent to write the environment it saw",
                Effect.sync(() => {
                  const now = existsSync(seen) ? readFileSync(seen, "utf8") : ""
                  return now.includes("HUSKIES_STORY_ID") ? now : undefined
                }),
              )
              expect(text.split("\n")).toEqual([
                "GREETING=from agents.toml",
                "API_KEY=sk-from-the-server",
                "PRICE=$5 and ${literal}",
                "SERVE_ONLY=kept",
                `HUSKIES_STORY_ID=${item.id}`,
                "",
              ])
            }),
        ),
      () =>
        Effect.sync(() => {
          delete process.env[serverVariable]
        }),
    ),
  )
})
