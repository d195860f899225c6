// test/transports/cli/serveMerge.test.ts — the real `huskies serve` process killed with SIGKILL in the
// middle of a merge: the next start recovers the merge job, and main ends either untouched or advanced by
// exactly one squash commit of the feature — never half-merged, never reverted, never merged twice. The
// feature is coded by the real Claude Code CLI against the fake model API, or by a `command` agent.
import { StoryId } from "../../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema, type Scope } from "effect"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { worktreePathOf } from "../../../src/layers/git/paths.js"
import { isRunning, processTree } from "../../../src/layers/Pty.js"
import { Store } from "../../../src/layers/Store.js"
import { anySession, type FakeAnthropic, fakeAnthropic } from "../../fakes/anthropic.js"
import { bash, claudeServerEnv, mainSessions, toolResultsByName } from "../../support/claudePipeline.js"
import { type RunningServer, startServer } from "../../support/cli.js"
import { makeGitRepo, type TempDir } from "../../support/gitRepo.js"
import { type CallTool, mcpClient } from "../../support/mcpClient.js"
import { story, twoStepCoder } from "../../support/pipeline.js"
import { storeLayer } from "../../support/store.js"
import { eventually, holds, pidIn } from "../../support/waits.js"

const projectToml = (test: string) => `base_branch = "main"
default_qa = "none"
[commands]
test = ${JSON.stringify(test)}
`

/** Who codes the story: its agents file, and the environment the server (and so the agent) runs with. */
interface Coder {
  readonly agentsToml: string
  readonly env: NodeJS.ProcessEnv
}

/**
 * Sets up the coder of story `id` in `repo`. Every coder leaves two commits on the feature branch (so a
 * squash is one commit of both) with feature.txt reading `feature of <id>` then `more`.
 */
type CoderOf = (repo: TempDir, id: string) => Effect.Effect<Coder, never, Scope.Scope>

/** A `command` agent: a shell script, run with the test process's environment. */
const commandCoder: CoderOf = (repo) =>
  Effect.sync(() => {
    const scripts = join(repo.dir, "..", "scripts")
    mkdirSync(scripts)
    writeFileSync(join(scripts, "coder.sh"), twoStepCoder)
    chmodSync(join(scripts, "coder.sh"), 0o755)
    return {
      agentsToml: `[[agent]]\nname = "coder-1"\nstage = "coder"\nruntime = "command"\ncommand = ["${scripts}/coder.sh"]\n`,
      env: process.env,
    }
  })

/**
 * The real Claude Code CLI, told by `fake` to Write feature.txt and commit it, then append to it and commit
 * again. Its script is one queue: a second session would find it exhausted.
 */
const claudeCoder =
  (fake: FakeAnthropic): CoderOf =>
  (repo, id) =>
    Effect.sync(() => {
      const file = join(worktreePathOf(repo.dir, id), "feature.txt")
      fake.script(anySession, [
        {
          text: "Writing it.",
          toolUses: [{ name: "Write", input: { file_path: file, content: `feature of ${id}\n` } }],
        },
        bash("git add feature.txt && git commit -q -m 'first step'"),
        bash("echo more >> feature.txt && git add feature.txt && git commit -q -m 'second step'"),
        { text: "Done: feature.txt is committed." },
      ])
      return {
        agentsToml: `[[agent]]\nname = "coder-1"\nstage = "coder"\nruntime = "claude-code"\n`,
        env: claudeServerEnv(repo, fake),
      }
    })

const inMergeWorkspace = (then: string) => `case "$(pwd -P)" in */.huskies/merge/*) ${then};; esac`

/**
 * Passes in the coder's worktree; in the merge workspace (after the squash commit is made and recorded)
 * it writes its process group id (the gate runs as a group leader) and blocks: the moment to kill.
 */
const blockingGate = (marks: string) =>
  inMergeWorkspace(`echo $$ > "${marks}/gate.tmp" && mv "${marks}/gate.tmp" "${marks}/gate"; sleep 30`)

/** Notes each run in the merge workspace, then exits with `code` there. */
const recordingGate = (marks: string, code: number) =>
  inMergeWorkspace(`echo ran >> "${marks}/gates-again"; exit ${code}`)

/** The gate's processes still running: its group leader's session and all they started. */
const gateProcesses = (pgid: number) => processTree(pgid).filter(isRunning)

/** Kills the gate's group, and anything it started that left the group, and waits until none runs. */
const killGate = (pgid: number) =>
  Effect.gen(function* () {
    for (const target of [-pgid, ...processTree(pgid)]) {
      try {
        process.kill(target, "SIGKILL")
      } catch {
        // Gone already.
      }
    }
    yield* eventually(
      "the orphaned gate to die",
      Effect.sync(() => holds(gateProcesses(pgid).length === 0)),
      { millis: 5_000, every: "100 millis" },
    )
  })

/** What get_merge_status answers, as far as these tests look. */
const MergeStatus = Schema.Struct({
  stage: Schema.Struct({ _tag: Schema.String, mergeCommit: Schema.optional(Schema.String) }),
  job: Schema.NullOr(Schema.Struct({ state: Schema.String })),
  current: Schema.NullOr(Schema.Struct({ step: Schema.String })),
})

/** dump_state of one item: its merge job as stored, with the squash commit it recorded. */
const DumpedJob = Schema.Struct({
  state: Schema.Struct({ mergeJob: Schema.Struct({ commit: Schema.String }) }),
})

const MergeQueueList = Schema.Struct({ jobs: Schema.Array(Schema.Unknown) })

const serve = (root: string, env: NodeJS.ProcessEnv) =>
  Effect.acquireRelease(
    Effect.promise(() => startServer(["serve", "--port", "0", root], { env })),
    (s) => Effect.promise(() => s.kill("SIGKILL")),
  )

/** What the on-disk Store says, read with no server running. */
const storeOnDisk = (root: string, id: string) =>
  Effect.scoped(
    Effect.provide(
      Effect.gen(function* () {
        const store = yield* Store
        return { item: yield* store.get(StoryId.make(id)), jobs: (yield* store.mergeJobs).jobs }
      }),
      storeLayer(join(root, ".huskies", "huskies.db")),
    ),
  ).pipe(Effect.orDie)

interface Blocked {
  readonly repo: TempDir
  readonly root: string
  readonly marks: string
  readonly id: string
  /** The environment the servers run with. */
  readonly env: NodeJS.ProcessEnv
  /** main before the merge. */
  readonly before: string
  readonly server: RunningServer
  /** The gate's process group, blocked in the merge workspace. */
  readonly pgid: number
  /** The squash commit the blocked merge recorded on its job (from dump_state). */
  readonly recorded: string
}

/**
 * A project whose one story is coded by `coderOf`'s agent and reaches the merge queue of a real `huskies
 * serve`, whose gates then block in the merge workspace. Whatever the test does, the gate does not
 * outlive it and the server is killed.
 */
const mergeBlockedInGates = (coderOf: CoderOf) =>
  Effect.gen(function* () {
    const repo = yield* makeGitRepo({ initialCommit: true })
    const root = repo.dir
    const marks = join(root, "..", "marks")
    mkdirSync(marks)
    mkdirSync(join(root, ".huskies"))
    writeFileSync(join(root, ".huskies", "project.toml"), projectToml(blockingGate(marks)))
    yield* repo.write(".gitignore", ".huskies/\n")
    yield* repo.git("add", ".gitignore")
    yield* repo.git("commit", "-q", "-m", "ignore .huskies")
    // The server runs git with the machine's environment: the repository's own identity keeps its squash
    // commits independent of whatever (if anything) the machine configures.
    yield* repo.git("config", "user.name", "Huskies Test")
    yield* repo.git("config", "user.email", "test@huskies.invalid")
    yield* repo.git("config", "commit.gpgsign", "false")
    const before = yield* repo.git("rev-parse", "main")
    const item = yield* Effect.scoped(
      Effect.provide(
        Effect.flatMap(Store, (store) => store.create(story("Land it"))),
        storeLayer(join(root, ".huskies", "huskies.db")),
      ),
    ).pipe(Effect.orDie)
    const { agentsToml, env } = yield* coderOf(repo, item.id)
    writeFileSync(join(root, ".huskies", "agents.toml"), agentsToml)
    // Registered before the server starts, so it runs after the server is killed.
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(pidIn(join(marks, "gate")), (pgid) =>
        pgid === undefined ? Effect.void : killGate(pgid),
      ),
    )
    const server = yield* serve(root, env)
    const pgid = yield* eventually("the gates to run in the merge workspace", pidIn(join(marks, "gate")), {
      millis: 60_000,
      every: "100 millis",
    })
    const call = yield* mcpClient(server.url)
    const status = yield* call(MergeStatus, "get_merge_status", { story_id: item.id })
    // Killed while the gates run on the merged result: the squash commit is made and recorded, main not moved.
    expect(status.stage._tag).toBe("Merge")
    expect(status.job?.state).toBe("running")
    expect(status.current?.step).toMatch(/^running the gates on the merged result/)
    const dump = yield* call(DumpedJob, "dump_state", { story_id: item.id })
    const recorded = dump.state.mergeJob.commit
    expect(recorded).toMatch(/^[0-9a-f]{40}$/)
    expect(yield* repo.git("rev-parse", "main")).toBe(before)
    return { repo, root, marks, id: item.id, env, before, server, pgid, recorded } satisfies Blocked
  })

/** SIGKILLs the blocked server: nothing of it can run, so main, the job and the workspace stay as they were. */
const killMidMerge = (blocked: Blocked) =>
  Effect.gen(function* () {
    const { repo, root, id, before, server, pgid } = blocked
    yield* Effect.promise(() => server.kill("SIGKILL"))
    expect(yield* repo.git("rev-parse", "main")).toBe(before)
    expect(existsSync(join(root, ".huskies", "merge", id))).toBe(true)
    // The gate leads its own process group (so a timeout can kill all of it), which also puts it out of
    // reach of anything that happens to the dead server: it outlives the kill, until the next start.
    expect(gateProcesses(pgid).length).toBeGreaterThan(0)
  })

/** Waits (via MCP) until the item has left Merge and its job is gone, and returns its stage. */
const awaitMergeEnd = (call: CallTool, id: string) =>
  eventually(
    `${id} to leave the merge queue`,
    Effect.map(call(MergeStatus, "get_merge_status", { story_id: id }), (status) =>
      status.stage._tag !== "Merge" && status.job === null ? status.stage : undefined,
    ),
    { every: "100 millis" },
  )

/** main is `before` plus one commit, the squash `mergeCommit`, with exactly the feature's change. */
const expectOneSquash = (blocked: Blocked, mergeCommit: string) =>
  Effect.gen(function* () {
    const { repo, root, id, before } = blocked
    expect(yield* repo.git("rev-parse", "main")).toBe(mergeCommit)
    expect(yield* repo.git("rev-list", "--count", `${before}..main`)).toBe("1")
    expect(yield* repo.git("rev-parse", "main~1")).toBe(before)
    expect(yield* repo.git("log", "-1", "--format=%s", "main")).toBe(`Land it (${id})`)
    expect(yield* repo.git("diff", "--name-only", `${before}..main`)).toBe("feature.txt")
    expect(yield* repo.git("show", "main:feature.txt")).toBe(`feature of ${id}\nmore`)
    // The checkout of main agrees with it: nothing staged there would undo the merge.
    expect(yield* repo.git("status", "--porcelain", "--untracked-files=no")).toBe("")
    expect(yield* repo.read("feature.txt")).toBe(`feature of ${id}\nmore\n`)
    // Done: the feature's worktree and branch are gone.
    expect(existsSync(join(root, ".huskies", "worktrees", id))).toBe(false)
    expect((yield* repo.gitResult("rev-parse", "--verify", `feature/story-${id}`)).code).not.toBe(0)
  })

/** The worktrees git lists for the repository (real paths, the main one first). */
const worktreePaths = (repo: TempDir) =>
  Effect.map(repo.git("worktree", "list", "--porcelain"), (out) =>
    out
      .split("\n")
      .filter((l) => l.startsWith("worktree "))
      .map((l) => l.slice("worktree ".length)),
  )

/** Stops the second server cleanly and checks what it left in the Store on disk. */
const expectDoneOnDisk = (blocked: Blocked, second: RunningServer, mergeCommit: string) =>
  Effect.gen(function* () {
    yield* Effect.promise(() => second.kill("SIGTERM"))
    const { item, jobs } = yield* storeOnDisk(blocked.root, blocked.id)
    expect(item.stage).toMatchObject({ _tag: "Done", mergeCommit })
    expect(jobs).toEqual([])
  })

describe("huskies serve killed with SIGKILL during a merge", () => {
  it.live(
    "killed while the gates run on the merged result: main is untouched, and the restart merges it once",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const fake = yield* fakeAnthropic
          const blocked = yield* mergeBlockedInGates(claudeCoder(fake))
          const { root, marks, id, env } = blocked
          // One Claude Code session coded it, and each of its tool calls worked.
          const [session, ...others] = mainSessions(fake)
          expect(others).toEqual([])
          expect(
            toolResultsByName(fake.requestsFor(session ?? "", "main")).map((r) => [r.name, r.isError]),
          ).toEqual([
            ["Write", false],
            ["Bash", false],
            ["Bash", false],
          ])
          yield* killMidMerge(blocked)
          // The gates pass now; they note each run, to show the merge is tried again from the start.
          writeFileSync(join(root, ".huskies", "project.toml"), projectToml(recordingGate(marks, 0)))
          const second = yield* serve(root, env)
          // The next start reaps the orphaned gate (from its pid record) before it merges again.
          expect(gateProcesses(blocked.pgid)).toEqual([])
          expect(second.output()).toContain(`killed merge-gates (pid ${blocked.pgid}) on ${id}`)
          const call = yield* mcpClient(second.url)
          const stage = yield* awaitMergeEnd(call, id)
          expect(stage._tag).toBe("Done")
          const mergeCommit = stage.mergeCommit ?? ""
          expect(second.output()).toContain(`the merge of ${id} was running when an earlier server stopped`)
          expect(readFileSync(join(marks, "gates-again"), "utf8")).toBe("ran\n")
          expect((yield* call(MergeQueueList, "list_merge_queue")).jobs).toEqual([])
          yield* expectOneSquash(blocked, mergeCommit)
          // The workspace the kill left was replaced by the new attempt's, and that one removed.
          expect(existsSync(join(root, ".huskies", "merge", id))).toBe(false)
          expect(yield* worktreePaths(blocked.repo)).toEqual([root])
          yield* expectDoneOnDisk(blocked, second, mergeCommit)
          // No agent ran again after the restart: the fake was asked nothing it had no answer for.
          expect(mainSessions(fake)).toEqual([session])
          expect(fake.unexpected).toEqual([])
        }),
      ),
    120_000,
  )

  it.live(
    "killed after main moved but before the bookkeeping: the restart finishes it as Done without merging again",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const blocked = yield* mergeBlockedInGates(commandCoder)
          const { repo, root, marks, id, env, before, recorded } = blocked
          yield* killMidMerge(blocked)
          // What a kill right after the compare-and-swap leaves: the recorded squash commit is main's tip
          // (and the checkout of main moved with it, as Git.advanceBase does), the item still in Merge,
          // its job still running, its worktree, branch and merge workspace still there.
          yield* repo.git("update-ref", "-m", "huskies: squash merge", "refs/heads/main", recorded, before)
          yield* repo.git("read-tree", "-m", "-u", before, recorded)
          // A second merge would find nothing left to squash (or, if it got that far, fail these gates):
          // either way the item would end MergeFailed, not Done, and main would not be this commit.
          writeFileSync(join(root, ".huskies", "project.toml"), projectToml(recordingGate(marks, 1)))
          const second = yield* serve(root, env)
          const call = yield* mcpClient(second.url)
          const stage = yield* awaitMergeEnd(call, id)
          expect(stage).toMatchObject({ _tag: "Done", mergeCommit: recorded })
          expect(existsSync(join(marks, "gates-again"))).toBe(false)
          yield* expectOneSquash(blocked, recorded)
          // The workspace the killed server left is removed with the rest.
          expect(yield* worktreePaths(repo)).toEqual([root])
          expect(existsSync(join(root, ".huskies", "merge", id))).toBe(false)
          yield* expectDoneOnDisk(blocked, second, recorded)
        }),
      ),
    90_000,
  )
})
