// test/transports/tools/testTools.test.ts — run_tests in a real worktree: blocks and returns the
// whole result, a concurrent call joins the running one, progress arrives while it runs, and
// get_test_result shows the last run.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { toolRegistry } from "../../../src/transports/tools/registry.js"
import { err, ok } from "../../support/tools.js"
import { eventually, holds } from "../../support/waits.js"
import { featureWork, withGitProject, worktreeOf, writeConfig } from "./gitProject.js"

const projectToml = (test: string) => `[commands]\ntest = ${JSON.stringify(test)}\n`

describe("run_tests", () => {
  it.live("returns pass or fail with exit code and output tail; get_test_result keeps the last", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        yield* writeConfig(repo, ".huskies/project.toml", projectToml("sh check.sh"))
        const id = String((yield* ok("create_story", { name: "Add login" }))["story_id"])
        const noWorktree = yield* err("run_tests", { story_id: id })
        expect(noWorktree).toContain("has no worktree")
        yield* featureWork(repo, id, 1)
        yield* repo.write(`${worktreeOf(id)}/check.sh`, "echo 3 tests passed\n")
        const passed = yield* ok("run_tests", { story_id: id })
        expect(passed).toMatchObject({ passed: true, exit_code: 0, output_tail: "3 tests passed\n" })
        yield* repo.write(`${worktreeOf(id)}/check.sh`, "echo 'FAIL login.test.ts' >&2; exit 1\n")
        const failed = yield* ok("run_tests", { story_id: id })
        expect(failed).toMatchObject({ passed: false, exit_code: 1, joined_running: false })
        expect(String(failed["output_tail"])).toContain("FAIL login.test.ts")
        const last = yield* ok("get_test_result", { story_id: id })
        expect(last).toMatchObject({ running: false, last: { passed: false, exit_code: 1 } })
      }),
    ),
  )

  it.live(
    "a second call while tests run joins that run, and progress is reported meanwhile",
    () =>
      withGitProject((repo) =>
        Effect.gen(function* () {
          yield* writeConfig(repo, ".huskies/project.toml", projectToml("sleep 6; echo done"))
          const id = String((yield* ok("create_story", { name: "Slow tests" }))["story_id"])
          yield* featureWork(repo, id, 1)
          const progress = yield* Ref.make<Array<string>>([])
          const context = {
            progress: (_p: number, _t?: number, message?: string) =>
              Ref.update(progress, (all) => [...all, message ?? ""]),
          }
          const [a, b] = yield* Effect.all(
            [
              toolRegistry.call("run_tests", { story_id: id }, context),
              eventually(
                "the first run to start",
                Effect.map(ok("get_test_result", { story_id: id }), (r) => holds(r["running"] === true)),
              ).pipe(
                Effect.zipRight(
                  toolRegistry.call("run_tests", { story_id: id }, { progress: () => Effect.void }),
                ),
              ),
            ],
            { concurrency: 2 },
          )
          expect(a._tag === "Ok" && (a.value as { joined_running: boolean }).joined_running).toBe(false)
          expect(b._tag === "Ok" && (b.value as { joined_running: boolean }).joined_running).toBe(true)
          expect((yield* Ref.get(progress)).some((m) => m.includes("running for"))).toBe(true)
        }),
      ),
    20_000,
  )

  it.live("says how to configure a missing test command", () =>
    withGitProject(() =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "x" }))["story_id"])
        expect(yield* err("run_tests", { story_id: id })).toContain("[commands] test")
      }),
    ),
  )
})

describe("prompt_permission", () => {
  it.effect(
    "applies [permissions]: pushing is denied by default, a deny rule wins, every decision is logged",
    () =>
      withGitProject((repo) =>
        Effect.gen(function* () {
          const push = yield* ok("prompt_permission", {
            tool_name: "Bash",
            input: { command: "git push origin HEAD" },
          })
          expect(push["behavior"]).toBe("deny")
          expect(push["message"]).toContain('the deny rule "Bash(*git push*)"')
          yield* writeConfig(
            repo,
            ".huskies/project.toml",
            '[permissions]\ndefault = "deny"\nallow = ["Bash(npm *)"]\n',
          )
          expect(
            yield* ok("prompt_permission", { tool_name: "Bash", input: { command: "npm test" } }),
          ).toEqual({
            behavior: "allow",
            updatedInput: { command: "npm test" },
          })
          const other = yield* ok("prompt_permission", {
            tool_name: "WebFetch",
            input: { url: "https://x.invalid" },
          })
          expect(other["behavior"]).toBe("deny")
          const logs = yield* ok("server_logs", { text: "denied WebFetch" })
          expect((logs["entries"] as Array<{ component: string }>)[0]?.component).toBe("permissions")
        }),
      ),
  )

  it.effect("allows under the default policy, echoing the input, and logs the decision", () =>
    withGitProject(() =>
      Effect.gen(function* () {
        const answer = yield* ok("prompt_permission", { tool_name: "Bash", input: { command: "npm test" } })
        expect(answer).toEqual({ behavior: "allow", updatedInput: { command: "npm test" } })
        const logs = yield* ok("server_logs", { text: "allowed Bash" })
        expect((logs["entries"] as Array<{ component: string }>)[0]?.component).toBe("permissions")
        expect(yield* err("prompt_permission", { tool_name: "Bash" })).toContain(
          'missing required parameter "input"',
        )
      }),
    ),
  )
})
