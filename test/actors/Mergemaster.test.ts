// test/actors/Mergemaster.test.ts — what the merge queue does when a merge fails, on a real server and
// repository with `command` agents: a mergemaster fixes the feature branch and the merge runs again; the
// attempts run out; a mergemaster gives up; an empty branch never reaches a session. A mergemaster whose own
// call merges or archives the item is answered and ends its session itself; a person's stop or move ends it.
import { StoryId } from "../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Agents } from "../../src/actors/Scheduler.js"
import { listSessionLogs, readSessionLog } from "../../src/layers/SessionLog.js"
import { Store } from "../../src/layers/Store.js"
import type { TempDir } from "../support/gitRepo.js"
import {
  awaitItem,
  awaitNoMergeJobs,
  commandAgent,
  gitIdentity,
  story,
  withPipeline,
} from "../support/pipeline.js"
import { ok } from "../support/tools.js"
import { eventually, holds } from "../support/waits.js"

const agentsToml = [
  commandAgent("coder-1", "coder", "coder.sh"),
  commandAgent("merger", "mergemaster", "mergemaster.sh"),
].join("\n")

/** Waits for a `go` file next to the worktrees (so main can change first), then commits its feature. */
const coder = `#!/bin/sh
set -e
${gitIdentity}
while [ ! -f "$HUSKIES_WORKTREE/../go" ]; do sleep 0.1; done
echo "feature of $HUSKIES_STORY_ID" > feature.txt
git add feature.txt
git commit -q -m "the feature"
`

/** A shell line calling a huskies tool over MCP, as an agent would. */
const mcp = (tool: string, args: string) =>
  `node "$(dirname "$0")/mcp-call.mjs" ${tool} "{\\"story_id\\":\\"$HUSKIES_STORY_ID\\"${args}}"`

const setup = (options: { test: string; mergemaster: string; merge?: string }) => ({
  projectToml: `base_branch = "main"
default_qa = "none"
[commands]
test = ${JSON.stringify(options.test)}
[merge]
${options.merge ?? ""}
`,
  agentsToml,
  scripts: {
    "coder.sh": coder,
    "mergemaster.sh": `#!/bin/sh\nset -e\n${gitIdentity}\n${options.mergemaster}\n`,
  },
  mergeQueue: true,
})

/** Sessions the mergemaster ran on the item, from its session logs. */
const mergemasterSessions = (root: string, id: string) => {
  const dir = join(root, ".huskies", "logs", id)
  return existsSync(dir) ? readdirSync(dir).filter((f) => /^merger-\d+\.jsonl$/.test(f)).length : 0
}

/** main gets its own feature.txt while the coder waits, so the item's squash must conflict. */
const mainChangesFirst = (repo: TempDir, id: string) =>
  Effect.gen(function* () {
    yield* awaitItem(id, (i) => Object.values(i.execution).some((e) => e._tag === "Running"))
    yield* repo.write("feature.txt", "main's own version\n")
    yield* repo.git("add", "feature.txt")
    yield* repo.git("commit", "-q", "-m", "main changes feature.txt")
    yield* repo.write(".huskies/worktrees/go", "")
    return yield* repo.git("rev-parse", "main")
  })

/** An item whose squash conflicts, with its mergemaster's process running (its handle is there). */
const mergemasterAtWork = (repo: TempDir, name: string) =>
  Effect.gen(function* () {
    const item = yield* (yield* Store).create(story(name))
    yield* mainChangesFirst(repo, item.id)
    yield* awaitItem(item.id, (i) =>
      Object.values(i.execution).some((e) => e._tag === "Running" && e.role === "mergemaster"),
    )
    // The Store shows Running a moment before the Scheduler holds the process's handle, which publishes
    // no event: polled.
    yield* eventually(
      "the Scheduler to hold the mergemaster's handle",
      Effect.map(ok("get_agent_output", { story_id: item.id }), (out) => holds(out["running"] === true)),
    )
    return item
  })

/** How the mergemaster's (only) session on the item ended, once it has: its run's result and its log agree. */
const mergemasterEnd = (root: string, id: string) =>
  Effect.gen(function* () {
    const run = yield* (yield* Agents).awaitRun(StoryId.make(id))
    const log = listSessionLogs(root, id).find((f) => f.agent === "merger")
    const exit = (log === undefined ? [] : readSessionLog(log.path)).find((e) => e["type"] === "exit")
    expect(exit).toMatchObject({ outcome: Option.getOrUndefined(run)?.outcome })
    return exit
  })

const ended = (i: { stage: { _tag: string } }) => i.stage._tag === "Done" || i.stage._tag === "Archived"

describe("mergemaster", () => {
  it.live(
    "a conflict goes to the mergemaster, which merges main into the branch and calls merge_agent_work: Done with both changes",
    () =>
      withPipeline(
        setup({
          test: "test -f feature.txt",
          mergemaster: `git merge main >/dev/null 2>&1 || true
printf "main's own version\\nfeature of %s\\n" "$HUSKIES_STORY_ID" > feature.txt
git add feature.txt
git commit -q -m "resolve the conflict with main"
${mcp("merge_agent_work", "")} > "$(dirname "$0")/answer.json"
echo "merged: my work here is done"`,
        }),
        ({ root, repo, scripts }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("Collides"))
            const mainTip = yield* mainChangesFirst(repo, item.id)
            const done = yield* awaitItem(item.id, ended)
            expect(done.stage._tag).toBe("Done")
            // One squash commit on top of main's change, holding both sides.
            expect(yield* repo.git("rev-parse", "main~1")).toBe(mainTip)
            expect(yield* repo.git("show", "main:feature.txt")).toBe(
              `main's own version\nfeature of ${item.id}`,
            )
            expect(mergemasterSessions(root, item.id)).toBe(1)
            // Its own call moved the item to Done: it was answered, and the session ended by itself.
            yield* awaitItem(
              item.id,
              (i) => !Object.values(i.execution).some((e) => e._tag === "Running"),
              10_000,
            )
            expect(readFileSync(join(scripts, "answer.json"), "utf8")).toMatch(/\\"merged\\":\s*true/)
            expect(yield* mergemasterEnd(root, item.id)).toMatchObject({ outcome: "succeeded", exitCode: 0 })
            yield* awaitNoMergeJobs
            expect(existsSync(join(root, ".huskies", "worktrees", item.id))).toBe(false)
          }),
      ),
    60_000,
  )

  it.live(
    "gates failing on the merged result: the mergemaster commits a fix and exits, and the merge runs again by itself",
    () =>
      withPipeline(
        setup({
          // The merged result needs fixed.txt, which only the mergemaster adds.
          test: 'case "$(pwd -P)" in */.huskies/merge/*) test -f fixed.txt || { echo NEEDS-FIXED-TXT; exit 1; };; esac',
          mergemaster: `grep -q NEEDS-FIXED-TXT "$HUSKIES_PROMPT_FILE"
echo fixed > fixed.txt
git add fixed.txt
git commit -q -m "fix what the gates found"`,
        }),
        ({ root, repo }) =>
          Effect.gen(function* () {
            const store = yield* Store
            yield* repo.write(".huskies/worktrees/go", "")
            const item = yield* store.create(story("Needs a fix"))
            const done = yield* awaitItem(item.id, ended)
            expect(done.stage._tag).toBe("Done")
            expect((yield* repo.git("diff", "--name-only", "main~1..main")).split("\n").sort()).toEqual([
              "feature.txt",
              "fixed.txt",
            ])
            expect(mergemasterSessions(root, item.id)).toBe(1)
          }),
      ),
    60_000,
  )

  it.live(
    "a mergemaster that fixes nothing: after [merge] attempts failed merges the item is MergeFailed with the output, main untouched",
    () =>
      withPipeline(
        setup({
          test: 'case "$(pwd -P)" in */.huskies/merge/*) echo STILL-BROKEN; exit 1;; esac',
          mergemaster: "echo looked at it",
          merge: "attempts = 2",
        }),
        ({ root, repo }) =>
          Effect.gen(function* () {
            const store = yield* Store
            yield* repo.write(".huskies/worktrees/go", "")
            const before = yield* repo.git("rev-parse", "main")
            const item = yield* store.create(story("Never fixed"))
            const failed = yield* awaitItem(item.id, ended)
            expect(failed.stage).toMatchObject({ _tag: "Archived", reason: { _tag: "MergeFailed" } })
            const why = JSON.stringify(failed.stage)
            expect(why).toContain("STILL-BROKEN")
            expect(why).toContain("2 of 2 merge attempts used")
            expect(mergemasterSessions(root, item.id)).toBe(1)
            expect(yield* repo.git("rev-parse", "main")).toBe(before)
            expect((yield* store.mergeJobs).jobs).toEqual([])
          }),
      ),
    60_000,
  )

  it.live(
    "a mergemaster that gives up with report_merge_failure: MergeFailed with its reason and the last attempt",
    () =>
      withPipeline(
        setup({
          test: "test -f feature.txt",
          mergemaster: `${mcp("report_merge_failure", ',\\"reason\\":\\"the two designs cannot both hold\\"')} > "$(dirname "$0")/answer.json"
echo "reported: my work here is done"`,
        }),
        ({ root, repo, scripts }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("Irreconcilable"))
            yield* mainChangesFirst(repo, item.id)
            const failed = yield* awaitItem(item.id, ended)
            const why = JSON.stringify(failed.stage)
            expect(failed.stage).toMatchObject({ _tag: "Archived", reason: { _tag: "MergeFailed" } })
            expect(why).toContain("the two designs cannot both hold")
            expect(why).toContain("conflicts with main in feature.txt")
            // Its own call archived the item: it was answered, and the session ended by itself.
            yield* awaitItem(
              item.id,
              (i) => !Object.values(i.execution).some((e) => e._tag === "Running"),
              10_000,
            )
            expect(readFileSync(join(scripts, "answer.json"), "utf8")).toContain("MergeFailed")
            expect(yield* mergemasterEnd(root, item.id)).toMatchObject({ outcome: "succeeded", exitCode: 0 })
          }),
      ),
    60_000,
  )

  it.live(
    "a branch with nothing ahead of main fails before any merge or mergemaster session, saying what to check",
    () =>
      withPipeline(
        { ...setup({ test: "true", mergemaster: "echo should not run" }), autoAssign: false },
        ({ root, repo }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* store.create(story("Lost its work"))
            yield* store.apply(item.id, { _tag: "Start", at: 1 })
            const branch = `feature/story-${item.id}`
            // The branch had a commit when it reached Merge; then it was reset to main.
            yield* repo.git("branch", branch, "main")
            yield* store.apply(item.id, {
              _tag: "GatesPassed",
              featureBranch: branch,
              commitsAhead: 1,
              qa: "none",
              at: 2,
            })
            const failed = yield* awaitItem(item.id, ended)
            const why = JSON.stringify(failed.stage)
            expect(why).toContain(`${branch} has no commits ahead of main`)
            expect(why).toContain("No merge was attempted")
            expect(mergemasterSessions(root, item.id)).toBe(0)
          }),
      ),
    60_000,
  )

  it.live(
    "a running mergemaster shows in list_agents; stopping it archives the item as MergeFailed, saying so",
    () =>
      withPipeline(
        setup({ test: "test -f feature.txt", mergemaster: "echo thinking; sleep 60" }),
        ({ repo }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* mergemasterAtWork(repo, "Stopped fix")
            const listed = yield* ok("list_agents", {})
            expect(JSON.stringify(listed)).toContain('"merger"')
            yield* ok("stop_agent", { story_id: item.id })
            const failed = yield* awaitItem(item.id, ended)
            expect(failed.stage).toMatchObject({ _tag: "Archived", reason: { _tag: "MergeFailed" } })
            const why = JSON.stringify(failed.stage)
            expect(why).toContain("mergemaster was stopped")
            expect(why).toContain("conflicts with main in feature.txt")
            expect((yield* store.mergeJobs).jobs).toEqual([])
          }),
      ),
    60_000,
  )

  it.live(
    "an item a person moves out of Merge while its mergemaster works: the session stops and the job goes",
    () =>
      withPipeline(
        setup({ test: "test -f feature.txt", mergemaster: "echo thinking; sleep 60" }),
        ({ repo }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* mergemasterAtWork(repo, "Put on hold")
            expect((yield* store.mergeJobs).jobs).toMatchObject([{ storyId: item.id, state: "fixing" }])
            yield* store.apply(item.id, { _tag: "Hold", at: Date.now() })
            yield* awaitItem(
              item.id,
              (i) => !Object.values(i.execution).some((e) => e._tag === "Running"),
              10_000,
            )
            yield* awaitNoMergeJobs
            const result = yield* ok("wait_for_agent", { story_id: item.id })
            expect(JSON.stringify(result)).toContain("its work here is over")
          }),
      ),
    60_000,
  )

  it.live(
    "an item a person deletes while its mergemaster works: the session is stopped and nothing of it stays",
    () =>
      withPipeline(
        setup({ test: "test -f feature.txt", mergemaster: "echo thinking; sleep 60" }),
        ({ root, repo }) =>
          Effect.gen(function* () {
            const store = yield* Store
            const item = yield* mergemasterAtWork(repo, "Deleted mid-fix")
            const running = yield* (yield* Agents).handle(item.id)
            expect(Option.isSome(running)).toBe(true)
            yield* ok("delete_story", { story_id: item.id })
            const ended = Option.isSome(running) ? yield* running.value.result : undefined
            expect(ended).toMatchObject({ agent: "merger", outcome: "stopped" })
            expect((yield* (yield* Agents).stories).map((s) => s.storyId)).not.toContain(item.id)
            expect((yield* store.mergeJobs).jobs).toEqual([])
            expect(existsSync(join(root, ".huskies", "worktrees", item.id))).toBe(false)
          }),
      ),
    60_000,
  )

  it.live(
    "a rate-limited mergemaster resumes its own session after the reset, without using up a merge attempt",
    () =>
      withPipeline(
        setup({
          test: 'case "$(pwd -P)" in */.huskies/merge/*) test -f fixed.txt || { echo NEEDS-FIXED-TXT; exit 1; };; esac',
          // Had the rate limit cost an attempt, the second merge would run before any fix and fail for good.
          merge: "attempts = 2",
          mergemaster: `if [ -z "$HUSKIES_RESUME_SESSION_ID" ]; then
  echo '{"type":"SessionStarted","sessionId":"merger-session","tools":[],"mcpServers":[]}'
  echo "{\\"type\\":\\"RateLimited\\",\\"status\\":429,\\"resetAt\\":$(( $(date +%s) * 1000 + 1000 )),\\"message\\":\\"slow down\\"}"
  exit 1
fi
echo "$HUSKIES_RESUME_SESSION_ID" > "$(dirname "$0")/resumed"
echo fixed > fixed.txt
git add fixed.txt
git commit -q -m "fix what the gates found"`,
        }),
        ({ root, repo, scripts }) =>
          Effect.gen(function* () {
            const store = yield* Store
            yield* repo.write(".huskies/worktrees/go", "")
            const item = yield* store.create(story("Slowed down"))
            const done = yield* awaitItem(item.id, ended)
            expect(done.stage._tag).toBe("Done")
            expect(mergemasterSessions(root, item.id)).toBe(2)
            expect(readFileSync(join(scripts, "resumed"), "utf8").trim()).toBe("merger-session")
          }),
      ),
    60_000,
  )
})
