// test/transports/tools/agentTools.test.ts — the agent, QA and timer tools on a real server and a real
// repository with `command` agents, auto mode off so each test decides what starts.
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Option } from "effect"
import { join } from "node:path"
import { defaultGraceMillis } from "../../../src/actors/agentContract.js"
import { isRunning, processTree } from "../../../src/layers/Pty.js"
import { Store } from "../../../src/layers/Store.js"
import { awaitItem, commandAgent, gatedCoder, openGate, story, withPipeline } from "../../support/pipeline.js"
import { err, ok } from "../../support/tools.js"
import { eventually, holds } from "../../support/waits.js"

const projectToml = `base_branch = "main"
[commands]
test = "test -f feature.txt"
`

const agentsToml = [
  commandAgent("coder-1", "coder", "coder.sh"),
  commandAgent("qa-1", "qa", "coder.sh"),
].join("\n")

const setup = { projectToml, agentsToml, scripts: { "coder.sh": gatedCoder }, autoAssign: false }

/** Ignores SIGTERM and the hang-up, and never ends by itself: only SIGKILL stops it. */
const deafAgent = `#!/bin/sh
trap '' TERM HUP
echo deaf
while true; do sleep 1; done
`

/** A test's own clean-up: SIGKILLs `leader` and everything it started. */
const killTree = (leader: number) => {
  for (const pid of processTree(leader)) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // Already gone.
    }
  }
}

/** Waits until the item's agent shows up as running (its actor has its handle). */
const awaitRun = (id: string) =>
  eventually(
    `the agent of ${id} to run`,
    Effect.map(ok("get_agent_output", { story_id: id }), (output) => holds(output["running"] === true)),
    { millis: 10_000 },
  )

/** get_agent_output once the agent's output holds `line` (output lives in the agent, not the Store). */
const awaitLine = (id: string, line: string) =>
  eventually(
    `"${line}" in the output of ${id}`,
    Effect.map(ok("get_agent_output", { story_id: id }), (output) =>
      (output["lines"] as Array<string>).includes(line) ? output : undefined,
    ),
  )

describe("agent tools", () => {
  it.live(
    "start_agent, list_agents, get_agent_output, wait_for_agent: a run seen from start to end",
    () =>
      withPipeline(setup, ({ root }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("Watch me", "qa: human\n"))
          const started = yield* ok("start_agent", { story_id: item.id })
          expect(started).toMatchObject({ already_running: false, stage: { _tag: "Coding" } })
          yield* awaitItem(item.id, (i) => Object.values(i.execution).some((e) => e._tag === "Running"))
          // Output arrives asynchronously: wait for the line rather than for a fixed time.
          yield* awaitLine(item.id, "hello from coder-1")
          const listed = yield* ok("list_agents", {})
          expect(listed["agents"]).toEqual([
            { name: "coder-1", stage: "coder", runtime: "command", model: null, busy_with: item.id },
            { name: "qa-1", stage: "qa", runtime: "command", model: null, busy_with: null },
          ])
          const running = (listed["running"] as Array<Record<string, unknown>>)[0]
          expect(running).toMatchObject({
            story_id: item.id,
            agent: "coder-1",
            role: "coder",
            state: "running",
          })
          expect(isRunning(running?.["pid"] as number)).toBe(true)
          expect(yield* ok("start_agent", { story_id: item.id })).toMatchObject({ already_running: true })

          yield* openGate(root)
          const waited = yield* ok("wait_for_agent", { story_id: item.id })
          expect(waited).toMatchObject({
            still_running: false,
            result: { agent: "coder-1", outcome: "succeeded", exit_code: 0 },
          })
          // Gates pass and the item waits in QA for a person (qa: human): no QA agent starts.
          yield* awaitItem(item.id, (i) => i.stage._tag === "Qa")
          expect((yield* ok("list_agents", {}))["running"]).toEqual([])
          const verdict = yield* ok("approve_qa", { story_id: item.id, notes: "checked by hand" })
          expect(verdict).toMatchObject({ stage: { _tag: "Merge", commitsAhead: 1 } })
          // Deleted, its last run goes with it: nothing is left to wait for.
          yield* ok("delete_story", { story_id: item.id })
          expect(yield* ok("wait_for_agent", { story_id: item.id })).toEqual({
            story_id: item.id,
            still_running: false,
            result: null,
          })
        }),
      ),
    60_000,
  )

  it.live(
    "stop_agent kills the run and nothing restarts it; start_agent picks it up again",
    () =>
      withPipeline({ ...setup, autoAssign: true }, ({ root }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("Stop me", "qa: none\n"))
          yield* awaitRun(item.id)
          const pid = ((yield* ok("list_agents", {}))["running"] as Array<{ pid: number }>)[0]?.pid ?? 0
          const stopped = yield* ok("stop_agent", { story_id: item.id })
          expect(stopped).toMatchObject({ was_running: true, result: { outcome: "stopped" } })
          expect(isRunning(pid)).toBe(false)
          expect((yield* ok("list_agents", {}))["items"]).toEqual([])
          expect((yield* store.get(item.id)).stage._tag).toBe("Coding")
          yield* openGate(root)
          yield* ok("start_agent", { story_id: item.id })
          yield* awaitItem(item.id, (i) => i.stage._tag === "Merge")
        }),
      ),
    60_000,
  )

  // Issue 10, item 7: an agent deaf to SIGTERM hung stop_agent for ever (the grace wait could not time out).
  it.live(
    "stop_agent ends an agent that ignores SIGTERM within the grace period plus a second",
    () =>
      withPipeline(
        {
          ...setup,
          agentsToml: commandAgent("coder-1", "coder", "deaf.sh"),
          scripts: { "deaf.sh": deafAgent },
        },
        () =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("Deaf", "qa: none\n"))
            yield* ok("start_agent", { story_id: item.id })
            yield* awaitRun(item.id)
            const pid = ((yield* ok("list_agents", {}))["running"] as Array<{ pid: number }>)[0]?.pid ?? 0
            // Before the server shuts down (its own stop would hang on main), whatever the test saw.
            yield* Effect.addFinalizer(() => Effect.sync(() => killTree(pid)))
            yield* awaitLine(item.id, "deaf")
            const tree = processTree(pid)
            const startedAt = yield* Clock.currentTimeMillis
            const stopped = yield* ok("stop_agent", { story_id: item.id }).pipe(
              Effect.timeoutOption("10 seconds"),
            )
            const tookMillis = (yield* Clock.currentTimeMillis) - startedAt
            expect(Option.getOrUndefined(stopped)).toMatchObject({
              was_running: true,
              result: { outcome: "stopped" },
            })
            expect(tookMillis).toBeLessThan(defaultGraceMillis + 1_000)
            expect(tree.filter(isRunning)).toEqual([])
          }),
      ),
    60_000,
  )

  it.live(
    "bad requests are refused with what to do",
    () =>
      withPipeline(setup, () =>
        Effect.gen(function* () {
          const store = yield* Store
          const first = yield* store.create(story("First"))
          const second = yield* store.create(story("Second", `depends_on: [${first.id}]\n`))
          expect(yield* err("start_agent", { story_id: second.id })).toContain(`waiting on ${first.id}`)
          expect(yield* err("start_agent", { story_id: first.id, agent_name: "coder-9" })).toBe(
            'agent_name: no agent is called "coder-9"; agents.toml defines coder-1, qa-1',
          )
          expect(yield* err("approve_qa", { story_id: first.id })).toContain(
            "QA verdicts apply only to items in QA",
          )
          expect(yield* err("request_qa", { story_id: first.id })).toContain(
            "is requested for items in Coding",
          )
          expect(yield* ok("wait_for_agent", { story_id: first.id })).toEqual({
            story_id: first.id,
            still_running: false,
            result: null,
          })
          expect(yield* ok("get_agent_output", { story_id: first.id })).toMatchObject({
            running: false,
            lines: [],
          })
        }),
      ),
    60_000,
  )

  it.live(
    "reject_qa sends the notes to the next coder; request_qa runs the gates and moves to QA",
    () =>
      withPipeline(setup, ({ root, repo }) =>
        Effect.gen(function* () {
          const store = yield* Store
          const item = yield* store.create(story("Review me", "qa: human\n"))
          yield* openGate(root)
          yield* ok("start_agent", { story_id: item.id })
          yield* awaitItem(item.id, (i) => i.stage._tag === "Qa")
          const rejected = yield* ok("reject_qa", { story_id: item.id, notes: "the README is not updated" })
          expect(rejected).toMatchObject({ stage: { _tag: "Coding" } })
          expect((yield* store.get(item.id)).feedback).toBe("the README is not updated")
          // A person fixes it in the worktree and asks for QA: the gates run, the item moves on.
          const worktree = join(root, ".huskies", "worktrees", item.id)
          yield* repo.write(`.huskies/worktrees/${item.id}/README.md`, "updated\n")
          yield* repo.git("-C", worktree, "add", "README.md")
          yield* repo.git("-C", worktree, "commit", "-q", "-m", "readme")
          const requested = yield* ok("request_qa", { story_id: item.id })
          expect(requested).toMatchObject({ moved: true, stage: { _tag: "Qa" }, tests: { passed: true } })
        }),
      ),
    60_000,
  )
})

describe("timer tools", () => {
  it.live(
    "schedule_start starts an item when its time comes, and cancel_timer takes it back",
    () =>
      withPipeline(setup, () =>
        Effect.gen(function* () {
          const store = yield* Store
          const later = yield* store.create(story("Later"))
          const never = yield* store.create(story("Never"))
          // `never` is due first: had its timer survived the cancel, it would fire before `later`'s does
          // (timers fire soonest first), so once `later` has started there is nothing left to wait for.
          yield* ok("schedule_start", { story_id: never.id, at: new Date(Date.now() + 1000).toISOString() })
          const timer = yield* ok("schedule_start", { story_id: later.id, in_seconds: 1 })
          expect(timer).toMatchObject({ timer_id: `${later.id}:start`, kind: "start", stage: "Backlog" })
          expect(((yield* ok("list_timers", {}))["timers"] as Array<unknown>).length).toBe(2)
          expect(yield* ok("cancel_timer", { story_id: never.id })).toEqual({
            cancelled: [`${never.id}:start`],
          })
          expect(yield* err("schedule_start", { story_id: never.id, at: "tomorrow" })).toContain(
            "is not a time",
          )
          yield* awaitItem(later.id, (i) => i.stage._tag === "Coding", 10_000)
          expect((yield* ok("list_timers", {}))["timers"]).toEqual([])
          expect((yield* store.get(never.id)).stage._tag).toBe("Backlog")
        }),
      ),
    60_000,
  )
})
