// test/actors/PipelineHistory.test.ts — the command layer records who asked: a move, a block and an
// unblock through Pipeline (and move_story through the tool registry, as MCP calls it) leave history
// entries with the reason and `by`, read back through the read-only PipelineView and the status tool; a
// real coder and QA agent's run is recorded as theirs and the server's.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Pipeline } from "../../src/actors/Pipeline.js"
import { PipelineView } from "../../src/actors/PipelineView.js"
import { Agents } from "../../src/actors/Scheduler.js"
import { StoryId } from "../../src/domain/StoryId.js"
import { Store } from "../../src/layers/Store.js"
import { toolRegistry } from "../../src/transports/tools/registry.js"
import { awaitItem, commandAgent, gitIdentity, withPipeline } from "../support/pipeline.js"
import { withTools } from "../support/tools.js"

const story = (name: string) => ({ kind: "story" as const, name, content: `---\nname: ${name}\n---\n` })

describe("Pipeline history", () => {
  it.live("a person's moves are recorded with their reason and who asked", () =>
    withTools(() =>
      Effect.gen(function* () {
        const pipeline = yield* Pipeline
        const view = yield* PipelineView
        const item = yield* (yield* Store).create(story("Add login"))
        yield* pipeline.move(item.id, "archived", "not needed this quarter", "mcp:x")
        yield* pipeline.unblock(item.id, "ui:ann")
        yield* pipeline.block(item.id, "waits for the API key", "mcp:x")
        // Who asked is optional: a caller that does not say leaves it out.
        yield* pipeline.unblock(item.id)
        const history = yield* view.history(item.id)
        expect(history.map(({ at: _, ...rest }) => rest)).toEqual([
          { event: "Created", to: "Backlog" },
          {
            event: "Abandon",
            from: "Backlog",
            to: "Archived",
            reason: "not needed this quarter",
            by: "mcp:x",
          },
          { event: "Unblock", from: "Archived", to: "Backlog", by: "ui:ann" },
          { event: "Block", from: "Backlog", to: "Archived", reason: "waits for the API key", by: "mcp:x" },
          { event: "Unblock", from: "Archived", to: "Backlog" },
        ])
      }),
    ),
  )

  it.live("create_story and move_story over MCP record the client as who asked", () =>
    withTools(() =>
      Effect.gen(function* () {
        const filed = yield* toolRegistry.call(
          "create_story",
          { name: "Retire the old API" },
          { progress: () => Effect.void, caller: "mcp:x" },
        )
        const item = {
          id: StoryId.make(filed._tag === "Ok" ? String((filed.value as { story_id: string }).story_id) : ""),
        }
        const outcome = yield* toolRegistry.call(
          "move_story",
          { story_id: item.id, to: "archived", reason: "superseded by 9_story_new_api" },
          { progress: () => Effect.void, caller: "mcp:x" },
        )
        expect(outcome._tag).toBe("Ok")
        const history = yield* (yield* PipelineView).history(item.id)
        const last = {
          event: "Supersede",
          from: "Backlog",
          to: "Archived",
          reason: "9_story_new_api",
          by: "mcp:x",
        }
        expect(history.at(-1)).toMatchObject(last)
        // The status tool shows the same history, times as ISO 8601.
        const status = yield* toolRegistry.call(
          "status",
          { story_id: item.id },
          { progress: () => Effect.void },
        )
        expect(status._tag).toBe("Ok")
        const shown =
          status._tag === "Ok" ? (status.value as { history: ReadonlyArray<unknown> }).history : []
        expect(shown.map((e) => (e as { event: string }).event)).toEqual(["Created", "Supersede"])
        expect(shown[0]).toMatchObject({ event: "Created", by: "mcp:x" })
        expect(shown.at(-1)).toEqual({ ...last, at: new Date(history.at(-1)!.at).toISOString() })
      }),
    ),
  )

  it.live("a refused move leaves no entry", () =>
    withTools(() =>
      Effect.gen(function* () {
        const pipeline = yield* Pipeline
        const item = yield* (yield* Store).create(story("Stay put"))
        const refused = yield* Effect.flip(pipeline.move(item.id, "done", "ship it", "mcp:x"))
        expect(refused._tag).toBe("CommandRefused")
        const history = yield* (yield* PipelineView).history(item.id)
        expect(history.map((e) => e.event)).toEqual(["Created"])
      }),
    ),
  )

  it.live(
    "an agent's run is recorded: the server starts it, the agents start and exit, QA approves over MCP",
    () =>
      withPipeline(
        {
          projectToml: `base_branch = "main"\n[commands]\ntest = "true"\n`,
          agentsToml: commandAgent("coder-1", "coder", "coder.sh") + commandAgent("qa-1", "qa", "qa.sh"),
          scripts: {
            "coder.sh": `#!/bin/sh\nset -e\n${gitIdentity}\necho done > feature.txt\ngit add feature.txt\ngit commit -q -m work\n`,
            "qa.sh": `#!/bin/sh\nset -e\n"$(dirname "$0")/mcp-call.mjs" approve_qa "{\\"story_id\\":\\"$HUSKIES_STORY_ID\\",\\"notes\\":\\"looks right\\"}"\n`,
          },
        },
        () =>
          Effect.gen(function* () {
            const item = yield* (yield* Store).create(story("Add the feature"))
            yield* awaitItem(item.id, (i) => i.stage._tag === "Merge")
            // The QA agent exits after its verdict: its exit is the last entry.
            yield* (yield* Agents).awaitRun(item.id)
            const history = yield* (yield* PipelineView).history(item.id)
            expect(
              history.map(({ event, from, to, reason, by }) => ({ event, from, to, reason, by })),
            ).toEqual([
              { event: "Created", from: undefined, to: "Backlog", reason: undefined, by: undefined },
              { event: "Start", from: "Backlog", to: "Coding", reason: "auto-assign", by: "server" },
              {
                event: "AgentStarted",
                from: "Coding",
                to: "Coding",
                reason: "coder coder-1",
                by: "agent:coder-1",
              },
              {
                event: "AgentExited",
                from: "Coding",
                to: "Coding",
                reason: "succeeded",
                by: "agent:coder-1",
              },
              { event: "GatesPassed", from: "Coding", to: "Qa", reason: undefined, by: "server" },
              { event: "AgentStarted", from: "Qa", to: "Qa", reason: "qa qa-1", by: "agent:qa-1" },
              { event: "QaApproved", from: "Qa", to: "Merge", reason: "looks right", by: "mcp:test-agent" },
              { event: "AgentExited", from: "Merge", to: "Merge", reason: "succeeded", by: "agent:qa-1" },
            ])
          }),
      ),
  )
})
