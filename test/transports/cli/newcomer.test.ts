// test/transports/cli/newcomer.test.ts — the README's promise, end to end with the real processes: on a
// fresh repository a newcomer runs `huskies init` and `huskies serve`, files a story over MCP, and watches
// the default team (the real Claude Code CLI, against the fake model API) code it, QA it and merge it.
import { describe, expect, it } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect, Schema } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { defaultAgents } from "../../../src/domain/defaultTeam.js"
import { renderAgentsToml } from "../../../src/domain/renderConfig.js"
import { featureBranchOf, worktreePathOf } from "../../../src/layers/git/paths.js"
import { isRunning, processTree } from "../../../src/layers/Pty.js"
import { anySession, asMessagesRequest, fakeAnthropic, toolNamesOf } from "../../fakes/anthropic.js"
import { runCli, type RunningServer, startServer } from "../../support/cli.js"
import {
  bash,
  claudeServerEnv,
  lastUserText,
  mainSessions,
  mcp,
  toolResultsByName,
} from "../../support/claudePipeline.js"
import { makeGitRepo } from "../../support/gitRepo.js"
import { eventually } from "../../support/waits.js"

/**
 * A repository as a newcomer has it: one commit on main, with a test command huskies init can find. Its
 * tests pass, and note where they ran (in `gateRuns`, outside the repository) so the test sees the gates.
 */
const newcomerRepo = Effect.gen(function* () {
  const repo = yield* makeGitRepo()
  const gateRuns = join(repo.dir, "..", "gate-runs")
  yield* repo.write("README.md", "# greeter\n")
  yield* repo.write("Makefile", `test:\n\t@pwd -P >> ${gateRuns}\n\t@echo all tests pass\n`)
  yield* repo.git("add", "README.md", "Makefile")
  yield* repo.git("commit", "-q", "-m", "initial")
  return { repo, gateRuns }
})

const serve = (root: string, env: NodeJS.ProcessEnv) =>
  Effect.acquireRelease(
    Effect.promise(() => startServer(["serve", "--port", "0", root], { env })),
    // SIGTERM stops the agents with the server; SIGKILL only if it does not exit in time.
    (server) =>
      Effect.promise(() => server.kill("SIGTERM")).pipe(
        Effect.timeout("15 seconds"),
        Effect.catchAll(() => Effect.promise(() => server.kill("SIGKILL")).pipe(Effect.timeout("5 seconds"))),
        Effect.orDie,
      ),
  )

type CallTool = <A, I>(
  schema: Schema.Schema<A, I>,
  name: string,
  args: Record<string, unknown>,
  timeoutMs?: number,
) => Effect.Effect<A>

/** An MCP client of the server, as any MCP client connects; each call is bounded and decoded. */
const mcpClient = (server: RunningServer) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.promise(async () => {
        const client = new Client({ name: "newcomer", version: "1" })
        await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)))
        return client
      }).pipe(Effect.timeout("10 seconds"), Effect.orDie),
      (client) => Effect.promise(() => client.close()).pipe(Effect.timeout("5 seconds"), Effect.orDie),
    ),
    (client): CallTool =>
      (schema, name, args, timeoutMs = 10_000) =>
        Effect.promise(() =>
          client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs }),
        ).pipe(
          Effect.timeout(timeoutMs + 5_000),
          Effect.orDie,
          Effect.flatMap((r) =>
            r.isError === true || r.structuredContent === undefined
              ? Effect.dieMessage(`${name} failed: ${JSON.stringify(r.content)}\n${server.output()}`)
              : Effect.orDie(Schema.decodeUnknown(schema)(r.structuredContent)),
          ),
        ),
  )

const Stage = Schema.Struct({
  _tag: Schema.String,
  mergeCommit: Schema.optional(Schema.String),
  summary: Schema.String,
})
const Created = Schema.Struct({ story_id: Schema.String, stage: Schema.String })
const Status = Schema.Struct({
  stage: Stage,
  feedback: Schema.optional(Schema.String),
  content: Schema.String,
})
const Run = Schema.Struct({
  agent: Schema.String,
  role: Schema.String,
  outcome: Schema.String,
  reason: Schema.String,
  session_id: Schema.NullOr(Schema.String),
  log_path: Schema.String,
})
type Run = typeof Run.Type
const Waited = Schema.Struct({ still_running: Schema.Boolean, result: Schema.NullOr(Run) })
const Merged = Schema.Struct({
  merged: Schema.Boolean,
  merge_commit: Schema.NullOr(Schema.String),
  why: Schema.NullOr(Schema.String),
  stage: Stage,
})
const Worktrees = Schema.Struct({ worktrees: Schema.Array(Schema.Unknown) })

/**
 * Watches the item as a newcomer would: wait_for_agent while an agent runs (it blocks for the whole run),
 * a short pause between looks (starting up, gates), until the item reaches Merge or Done. Returns the
 * agent runs it saw, in order. Bounded; an archived item fails at once with its reason.
 */
const watchUntilMergeable = (call: CallTool, id: string, server: RunningServer) => {
  const runs: Array<Run> = []
  const look = Effect.gen(function* () {
    const { stage, feedback } = yield* call(Status, "status", { story_id: id })
    if (stage._tag === "Merge" || stage._tag === "Done") return runs
    if (stage._tag === "Archived")
      return yield* Effect.dieMessage(`${id} was archived: ${stage.summary}\n${feedback ?? ""}`)
    const { result } = yield* call(Waited, "wait_for_agent", { story_id: id, timeout_secs: 60 }, 65_000)
    if (result !== null && !runs.some((r) => r.log_path === result.log_path)) runs.push(result)
    return undefined
  })
  return eventually(`${id} to reach Merge`, look, {
    millis: 120_000,
    every: "200 millis",
    detail: () => server.output(),
  })
}

describe("a newcomer, following the README", () => {
  it.scopedLive(
    "inits a repo, serves it, files a story over MCP, and the default team takes it to Done",
    () =>
      Effect.gen(function* () {
        const fake = yield* fakeAnthropic
        const { repo, gateRuns } = yield* newcomerRepo
        const root = repo.dir
        // The newcomer's machine: git with an identity in ~/.gitconfig, Claude Code set up with an API key.
        const env = claudeServerEnv(repo, fake)

        // `npx huskies init <repo>`: the default team, the detected test command, one commit of its own.
        const init = yield* Effect.promise(() => runCli(["init", root], { env }))
        expect(init.stderr).toBe("")
        expect(init.code).toBe(0)
        expect(init.stdout).toContain("test command: make test (from Makefile)")
        expect(readFileSync(join(root, ".huskies", "agents.toml"), "utf8")).toBe(
          renderAgentsToml(defaultAgents),
        )
        expect(yield* repo.git("status", "--porcelain")).toBe("")
        const before = yield* repo.git("rev-parse", "main")

        // Ids are numbered from 1 in a fresh project; the coder's Write needs the worktree's path up front.
        const name = "Add a greeting"
        const id = "1_story_add_a_greeting"
        const worktree = worktreePathOf(root, id)
        // The server starts Claude Code without --session-id: one queue that the coder's session takes
        // first, then QA's. A mergemaster (or any session more) would find it exhausted.
        fake.script(anySession, [
          {
            text: "Writing it.",
            toolUses: [
              {
                name: "Write",
                input: { file_path: join(worktree, "greeting.txt"), content: "hello, huskies\n" },
              },
            ],
          },
          bash("git add greeting.txt && git commit -q -m 'Add greeting.txt'"),
          mcp("check_criterion", { story_id: id, criterion: 0 }),
          { text: "Done: greeting.txt is committed." },
          mcp("approve_qa", { story_id: id, notes: "greeting.txt says hello" }),
          { text: "Approved." },
        ])

        // `npx huskies serve <repo>` (on a free port), then create_story from an MCP client.
        const server = yield* serve(root, env)
        const call = yield* mcpClient(server)
        const created = yield* call(Created, "create_story", {
          name,
          acceptance_criteria: ["greeting.txt says hello"],
        })
        expect(created.story_id).toBe(id)

        const runs = yield* watchUntilMergeable(call, id, server)
        const merge = yield* call(Merged, "merge_agent_work", { story_id: id }, 60_000)
        expect(merge).toMatchObject({ merged: true, why: null, stage: { _tag: "Done" } })
        const mergeCommit = merge.merge_commit ?? ""
        expect(mergeCommit).toMatch(/^[0-9a-f]{40}$/)
        // QA may still have been exiting when its approval moved the item: its run ends by itself.
        const last = yield* call(Waited, "wait_for_agent", { story_id: id, timeout_secs: 30 }, 35_000)
        if (last.result !== null && !runs.some((r) => r.log_path === last.result?.log_path))
          runs.push(last.result)

        // Done, with the squash commit, the criterion ticked.
        const done = yield* call(Status, "status", { story_id: id })
        expect(done.stage).toMatchObject({ _tag: "Done", mergeCommit })
        expect(done.content).toContain("- [x] greeting.txt says hello")

        // main moved by exactly one commit on the old tip: the squash, with exactly the coder's file.
        expect(yield* repo.git("rev-parse", "main")).toBe(mergeCommit)
        expect(yield* repo.git("rev-list", "--count", `${before}..main`)).toBe("1")
        expect(yield* repo.git("rev-parse", "main~1")).toBe(before)
        expect(yield* repo.git("log", "-1", "--format=%s", "main")).toBe(`${name} (${id})`)
        expect(yield* repo.git("diff", "--name-only", `${before}..main`)).toBe("greeting.txt")
        expect(yield* repo.git("show", "main:greeting.txt")).toBe("hello, huskies")
        // The newcomer's checkout of main shows it, with nothing left staged or changed.
        expect(yield* repo.read("greeting.txt")).toBe("hello, huskies\n")
        expect(yield* repo.git("status", "--porcelain")).toBe("")

        // The worktree and the feature branch are gone.
        expect(existsSync(worktree)).toBe(false)
        expect(
          (yield* repo.gitResult("rev-parse", "--verify", "--quiet", featureBranchOf(id))).code,
        ).not.toBe(0)
        const worktrees = (yield* repo.git("worktree", "list", "--porcelain")).split("\n")
        expect(worktrees.filter((line) => line.startsWith("worktree "))).toEqual([`worktree ${root}`])
        expect((yield* call(Worktrees, "list_worktrees", {})).worktrees).toEqual([])

        // The gates ran when the coder exited (in its worktree), then on the merged result.
        expect(readFileSync(gateRuns, "utf8")).toBe(`${worktree}\n${join(root, ".huskies", "merge", id)}\n`)

        // Two agent runs, the default team's coder then its QA, and no mergemaster.
        expect(runs.map((r) => [r.agent, r.role, r.outcome])).toEqual([
          ["coder-1", "coder", "succeeded"],
          ["qa", "qa", "succeeded"],
        ])
        // The fake saw exactly those two Claude Code sessions, each take its turns, and nothing else.
        const [coder, qa] = runs.map((r) => r.session_id ?? "")
        expect(mainSessions(fake)).toEqual([coder, qa])
        const coderRequests = fake.requestsFor(coder ?? "", "main")
        expect(coderRequests).toHaveLength(4)
        const qaRequests = fake.requestsFor(qa ?? "", "main")
        expect(qaRequests).toHaveLength(2)
        // Each was started as init's agents.toml says: the stage's default prompt, the sonnet model.
        expect(lastUserText(coderRequests[0]!)).toContain(`You are a coder agent working on story ${id}.`)
        expect(lastUserText(qaRequests[0]!)).toContain(`You are the QA agent for story ${id}.`)
        for (const request of [...coderRequests, ...qaRequests])
          expect(asMessagesRequest(request.body).model).toMatch(/sonnet/)
        expect(toolNamesOf(coderRequests[0]!)).toEqual(
          expect.arrayContaining([
            "Write",
            "Bash",
            "mcp__huskies__check_criterion",
            "mcp__huskies__approve_qa",
          ]),
        )
        expect(toolResultsByName(coderRequests).map((r) => [r.name, r.isError])).toEqual([
          ["Write", false],
          ["Bash", false],
          ["mcp__huskies__check_criterion", false],
        ])
        expect(toolResultsByName(qaRequests).map((r) => [r.name, r.isError])).toEqual([
          ["mcp__huskies__approve_qa", false],
        ])
        expect(fake.unexpected).toEqual([])

        // Nothing the server started is still running: no agent, no gate.
        const pid = server.child.pid ?? -1
        expect(processTree(pid).filter((p) => p !== pid && isRunning(p))).toEqual([])
      }),
    180_000,
  )
})
