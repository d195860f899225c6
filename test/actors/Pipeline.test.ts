// test/actors/Pipeline.test.ts — the Scheduler and StoryActor on a real server and a real repository, with
// `command` agents as scripts: coder -> gates -> QA -> merge handoff, retries with the failure text, no
// commits, rate-limit retries on a timer, stop and start, and dependencies.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Agents } from "../../src/actors/Scheduler.js"
import { readSessionLog, listSessionLogs } from "../../src/layers/SessionLog.js"
import { Store } from "../../src/layers/Store.js"
import { awaitItem, gitIdentity, story, withPipeline } from "../support/pipeline.js"
import { awaitStore } from "../support/waits.js"

const projectToml = (extra = "") => `base_branch = "main"
retry_limit = 2
${extra}
[commands]
test = "grep -q good feature.txt || { echo GATE-SAYS-NO: feature.txt is not good; exit 1; }"
`

const agentsToml = `
[[agent]]
name = "coder-1"
stage = "coder"
runtime = "command"
command = ["{{scripts}}/coder.sh"]
inactivity_timeout_secs = 20

[[agent]]
name = "qa-1"
stage = "qa"
runtime = "command"
command = ["{{scripts}}/qa.sh"]
inactivity_timeout_secs = 20
`

/** A coder that commits `feature.txt` with $CONTENT (or "good"), printing its prompt and usage first. */
const coder = (body = 'printf "%s\\n" "${CONTENT:-good}" > feature.txt') => `#!/bin/sh
set -e
${gitIdentity}
echo "PROMPT<<$HUSKIES_PROMPT>>"
echo "RESUME<<$HUSKIES_RESUME_SESSION_ID>>"
${body}
git add feature.txt
git commit -q -m "work on $HUSKIES_STORY_ID"
echo '{"type":"Usage","inputTokens":100,"outputTokens":20,"cacheRead":0,"cacheCreation":0}'
`

const approvingQa = `#!/bin/sh
set -e
"$(dirname "$0")/mcp-call.mjs" approve_qa "{\\"story_id\\":\\"$HUSKIES_STORY_ID\\",\\"notes\\":\\"looks right\\"}"
`

const sessionText = (root: string, id: string, agent: string) =>
  listSessionLogs(root, id)
    .filter((f) => f.agent === agent)
    .map((f) => JSON.stringify(readSessionLog(f.path)))

describe("pipeline with command agents", () => {
  it.live(
    "a story goes from creation through coder, gates and QA to the merge handoff by itself",
    () =>
      withPipeline(
        { projectToml: projectToml(), agentsToml, scripts: { "coder.sh": coder(), "qa.sh": approvingQa } },
        ({ root, repo }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("Add the feature"))
            const merged = yield* awaitItem(item.id, (i) => i.stage._tag === "Merge")
            // The QA agent exits after its verdict: wait for that run to end.
            const qaRun = yield* (yield* Agents).awaitRun(item.id)
            expect(Option.getOrThrow(qaRun)).toMatchObject({ agent: "qa-1", outcome: "succeeded" })
            expect(merged.stage).toEqual({
              _tag: "Merge",
              featureBranch: `feature/story-${item.id}`,
              commitsAhead: 1,
            })
            expect(existsSync(join(root, ".huskies", "worktrees", item.id, "feature.txt"))).toBe(true)
            expect(yield* repo.git("log", "--format=%s", `feature/story-${item.id}`, "-1")).toBe(
              `work on ${item.id}`,
            )
            // One coder session and one QA session, each with its log; the QA verdict came over MCP.
            expect(listSessionLogs(root, item.id).map((f) => `${f.agent}-${f.session}`)).toEqual([
              "coder-1-1",
              "qa-1-1",
            ])
            expect(sessionText(root, item.id, "qa-1")[0]).toContain("the merge queue merges it")
            const ledger = readFileSync(join(root, ".huskies", "logs", "usage.jsonl"), "utf8")
              .trim()
              .split("\n")
            expect(ledger.map((l) => JSON.parse(l).agent)).toEqual(["coder-1", "qa-1"])
            expect(JSON.parse(ledger[0] ?? "{}").inputTokens).toBe(100)
          }),
      ),
    60_000,
  )

  it.live(
    "failing gates send the item back to a coder with the failure text in its prompt",
    () =>
      withPipeline(
        {
          projectToml: projectToml(),
          agentsToml,
          scripts: {
            // Good work only once the prompt carries the gate's complaint.
            "coder.sh": coder(
              'case "$HUSKIES_PROMPT" in *GATE-SAYS-NO*) echo good > feature.txt;; *) echo bad > feature.txt;; esac',
            ),
            "qa.sh": approvingQa,
          },
        },
        ({ root }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("Retry me", "qa: none\n"))
            const merged = yield* awaitItem(item.id, (i) => i.stage._tag === "Merge")
            expect(merged.attempts).toBe(1)
            const [first, second] = sessionText(root, item.id, "coder-1")
            expect(first).not.toContain("GATE-SAYS-NO")
            expect(second).toContain("GATE-SAYS-NO: feature.txt is not good")
            // QA was set to none: nobody reviewed it.
            expect(listSessionLogs(root, item.id).some((f) => f.agent === "qa-1")).toBe(false)
          }),
      ),
    60_000,
  )

  it.live(
    "a coder that commits nothing fails with that reason, and past the retry limit the item is blocked",
    () =>
      withPipeline(
        {
          projectToml: projectToml(),
          agentsToml,
          scripts: { "coder.sh": "#!/bin/sh\necho thinking hard\n", "qa.sh": approvingQa },
        },
        () =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("Lazy", "retries: 1\n"))
            const blocked = yield* awaitItem(item.id, (i) => i.stage._tag === "Archived")
            expect(blocked.stage).toMatchObject({ _tag: "Archived", reason: { _tag: "Blocked" } })
            expect(JSON.stringify(blocked.stage)).toContain("gave up after 2 attempts")
            expect(blocked.feedback).toContain("without committing anything")
          }),
      ),
    60_000,
  )

  it.live(
    "a rate-limited coder waits for its timer and then resumes its own session",
    () =>
      withPipeline(
        {
          projectToml: projectToml(),
          agentsToml,
          scripts: {
            "coder.sh": `#!/bin/sh
if [ -z "$HUSKIES_RESUME_SESSION_ID" ]; then
  echo '{"type":"SessionStarted","sessionId":"session-abc","tools":[],"mcpServers":[]}'
  echo "{\\"type\\":\\"RateLimited\\",\\"status\\":429,\\"resetAt\\":$(( $(date +%s) * 1000 + 1500 )),\\"message\\":\\"slow down\\"}"
  exit 1
fi
${coder()}`,
            "qa.sh": approvingQa,
          },
        },
        ({ root }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("Busy API", "qa: none\n"))
            const limited = yield* awaitItem(item.id, (i) =>
              Object.values(i.execution).some((e) => e._tag === "RateLimited"),
            )
            expect(limited.stage._tag).toBe("Coding")
            // Set by the story actor once the run has ended, just after the agent marked the rate limit.
            const timers = yield* awaitStore(
              "the retry timer",
              Effect.map(store.timers, ({ timers }) => (timers.length > 0 ? timers : undefined)),
            )
            expect(timers.map((t) => t.kind)).toEqual(["retry"])
            const merged = yield* awaitItem(item.id, (i) => i.stage._tag === "Merge")
            // The rate limit did not count as a failed attempt, and the retry resumed the session.
            expect(merged.attempts).toBe(0)
            expect(sessionText(root, item.id, "coder-1")[1]).toContain("RESUME<<session-abc>>")
            expect((yield* store.timers).timers).toEqual([])
          }),
      ),
    60_000,
  )

  it.live(
    "editing away an unmet dependency lets the item start",
    () =>
      withPipeline(
        { projectToml: projectToml(), agentsToml, scripts: { "coder.sh": coder(), "qa.sh": approvingQa } },
        () =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("Waits", "qa: none\ndepends_on: [99_story_missing]\n"))
            // The sleep is the window being checked: the item must not start in it, so no event can end it.
            yield* Effect.sleep("1 second")
            expect((yield* store.get(item.id)).stage._tag).toBe("Backlog")
            const content = yield* store.content(item.id)
            yield* store.editContent(item.id, {
              _tag: "Replace",
              text: content.replace("depends_on: [99_story_missing]\n", ""),
            })
            yield* awaitItem(item.id, (i) => i.stage._tag === "Merge")
          }),
      ),
    60_000,
  )

  it.live(
    "with auto_assign = false nothing starts by itself, and start_agent still runs the whole loop",
    () =>
      withPipeline(
        {
          projectToml: projectToml("auto_assign = false"),
          agentsToml,
          scripts: { "coder.sh": coder(), "qa.sh": approvingQa },
        },
        () =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("By hand", "qa: none\n"))
            // The sleep is the window being checked: nothing may start in it, so no event can end it.
            yield* Effect.sleep("1 second")
            expect((yield* store.get(item.id)).stage._tag).toBe("Backlog")
            yield* (yield* Agents).start(item.id)
            yield* awaitItem(item.id, (i) => i.stage._tag === "Merge")
          }),
      ),
    60_000,
  )

  it.live(
    "a stopped item stays stopped until it is started again, and a dependency holds back its dependent",
    () =>
      withPipeline(
        {
          projectToml: projectToml(),
          agentsToml,
          // Without the go file the coder stays at work until it is stopped; with it, it does the job.
          scripts: {
            "coder.sh": `#!/bin/sh\n[ -f "$HUSKIES_WORKTREE/../go" ] || { echo waiting; sleep 60; }\n${coder()}`,
            "qa.sh": approvingQa,
          },
        },
        ({ root }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const agents = yield* Agents
            const first = yield* store.create(story("First", "qa: none\n"))
            const second = yield* store.create(story("Second", `qa: none\ndepends_on: [${first.id}]\n`))
            yield* awaitItem(first.id, (i) => Object.values(i.execution).some((e) => e._tag === "Running"))
            const stopped = yield* agents.stop(first.id)
            expect(stopped.stopped).toBe(true)
            const after = yield* store.get(first.id)
            expect(Object.values(after.execution)).toEqual([{ _tag: "Completed", outcome: "stopped" }])
            // Nothing restarts it by itself, and its dependent is still waiting in Backlog. The sleep is the
            // window being checked: nothing may happen in it, so no event can end it.
            yield* Effect.sleep("1 second")
            expect((yield* agents.stories).map((s) => s.storyId)).toEqual([])
            expect((yield* store.get(second.id)).stage._tag).toBe("Backlog")
            // Started again by hand, it finishes; the dependent still waits (Merge is not Done).
            yield* Effect.sync(() => writeFileSync(join(root, ".huskies", "worktrees", "go"), ""))
            yield* agents.start(first.id)
            yield* awaitItem(first.id, (i) => i.stage._tag === "Merge")
            expect((yield* store.get(second.id)).stage._tag).toBe("Backlog")
          }),
      ),
    60_000,
  )

  it.live(
    "an agent that cannot be started waits on a retry timer that says why, and is not tried again at once",
    () =>
      withPipeline(
        {
          projectToml: projectToml(),
          agentsToml: agentsToml.replace(
            'command = ["{{scripts}}/coder.sh"]',
            'command = ["{{scripts}}/missing.sh"]',
          ),
          scripts: { "qa.sh": approvingQa },
        },
        () =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("No agent program"))
            const retryTimer = Effect.map(store.timers, ({ timers }) =>
              timers.find((t) => t.storyId === item.id && t.kind === "retry"),
            )
            const timer = yield* awaitStore("a retry timer on the item", retryTimer)
            expect(timer.note).toContain("missing.sh")
            // Spinning would set the timer again and again; it stays as it was, and no attempt is used.
            // The sleep is the window being checked: nothing may happen in it, so no event can end it.
            yield* Effect.sleep("1 second")
            expect(yield* retryTimer).toEqual(timer)
            const after = yield* store.get(item.id)
            expect(after).toMatchObject({ stage: { _tag: "Coding" }, attempts: 0 })
          }),
      ),
    60_000,
  )

  it.live(
    "an agent CLI that is not logged in uses no attempt: the item waits on a retry timer that says why",
    () =>
      withPipeline(
        {
          projectToml: projectToml(),
          agentsToml,
          scripts: {
            "coder.sh": `#!/bin/sh
echo '{"type":"ApiError","status":401,"message":"Invalid API key · Please run /login"}'
exit 1`,
            "qa.sh": approvingQa,
          },
        },
        () =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("Not logged in"))
            const timers = yield* awaitStore(
              "a timer on the item",
              Effect.map(store.timers, ({ timers }) =>
                timers.some((t) => t.storyId === item.id) ? timers : undefined,
              ),
            )
            expect(timers).toMatchObject([{ storyId: item.id, kind: "retry" }])
            expect(timers[0]?.note).toContain("Invalid API key")
            // A machine's problem, not the item's: no attempt used, no feedback for a coder.
            const after = yield* store.get(item.id)
            expect(after).toMatchObject({ stage: { _tag: "Coding" }, attempts: 0 })
            expect(after.feedback).toBeUndefined()
          }),
      ),
    60_000,
  )

  it.live(
    "an agent whose git knows no identity still commits, as huskies",
    () =>
      withPipeline(
        {
          projectToml: projectToml('default_qa = "none"'),
          agentsToml,
          // The agents' git reads no global or system config, as on a machine nobody set up.
          agentEnv: { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
          scripts: {
            "coder.sh": `#!/bin/sh
set -e
echo good > feature.txt
git add feature.txt
git commit -q -m "work on $HUSKIES_STORY_ID"`,
            "qa.sh": approvingQa,
          },
        },
        ({ repo }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("Nobody set up git"))
            const merged = yield* awaitItem(
              item.id,
              (i) => i.stage._tag === "Merge" || i.stage._tag === "Archived",
            )
            expect(merged.stage._tag).toBe("Merge")
            expect(yield* repo.git("log", "-1", "--format=%an <%ae>", `feature/story-${item.id}`)).toBe(
              "huskies <huskies@localhost>",
            )
          }),
      ),
    60_000,
  )
})
