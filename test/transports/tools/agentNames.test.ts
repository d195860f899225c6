// test/transports/tools/agentNames.test.ts — agent names and item ids that would be unsafe in a file name
// or an argv are refused where they enter over MCP, with a message naming the parameter and the rule.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { err, ok, withTools } from "../../support/tools.js"

const rule = 'expected an agent name of 1 to 64 letters, digits, ".", "_" or "-"'
const badNames = ["../../../bin/sh", "coder\u0000evil", "", "coder/1", ".."]

describe("agent names and item ids over MCP", () => {
  it.effect("every agent-name parameter refuses unsafe names, naming the parameter", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Named" }))["story_id"])
        for (const name of badNames) {
          const shown = JSON.stringify(name)
          for (const [tool, args, parameter] of [
            ["start_agent", { story_id: id, agent_name: name }, "agent_name"],
            ["create_story", { name: "Pinned", agent: name }, "agent"],
            ["get_agent_log", { story_id: id, agent: name }, "agent"],
            ["get_token_usage", { agent: name }, "agent"],
          ] as const) {
            const message = yield* err(tool, args)
            expect(message).toContain(`parameter "${parameter}": ${rule}`)
            expect(message).toContain(`got ${shown}`)
          }
          // The item's `agent` front matter is the same name, set by update_story.
          expect(yield* err("update_story", { story_id: id, front_matter: { agent: name } })).toContain(
            "front matter key agent: expected an agent name of 1 to 64 letters",
          )
        }
        // A good name still goes through.
        expect(yield* ok("update_story", { story_id: id, front_matter: { agent: "coder-1" } })).toBeDefined()
      }),
    ),
  )

  it.effect("story ids with a NUL, a slash or .. are refused, naming story_id", () =>
    withTools(() =>
      Effect.gen(function* () {
        for (const bad of ["1_story_a\u0000b", "1_story_a/../b", "../1_story_a", "1_story_.."]) {
          const message = yield* err("get_agent_log", { story_id: bad })
          expect(message).toContain(`story_id ${JSON.stringify(bad)} is not a work item id`)
          expect(yield* err("get_token_usage", { story_id: bad })).toContain(
            'parameter "story_id": a work item id looks like',
          )
        }
      }),
    ),
  )
})
