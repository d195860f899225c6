// test/actors/ClaudePipeline.test.ts — the pipeline with the real Claude Code CLI as its agents, talking to
// the fake model API (test/fakes/anthropic.ts): coder -> gates -> QA over MCP, a retry that resumes the
// session with the gates' failure, the inactivity watchdog, rate limits waited out on a timer, and
// deletion mid-run. The `command`-agent counterparts are in Pipeline.test.ts. The server launches the CLI
// without --session-id, so each test scripts `anySession`: its runs are sequential and take turns in order.
import { StoryId } from "../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Agents } from "../../src/actors/Scheduler.js"
import { retryPrompt } from "../../src/actors/StoryActor.js"
import { featureBranchOf, worktreePathOf } from "../../src/layers/git/paths.js"
import { isRunning, processTree } from "../../src/layers/Pty.js"
import { listSessionLogs } from "../../src/layers/SessionLog.js"
import { Store } from "../../src/layers/Store.js"
import { anySession, messagesOf, toolNamesOf, type Turn } from "../fakes/anthropic.js"
import { awaitItem, story } from "../support/pipeline.js"
import { eventually, holds } from "../support/waits.js"

import {
  withClaudePipeline,
  callTool,
  bash,
  mcp,
  mainSessions,
  sessionLogEvents,
  sessionIdsOf,
  lastUserText,
  toolResultsByName,
  INACTIVITY,
  RESET_SECS,
  awaitHandle,
  watchTimers,
} from "../support/claudePipeline.js"

describe("pipeline with Claude Code agents against the fake model API", () => {
  it.scopedLive(
    "a coder writes, commits and ticks its criterion with Claude Code's tools, QA approves over MCP, the item reaches Merge",
    () =>
      Effect.gen(function* () {
        yield* withClaudePipeline({}, ({ root, repo, url }, fake) =>
          Effect.gen(function* () {
            const store = yield* Store
            // Ids are numbered from 1 in a fresh project: the script needs the worktree's path up front.
            const id = "1_story_add_the_feature"
            const worktree = worktreePathOf(root, id)
            // One queue for whatever session comes: the coder's turns, then (after the gates) QA's.
            fake.script(anySession, [
              {
                text: "Writing the feature.",
                toolUses: [
                  { name: "Write", input: { file_path: join(worktree, "feature.txt"), content: "good\n" } },
                ],
              },
              bash("git add feature.txt && git commit -q -m 'Add the feature'"),
              mcp("check_criterion", { story_id: id, criterion: 0 }),
              { text: "Done: feature.txt is committed." },
              mcp("approve_qa", { story_id: id, notes: "feature.txt says good" }),
              { text: "Approved." },
            ])
            const item = yield* store.create(story("Add the feature"))
            expect(item.id).toBe(id)
            const merged = yield* awaitItem(id, (i) => i.stage._tag === "Merge", 60_000)
            const qaRun = yield* (yield* Agents).awaitRun(StoryId.make(id))
            expect(Option.getOrThrow(qaRun)).toMatchObject({ agent: "qa-1", outcome: "succeeded" })

            expect(merged.stage).toEqual({
              _tag: "Merge",
              featureBranch: featureBranchOf(id),
              commitsAhead: 1,
            })
            expect(yield* store.content(StoryId.make(id))).toContain("- [x] it works")
            expect(yield* repo.git("show", `${featureBranchOf(id)}:feature.txt`)).toBe("good")
            expect(yield* repo.git("log", "--format=%an: %s", featureBranchOf(id), "-1")).toBe(
              "agent: Add the feature",
            )

            // Two CLI sessions, the coder's then QA's, each the one its session log names.
            const [coderSession, qaSession] = mainSessions(fake)
            expect(sessionIdsOf(root, id, "coder-1")).toEqual([coderSession])
            expect(sessionIdsOf(root, id, "qa-1")).toEqual([qaSession])
            const coderRequests = fake.requestsFor(coderSession ?? "", "main")
            expect(coderRequests).toHaveLength(4)
            expect(fake.requestsFor(qaSession ?? "", "main")).toHaveLength(2)
            // The model was offered huskies' tools; the permission hook is the CLI's, not the model's.
            const offered = toolNamesOf(coderRequests[0]!)
            expect(offered).toEqual(
              expect.arrayContaining([
                "Write",
                "Bash",
                "mcp__huskies__check_criterion",
                "mcp__huskies__status",
                "mcp__huskies__approve_qa",
              ]),
            )
            expect(offered).not.toContain("mcp__huskies__prompt_permission")
            // Each tool ran, and the model got its result back.
            const results = toolResultsByName(coderRequests)
            expect(results.map((r) => [r.name, r.isError])).toEqual([
              ["Write", false],
              ["Bash", false],
              ["mcp__huskies__check_criterion", false],
            ])
            expect(results[2]?.text).toContain('"checked":true')
            // Write and Bash had no standing permission: the CLI asked huskies' prompt_permission.
            const logs = yield* callTool(url, "server_logs", { text: "allowed" })
            const allowed = (logs.value["entries"] as ReadonlyArray<{ message: string }>).map(
              (e) => e.message,
            )
            expect(allowed).toEqual(expect.arrayContaining(["allowed Write", "allowed Bash"]))
            expect(fake.unexpected).toEqual([])
          }),
        )
      }),
    90_000,
  )

  it.scopedLive(
    "failing gates send the item back to the coder, which resumes its own session told what the gates said",
    () =>
      Effect.gen(function* () {
        yield* withClaudePipeline({}, ({ root, repo }, fake) =>
          Effect.gen(function* () {
            const store = yield* Store
            fake.script(anySession, [
              // First run: work the gate rejects.
              bash("echo bad > feature.txt && git add feature.txt && git commit -q -m 'First try'"),
              { text: "Committed." },
              // The retry: what the resumed session is asked, then a fix.
              bash("echo good > feature.txt && git commit -q -am 'Make it good'"),
              { text: "Fixed." },
            ])
            const item = yield* store.create(story("Retry me", "qa: none\n"))
            const merged = yield* awaitItem(item.id, (i) => i.stage._tag === "Merge", 60_000)
            expect(merged.attempts).toBe(1)
            expect(merged.stage).toMatchObject({ _tag: "Merge", commitsAhead: 2 })
            expect(yield* repo.git("show", `${featureBranchOf(item.id)}:feature.txt`)).toBe("good")

            // One CLI session over both runs: the retry was started with --resume.
            expect(mainSessions(fake)).toHaveLength(1)
            const [session] = mainSessions(fake)
            expect(sessionIdsOf(root, item.id, "coder-1")).toEqual([session, session])
            const requests = fake.requestsFor(session ?? "", "main")
            expect(requests).toHaveLength(4)
            const [first, , retried] = requests
            expect(lastUserText(first!)).not.toContain("GATE-SAYS-NO")
            // The resumed session carries the first run's conversation, then the new message: the
            // prompt with the gates' failure, as the gate command printed it.
            const told = lastUserText(retried!)
            expect(told).toContain(retryPrompt("").split("\n")[0])
            expect(told).toContain("GATE-SAYS-NO: feature.txt is not good")
            expect(JSON.stringify(messagesOf(retried!))).toContain("First try")
            expect(fake.unexpected).toEqual([])
          }),
        )
      }),
    90_000,
  )

  it.scopedLive(
    "the inactivity watchdog kills a coder whose model never answers, leaves no process, and blocks the item",
    () =>
      Effect.gen(function* () {
        yield* withClaudePipeline({ inactivitySecs: INACTIVITY }, ({ root }, fake) =>
          Effect.gen(function* () {
            const store = yield* Store
            const agents = yield* Agents
            // The model never answers within the test (the fake ends the wait when it closes).
            fake.script(anySession, [{ text: "too late", delayMs: 120_000 }])
            const item = yield* store.create(story("Stalled", "retries: 0\n"))
            const handle = yield* awaitHandle(item.id)
            const { pid } = yield* handle.status
            const tree = processTree(pid)
            expect(tree).toContain(pid)

            const result = Option.getOrThrow(yield* agents.awaitRun(item.id))
            expect(result).toMatchObject({ agent: "coder-1", outcome: "timedOut" })
            expect(result.reason).toContain("inactivity watchdog")
            // The CLI was waiting for the model when it was killed, not still starting up.
            expect(fake.requests.filter((r) => r.kind === "main")).toHaveLength(1)
            expect(tree.filter(isRunning)).toEqual([])
            expect(processTree(pid)).toEqual([])

            const blocked = yield* awaitItem(item.id, (i) => i.stage._tag === "Archived", 10_000)
            expect(blocked.stage).toMatchObject({
              _tag: "Archived",
              reason: {
                _tag: "Blocked",
                why: expect.stringMatching(
                  /^gave up after 1 attempt: the coder session failed: .*inactivity watchdog/,
                ),
              },
            })
            expect(blocked.feedback).toContain(`inactivity_timeout_secs = ${INACTIVITY}`)
            expect(listSessionLogs(root, item.id).map((f) => f.agent)).toEqual(["coder-1"])
          }),
        )
      }),
    60_000,
  )

  it.scopedLive(
    "a rate-limited coder waits on a retry timer until the limit resets, then resumes its session and finishes",
    () =>
      Effect.gen(function* () {
        // One retry inside the CLI (production leaves the CLI's default of 10): its api_retry line
        // reports the API's retry-after, which is the only reset time an API-key CLI prints.
        yield* withClaudePipeline({ env: { CLAUDE_CODE_MAX_RETRIES: "1" } }, ({ root }, fake) =>
          Effect.gen(function* () {
            const store = yield* Store
            const limited: Turn = {
              error: {
                status: 429,
                type: "rate_limit_error",
                message: "Number of request tokens has exceeded your per-minute rate limit",
                retryAfterSecs: RESET_SECS,
              },
            }
            fake.script(anySession, [
              limited,
              limited,
              bash("echo good > feature.txt && git add feature.txt && git commit -q -m 'Add the feature'"),
              { text: "Done." },
            ])
            const timersSet = yield* watchTimers
            const item = yield* store.create(story("Busy API", "qa: none\n"))
            const timers = yield* timersSet
            expect(timers).toEqual([
              expect.objectContaining({ storyId: item.id, kind: "retry", stage: "Coding" }),
            ])
            const resetAt = timers[0]?.at ?? 0
            // The first run ended rate limited, with the reset the CLI's last retry delay put a couple
            // of seconds after it gave up (not the 60 s huskies assumes when nothing says).
            const first = Option.getOrThrow(yield* (yield* Agents).lastResult(item.id))
            expect(first).toMatchObject({ outcome: "rateLimited", resetAt })
            expect(resetAt).toBeGreaterThan(first.startedAt)
            expect(resetAt).toBeLessThanOrEqual(first.endedAt + RESET_SECS * 1000)

            const merged = yield* awaitItem(item.id, (i) => i.stage._tag === "Merge", 60_000)
            // The item was RateLimited meanwhile; the restart waited for the reset, the rate limit was
            // not a failed attempt, and the timer is gone with its work done.
            const log = sessionLogEvents(root, item.id, "coder-1")
            expect(log.filter((e) => e._tag === "RateLimited")).toEqual([
              expect.objectContaining({ status: 429, resetAt }),
            ])
            const second = Option.getOrThrow(yield* (yield* Agents).lastResult(item.id))
            expect(second).toMatchObject({ outcome: "succeeded", session: 2 })
            expect(second.startedAt).toBeGreaterThanOrEqual(resetAt)
            expect(merged.attempts).toBe(0)
            expect(merged.stage).toMatchObject({ _tag: "Merge", commitsAhead: 1 })
            expect((yield* store.timers).timers).toEqual([])
            // Both runs were the same CLI session: the second was started with --resume.
            expect(mainSessions(fake)).toHaveLength(1)
            const [session] = mainSessions(fake)
            expect(fake.requestsFor(session ?? "", "main")).toHaveLength(4)
            expect(sessionIdsOf(root, item.id, "coder-1")).toEqual([session, session])
            expect(fake.unexpected).toEqual([])
          }),
        )
      }),
    60_000,
  )

  it.scopedLive(
    "deleting an item while its coder runs kills the CLI and removes its timers, worktree, branch and logs",
    () =>
      Effect.gen(function* () {
        yield* withClaudePipeline({}, ({ root, repo, url }, fake) =>
          Effect.gen(function* () {
            const store = yield* Store
            const agents = yield* Agents
            fake.script(anySession, [{ text: "too late", delayMs: 120_000 }])
            const item = yield* store.create(story("Doomed"))
            const handle = yield* awaitHandle(item.id)
            const { pid } = yield* handle.status
            const tree = processTree(pid)
            // Wait until the CLI is talking to the model: deep in its run, not starting up. The fake model
            // API publishes no event: polled.
            yield* eventually(
              "the CLI to ask the model",
              Effect.sync(() => holds(fake.requests.some((r) => r.kind === "main"))),
            )
            // A pending retry, as a rate limit leaves one: the Scheduler fires whatever timer the Store
            // holds, so one left behind would bring the deleted item back.
            yield* store.setTimer({
              storyId: item.id,
              kind: "retry",
              at: Date.now() + 600_000,
              note: "coder-1: rate limited",
            })
            const worktree = worktreePathOf(root, item.id)
            expect(existsSync(worktree)).toBe(true)
            expect(yield* repo.git("branch", "--list", featureBranchOf(item.id))).not.toBe("")

            const deleted = yield* callTool(url, "delete_story", { story_id: item.id })
            expect(deleted.isError).toBe(false)
            expect(deleted.value).toMatchObject({
              store: { item: { status: "removed" }, timers: { status: "removed" } },
              worktree: { status: "removed" },
              branch: { status: "removed" },
              logs: { status: "removed" },
            })
            // When delete_story answers, the CLI and everything it started are gone.
            expect(tree.filter(isRunning)).toEqual([])
            expect(processTree(pid)).toEqual([])
            expect(existsSync(worktree)).toBe(false)
            expect(yield* repo.git("branch", "--list", featureBranchOf(item.id))).toBe("")
            expect(existsSync(join(root, ".huskies", "logs", item.id))).toBe(false)
            expect((yield* store.timers).timers).toEqual([])
            expect((yield* agents.stories).map((s) => s.storyId)).toEqual([])
            expect((yield* Effect.either(store.get(item.id)))._tag).toBe("Left")

            // A moment later nothing has come back: no item, no agent, no model request, no worktree. The
            // sleep is the window being checked: nothing may happen in it, so no event can end it.
            yield* Effect.sleep("1 second")
            expect((yield* store.list).items).toEqual([])
            expect((yield* agents.stories).map((s) => s.storyId)).toEqual([])
            expect(fake.requests.filter((r) => r.kind === "main")).toHaveLength(1)
            expect(existsSync(worktree)).toBe(false)
          }),
        )
      }),
    60_000,
  )

  it.scopedLive(
    "with no retries left in the CLI a rate limit's reset is unknown: the retry waits a minute, and deleting the item takes its timer",
    () =>
      Effect.gen(function* () {
        // CLAUDE_CODE_MAX_RETRIES=0: the CLI gives up on the first 429 and prints only "API Error:
        // Request rejected (429) · <message>"; with an API key it prints neither the retry-after nor
        // the anthropic-ratelimit-*-reset headers (checked against 2.1.197), so huskies has no reset
        // time to go by and falls back to 60 s (ParserOptions.defaultRetryDelayMs).
        yield* withClaudePipeline({}, ({ url }, fake) =>
          Effect.gen(function* () {
            const store = yield* Store
            fake.script(anySession, [
              {
                error: {
                  status: 429,
                  type: "rate_limit_error",
                  message: "Number of request tokens has exceeded your per-minute rate limit",
                  retryAfterSecs: RESET_SECS,
                },
              },
            ])
            const timersSet = yield* watchTimers
            const item = yield* store.create(story("No retries", "qa: none\n"))
            const [timer] = yield* timersSet
            expect(timer).toMatchObject({ storyId: item.id, kind: "retry" })
            expect((timer?.at ?? 0) - Date.now()).toBeGreaterThan(50_000)
            const waiting = yield* store.get(item.id)
            expect(Object.values(waiting.execution)).toEqual([{ _tag: "RateLimited", resetAt: timer?.at }])

            // The reference implementation's timers brought deleted stories back: this one goes.
            const deleted = yield* callTool(url, "delete_story", { story_id: item.id })
            expect(deleted.value).toMatchObject({ store: { timers: { status: "removed" } } })
            expect((yield* store.timers).timers).toEqual([])
            expect((yield* (yield* Agents).stories).map((s) => s.storyId)).toEqual([])
            expect(fake.unexpected).toEqual([])
          }),
        )
      }),
    60_000,
  )
})
