// test/actors/ClaudeMerge.test.ts — the merge queue with the real Claude Code CLI as coder and mergemaster,
// talking to the fake model API (test/fakes/anthropic.ts), on a real repository: a story lands on main as
// one squash commit; two stories write the same file and the second one's conflict is resolved by a
// Claude Code mergemaster; gates failing on the merged result end MergeFailed. The `command`-agent
// counterparts are MergeQueue.test.ts and Mergemaster.test.ts.
import { StoryId } from "../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, type Scope } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Agents } from "../../src/actors/Scheduler.js"
import { featureBranchOf, worktreePathOf } from "../../src/layers/git/paths.js"
import { listSessionLogs, readSessionLog } from "../../src/layers/SessionLog.js"
import { Store } from "../../src/layers/Store.js"
import type { ToolTestEnv } from "../support/tools.js"
import { anySession, type FakeAnthropic, type Turn } from "../fakes/anthropic.js"
import {
  bash,
  claudeAgentEnv,
  claudeWorld,
  lastUserText,
  mainSessions,
  mcp,
  sessionIdsOf,
  sessionLogEvents,
  toolResultsByName,
} from "../support/claudePipeline.js"
import {
  awaitItem,
  awaitNoMergeJobs,
  type PipelineProject,
  story,
  withPipeline,
} from "../support/pipeline.js"
import { eventually, holds } from "../support/waits.js"

/** Long enough for a coder held in a Bash wait while another story merges; the tests end well before. */
const INACTIVITY = 45

const claudeAgent = (name: string, stage: string) => `
[[agent]]
name = "${name}"
stage = "${stage}"
runtime = "claude-code"
inactivity_timeout_secs = ${INACTIVITY}
`

// Two coders so that two stories branch from the same main; a mergemaster for conflicts.
const agentsToml = [
  claudeAgent("coder-1", "coder"),
  claudeAgent("coder-2", "coder"),
  claudeAgent("merger", "mergemaster"),
].join("")

const projectToml = (test: string, merge = "") => `base_branch = "main"
default_qa = "none"

[commands]
test = ${JSON.stringify(test)}

[merge]
${merge}
`

/** A server with the merge queue on, whose agents are the real Claude Code CLI pointed at a fake API. */
const withClaudeMerge = <A, E>(
  setup: { readonly test: string; readonly merge?: string },
  body: (project: PipelineProject, fake: FakeAnthropic) => Effect.Effect<A, E, ToolTestEnv | Scope.Scope>,
) =>
  Effect.gen(function* () {
    const { fake, home } = yield* claudeWorld
    return yield* withPipeline(
      {
        projectToml: projectToml(setup.test, setup.merge),
        agentsToml,
        agentEnv: claudeAgentEnv(fake, home),
        mergeQueue: true,
      },
      (project) => body(project, fake),
    )
  })

const write = (path: string, content: string): Turn => ({
  toolUses: [{ name: "Write", input: { file_path: path, content } }],
})

const ended = (i: { readonly stage: { readonly _tag: string } }) =>
  i.stage._tag === "Done" || i.stage._tag === "Archived"

/**
 * Until `count` CLI sessions have asked the model something (each was handed a scripted turn); the fake
 * model API, in this process but outside the Store, publishes no event: polled.
 */
const awaitSessions = (fake: FakeAnthropic, count: number) =>
  eventually(
    `${count} Claude Code sessions to ask the model`,
    Effect.sync(() => holds(mainSessions(fake).length >= count)),
  )

/** Sessions an agent ran on an item, from the session logs. */
const sessionsOf = (root: string, id: string, agent: string) =>
  listSessionLogs(root, id).filter((f) => f.agent === agent).length

describe("merge queue with Claude Code agents against the fake model API", () => {
  it.scopedLive(
    "a story goes Backlog -> Done: one squash commit on main with exactly what the coder wrote, worktree and branch gone",
    () =>
      withClaudeMerge({ test: "grep -q good feature.txt" }, ({ root, repo }, fake) =>
        Effect.gen(function* () {
          const store = yield* Store
          const id = "1_story_add_the_feature"
          const content = "good\nwritten by Claude Code\n"
          fake.script(anySession, [
            write(join(worktreePathOf(root, id), "feature.txt"), content),
            bash("git add feature.txt && git commit -q -m 'Add the feature'"),
            { text: "Done: feature.txt is committed." },
          ])
          const before = yield* repo.git("rev-parse", "main")
          const item = yield* store.create(story("Add the feature"))
          expect(item.id).toBe(id)

          const done = yield* awaitItem(id, ended, 45_000)
          expect(done.stage._tag).toBe("Done")
          yield* awaitNoMergeJobs
          // One commit on top of the old tip, named for the story, holding exactly the coder's file.
          const mergeCommit = done.stage._tag === "Done" ? done.stage.mergeCommit : ""
          expect(yield* repo.git("rev-parse", "main")).toBe(mergeCommit)
          expect(yield* repo.git("rev-parse", "main~1")).toBe(before)
          expect(yield* repo.git("log", "-1", "--format=%s", "main")).toBe(`Add the feature (${id})`)
          expect(yield* repo.git("diff", "--name-only", `${before}..main`)).toBe("feature.txt")
          expect(yield* repo.git("show", "main:feature.txt")).toBe(content.trimEnd())
          // A squash, not a merge: main's history stays linear.
          expect(yield* repo.git("rev-list", "--parents", "-1", "main")).toBe(`${mergeCommit} ${before}`)
          expect(existsSync(worktreePathOf(root, id))).toBe(false)
          expect(existsSync(join(root, ".huskies", "merge", id))).toBe(false)
          expect((yield* repo.gitResult("rev-parse", "--verify", featureBranchOf(id))).code).not.toBe(0)

          expect(mainSessions(fake)).toHaveLength(1)
          expect(sessionsOf(root, id, "merger")).toBe(0)
          expect(fake.unexpected).toEqual([])
        }),
      ),
    60_000,
  )

  it.scopedLive(
    "two stories write the same file: the second one's conflict goes to a Claude Code mergemaster, which merges main, resolves, calls merge_agent_work, and both land in order",
    () =>
      withClaudeMerge({ test: "test -f shared.txt" }, ({ root, repo }, fake) =>
        Effect.gen(function* () {
          const store = yield* Store
          const a = "1_story_first_writer"
          const b = "2_story_second_writer"
          const shared = (id: string) => join(worktreePathOf(root, id), "shared.txt")
          const goFile = (id: string) => `.huskies/worktrees/go-${id}`
          // Both coders start at once, so both branches come from the same main. Their sessions take
          // turns from one script in the order they ask, which the test fixes: each coder's first turn
          // is the same Bash wait for its own go file, handed to both before either is let go. Then A
          // alone runs on and merges; B goes on only after A is Done, so B's squash must conflict, and
          // the mergemaster (started after B's coder ended) takes the last turns.
          const hold = bash('until [ -f "$HUSKIES_WORKTREE/../go-$HUSKIES_STORY_ID" ]; do sleep 0.1; done')
          const resolved = "line from the first writer\nline from the second writer\n"
          fake.script(anySession, [
            hold,
            hold,
            // A's coder.
            write(shared(a), "line from the first writer\n"),
            bash("git add shared.txt && git commit -q -m 'First writer'"),
            { text: "A is committed." },
            // B's coder.
            write(shared(b), "line from the second writer\n"),
            bash("git add shared.txt && git commit -q -m 'Second writer'"),
            { text: "B is committed." },
            // The mergemaster, in B's worktree.
            bash("git merge main"),
            { toolUses: [{ name: "Read", input: { file_path: shared(b) } }] },
            write(shared(b), resolved),
            bash("git add shared.txt && git commit -q -m 'Merge main: keep both lines'"),
            mcp("merge_agent_work", { story_id: b }),
            // The session's last turn, after merge_agent_work answered: the server lets it happen.
            { text: "Merged." },
          ])
          const before = yield* repo.git("rev-parse", "main")
          expect((yield* store.create(story("First writer"))).id).toBe(a)
          expect((yield* store.create(story("Second writer"))).id).toBe(b)
          yield* awaitSessions(fake, 2)

          yield* repo.write(goFile(a), "")
          const aDone = yield* awaitItem(a, ended, 45_000)
          expect(aDone.stage._tag).toBe("Done")
          const aCommit = yield* repo.git("rev-parse", "main")
          expect(yield* repo.git("show", "main:shared.txt")).toBe("line from the first writer")
          // B's branch still has the main A started from: its shared.txt is its own.
          expect(yield* repo.git("merge-base", "main", featureBranchOf(b))).toBe(before)

          yield* repo.write(goFile(b), "")
          const bDone = yield* awaitItem(b, ended, 45_000)
          expect(bDone.stage).toMatchObject({ _tag: "Done" })
          yield* awaitNoMergeJobs

          // main: the old tip, A's squash, then B's squash holding both lines.
          expect(yield* repo.git("rev-parse", "main~1")).toBe(aCommit)
          expect(yield* repo.git("rev-parse", "main~2")).toBe(before)
          expect((yield* repo.git("log", "-2", "--format=%s", "main")).split("\n")).toEqual([
            `Second writer (${b})`,
            `First writer (${a})`,
          ])
          expect(yield* repo.git("show", "main:shared.txt")).toBe(resolved.trimEnd())
          expect(yield* repo.git("diff", "--name-only", "main~1..main")).toBe("shared.txt")
          const bMerge = bDone.stage._tag === "Done" ? bDone.stage.mergeCommit : ""
          expect(yield* repo.git("rev-list", "--parents", "-1", "main")).toBe(`${bMerge} ${aCommit}`)
          for (const id of [a, b]) {
            expect(existsSync(worktreePathOf(root, id))).toBe(false)
            expect((yield* repo.gitResult("rev-parse", "--verify", featureBranchOf(id))).code).not.toBe(0)
          }

          // One mergemaster session, on B only, told what stopped the merge.
          expect(sessionsOf(root, a, "merger")).toBe(0)
          const [mergerSession] = sessionIdsOf(root, b, "merger")
          expect(sessionIdsOf(root, b, "merger")).toHaveLength(1)
          expect(mainSessions(fake)).toHaveLength(3)
          expect(mainSessions(fake)[2]).toBe(mergerSession)
          const mergerRequests = fake.requestsFor(mergerSession ?? "", "main")
          expect(lastUserText(mergerRequests[0]!)).toContain(
            `${featureBranchOf(b)} conflicts with main in shared.txt`,
          )
          // Its tools ran as scripted: the merge stopped on the conflict, the resolution was committed.
          const results = toolResultsByName(mergerRequests)
          expect(results.slice(0, 4).map((r) => [r.name, r.isError])).toEqual([
            ["Bash", true],
            ["Read", false],
            ["Write", false],
            ["Bash", false],
          ])
          expect(results[0]?.text).toContain("CONFLICT")
          // Its merge_agent_work call landed B, and answered it: the session was not stopped when B moved
          // to Done, it made its last model request with the merged answer, and ended by itself.
          yield* awaitItem(b, (i) => !Object.values(i.execution).some((e) => e._tag === "Running"), 20_000)
          expect(sessionLogEvents(root, b, "merger")).toContainEqual(
            expect.objectContaining({
              _tag: "ToolUse",
              name: "mcp__huskies__merge_agent_work",
              input: { story_id: b },
            }),
          )
          const finalRequests = fake.requestsFor(mergerSession ?? "", "main")
          expect(finalRequests).toHaveLength(6)
          const answer = toolResultsByName(finalRequests).at(-1)
          expect(answer).toMatchObject({ name: "mcp__huskies__merge_agent_work", isError: false })
          expect(JSON.parse(answer?.text ?? "{}")).toMatchObject({ merged: true, merge_commit: bMerge })
          const run = yield* (yield* Agents).awaitRun(StoryId.make(b))
          expect(Option.getOrUndefined(run)).toMatchObject({ agent: "merger", outcome: "succeeded" })
          const mergerLog = listSessionLogs(root, b).find((f) => f.agent === "merger")
          const entries = mergerLog === undefined ? [] : readSessionLog(mergerLog.path)
          expect(entries.find((e) => e["type"] === "exit")).toMatchObject({ outcome: "succeeded" })
          const execution = Object.values((yield* store.get(StoryId.make(b))).execution)
          expect(execution).toEqual([expect.objectContaining({ _tag: "Completed", outcome: "succeeded" })])
          expect(fake.unexpected).toEqual([])
        }),
      ),
    60_000,
  )

  it.scopedLive(
    "gates that pass in the worktree but fail on the merged result: MergeFailed with their output after [merge] attempts = 1, main unchanged",
    () =>
      withClaudeMerge(
        {
          // Passes in the coder's worktree, fails in the merge workspace.
          test: 'case "$(pwd -P)" in */.huskies/merge/*) echo MERGED-RESULT-BROKEN; exit 1;; esac',
          merge: "attempts = 1",
        },
        ({ root, repo }, fake) =>
          Effect.gen(function* () {
            const store = yield* Store
            const id = "1_story_breaks_main"
            fake.script(anySession, [
              write(join(worktreePathOf(root, id), "feature.txt"), "breaks main\n"),
              bash("git add feature.txt && git commit -q -m 'Break main'"),
              { text: "Committed." },
            ])
            const before = yield* repo.git("rev-parse", "main")
            expect((yield* store.create(story("Breaks main"))).id).toBe(id)

            const failed = yield* awaitItem(id, ended, 45_000)
            expect(failed.stage).toMatchObject({ _tag: "Archived", reason: { _tag: "MergeFailed" } })
            const why = JSON.stringify(failed.stage)
            expect(why).toContain("the gates failed on the merged result")
            expect(why).toContain("MERGED-RESULT-BROKEN")
            expect(why).toContain("1 of 1 merge attempt used")
            yield* awaitNoMergeJobs
            expect(yield* repo.git("rev-parse", "main")).toBe(before)
            expect(existsSync(join(root, ".huskies", "merge", id))).toBe(false)
            // The work is kept for whoever fixes it.
            expect(yield* repo.git("show", `${featureBranchOf(id)}:feature.txt`)).toBe("breaks main")
            // With no attempt left, no mergemaster was started: only the coder asked the model anything.
            expect(sessionsOf(root, id, "merger")).toBe(0)
            expect(mainSessions(fake)).toHaveLength(1)
            expect(fake.unexpected).toEqual([])
          }),
      ),
    60_000,
  )
})
