// test/transports/commands/agentCommands.test.ts — start, stop and queue on a real server with a `command`
// agent and the merge queue running: the agent really starts and is really stopped, and the queue's reply
// names what waits. Auto mode is off, so only the commands start anything.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { StoryId } from "../../../src/domain/StoryId.js"
import { Store } from "../../../src/layers/Store.js"
import { executeCommand } from "../../../src/transports/commands/runCommand.js"
import { awaitItem, commandAgent, story, withPipeline } from "../../support/pipeline.js"
import { ok } from "../../support/tools.js"
import { eventually, holds } from "../../support/waits.js"
import { itemWithWork } from "../tools/gitProject.js"

const say = (line: string) => executeCommand(line, "ui:tester")

/** Says hello, then waits to be stopped. */
const waitingCoder = `#!/bin/sh
echo "hello from $HUSKIES_AGENT"
while true; do sleep 0.1; done
`

const setup = {
  projectToml: `base_branch = "main"\n`,
  agentsToml: commandAgent("coder-1", "coder", "coder.sh") + commandAgent("coder-2", "coder", "coder.sh"),
  scripts: { "coder.sh": waitingCoder },
  autoAssign: false,
  mergeQueue: true,
}

/** get_agent_output once the item's agent runs (its output lives in the agent, not the Store). */
const awaitRunning = (id: string) =>
  eventually(
    `the agent of ${id} to run`,
    Effect.map(ok("get_agent_output", { story_id: id }), (output) => holds(output["running"] === true)),
    { millis: 10_000 },
  )

describe("agent commands", () => {
  it.live("start runs the named agent, a second start says it already runs, stop ends it", () =>
    withPipeline(setup, () =>
      Effect.gen(function* () {
        const item = yield* Effect.flatMap(Store, (s) => s.create(story("Add login")))
        expect(yield* say("start 1 coder-3")).toEqual({
          _tag: "Refused",
          text: 'agent_name: no agent is called "coder-3"; agents.toml defines coder-1, coder-2',
        })
        expect(yield* say("start 1 coder-2")).toEqual({
          _tag: "Done",
          text: "Started 1 (Coding): coder-2 takes it as soon as one is free.",
        })
        yield* awaitRunning(item.id)
        const status = yield* say("status 1")
        expect(status.text).toMatch(/- on .+: coder-2 \(coder\) running since /)
        expect(yield* say("start 1")).toEqual({ _tag: "Done", text: "1 is already being worked on." })
        const stopped = yield* say("stop 1")
        expect(stopped.text).toMatch(/^Stopped the work on 1 \(coder-2: stopped\); start 1 resumes it\.$/)
        yield* awaitItem(item.id, (i) => Object.values(i.execution).every((e) => e._tag !== "Running"))
        expect(yield* say("stop 1")).toEqual({
          _tag: "Done",
          text: "Nothing was running on 1; it will not start by itself until start 1.",
        })
        expect((yield* Effect.flatMap(Store, (s) => s.get(StoryId.make(item.id)))).stage).toEqual({
          _tag: "Coding",
        })
      }),
    ),
  )

  it.live("queue says when nothing waits, and what the running merge is doing", () =>
    withPipeline(
      { ...setup, projectToml: `base_branch = "main"\n[commands]\ntest = "sleep 1"\n` },
      ({ repo }) =>
        Effect.gen(function* () {
          expect(yield* say("queue")).toEqual({ _tag: "Done", text: "The merge queue is empty." })
          const id = yield* itemWithWork(repo, "Add login", "login.txt", "none")
          const merging = yield* Effect.fork(ok("merge_agent_work", { story_id: id }))
          const queue = yield* eventually(
            "the queue to show the running merge",
            Effect.map(say("queue"), (reply) =>
              reply.text.includes("merging 1 now") ? reply.text : undefined,
            ),
          )
          expect(queue).toMatch(
            /^\*\*Merge queue\*\* \(1\)\n- merging 1 now: .+\n- 1_story_add_login: running, next$/,
          )
          yield* merging.await
        }),
    ),
  )
})
