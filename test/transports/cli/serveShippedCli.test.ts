// test/transports/cli/serveShippedCli.test.ts — `node bin/huskies.js serve`, not npx, with a PATH that has
// no node_modules/.bin and no claude on it: the default team's coder still runs, on the Claude Code CLI
// huskies ships with (against the fake model API), instead of waiting on a "not an executable file" retry.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { accessSync, constants } from "node:fs"
import { delimiter, dirname, join } from "node:path"
import { anySession, fakeAnthropic } from "../../fakes/anthropic.js"
import { claudeBin } from "../../support/claude.js"
import { callTool, claudeServerEnv } from "../../support/claudePipeline.js"
import { runCli, startServer } from "../../support/cli.js"
import { makeGitRepo } from "../../support/gitRepo.js"
import { eventually } from "../../support/waits.js"

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

describe("huskies serve started with node, not npx", () => {
  it.scopedLive(
    "the default team finds the Claude Code CLI huskies ships with",
    () =>
      Effect.gen(function* () {
        const fake = yield* fakeAnthropic
        const repo = yield* makeGitRepo({ initialCommit: true })
        const env = claudeServerEnv(repo, fake)
        // What npx (and the test helpers) add is taken away: no node_modules/.bin, no claude on PATH.
        const path = (env["PATH"] ?? "")
          .split(delimiter)
          .filter((dir) => dir !== "" && !dir.includes("node_modules") && dir !== dirname(claudeBin))
        expect(path.filter((dir) => executable(join(dir, "claude")))).toEqual([])
        fake.script(anySession, [{ text: "Nothing to change." }])
        const init = yield* Effect.promise(() => runCli(["init", repo.dir], { env }))
        expect(init.code).toBe(0)

        const server = yield* Effect.acquireRelease(
          Effect.promise(() =>
            startServer(["serve", "--port", "0", repo.dir], { env: { ...env, PATH: path.join(delimiter) } }),
          ),
          // SIGTERM stops the agents with the server; SIGKILL only if it does not exit in time.
          (s) =>
            Effect.promise(() => s.kill("SIGTERM")).pipe(
              Effect.timeout("15 seconds"),
              Effect.catchAll(() => Effect.promise(() => s.kill("SIGKILL"))),
            ),
        )
        const created = yield* callTool(server.url, "create_story", { name: "Say hello" })
        const id = String(created.value["story_id"])
        // The coder's run ends (it only answers once); a start that failed would leave no run at all.
        const result = yield* eventually(
          "the coder's run to end",
          Effect.map(
            callTool(server.url, "wait_for_agent", { story_id: id, timeout_secs: 1 }),
            (waited) => (waited.value["result"] as Record<string, unknown> | null) ?? undefined,
          ),
          { millis: 75_000, every: "250 millis" },
        )
        expect(server.output()).not.toContain("not an executable file")
        expect(result).toMatchObject({ agent: "coder-1", role: "coder" })
        // The CLI really ran: it reported its session, and the fake API heard from it.
        expect(result?.["session_id"]).toEqual(expect.any(String))
        expect(fake.requests.some((r) => r.kind === "main")).toBe(true)
      }),
    90_000,
  )
})
