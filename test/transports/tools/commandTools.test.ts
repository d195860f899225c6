// test/transports/tools/commandTools.test.ts — run_lint and run_build return run_tests' result for their
// own commands; run_command runs allowlisted programs without a shell inside the item's real worktree,
// refusing shells, paths and working directories that leave it, and git commands that move branches.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import { err, ok } from "../../support/tools.js"
import { featureWork, withGitProject, worktreeOf, writeConfig } from "./gitProject.js"

describe("run_lint and run_build", () => {
  it.live("run their own [commands] in the worktree and return the whole result", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        yield* writeConfig(
          repo,
          ".huskies/project.toml",
          '[commands]\ntest = "echo tests"\nlint = "echo linted; exit 3"\nbuild = "echo built > out.txt"\n',
        )
        const id = String((yield* ok("create_story", { name: "Gates" }))["story_id"])
        expect(yield* err("run_lint", { story_id: id })).toContain("has no worktree")
        yield* featureWork(repo, id, 0)
        const lint = yield* ok("run_lint", { story_id: id })
        expect(lint).toMatchObject({
          story_id: id,
          command: "echo linted; exit 3",
          passed: false,
          exit_code: 3,
          output_tail: "linted\n",
          joined_running: false,
        })
        expect(String(lint["log_path"])).toContain(`/.huskies/logs/${id}/lint-`)
        expect(yield* ok("run_build", { story_id: id })).toMatchObject({ passed: true, exit_code: 0 })
        expect(yield* repo.read(`${worktreeOf(id)}/out.txt`)).toBe("built\n")
        // Lint and build results are kept apart from the tests' result.
        expect(yield* ok("get_test_result", { story_id: id })).toMatchObject({ last: null })
      }),
    ),
  )

  it.live("say how to configure a missing command", () =>
    withGitProject(() =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "x" }))["story_id"])
        expect(yield* err("run_lint", { story_id: id })).toContain("[commands] lint")
        expect(yield* err("run_build", { story_id: id })).toContain("[commands] build")
      }),
    ),
  )
})

describe("run_command", () => {
  it.live("runs a program without a shell in the worktree or a directory inside it", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Cmd" }))["story_id"])
        yield* featureWork(repo, id, 1)
        yield* repo.write(`${worktreeOf(id)}/src/a.txt`, "alpha\nbeta\n")
        const echo = yield* ok("run_command", { story_id: id, command: ["echo", "$HOME", "a;b", "*"] })
        expect(echo).toMatchObject({ exit_code: 0, timed_out: false, output_tail: "$HOME a;b *\n" })
        expect(echo["cwd"]).toBe(yield* Effect.promise(() => fs.realpath(`${repo.dir}/${worktreeOf(id)}`)))
        const grep = yield* ok("run_command", {
          story_id: id,
          command: ["grep", "beta", "a.txt"],
          cwd: "src",
        })
        expect(grep).toMatchObject({ exit_code: 0, output_tail: "beta\n" })
        const failed = yield* ok("run_command", { story_id: id, command: ["false"] })
        expect(failed).toMatchObject({ exit_code: 1, timed_out: false })
        const log = yield* ok("run_command", {
          story_id: id,
          command: ["git", "log", "--format=%s", "main..HEAD"],
        })
        expect(log["output_tail"]).toBe("work 0\n")
        const gitDiff = yield* ok("run_command", {
          story_id: id,
          command: ["git", "diff", "--stat", "--", "src"],
        })
        expect(gitDiff["exit_code"]).toBe(0)
      }),
    ),
  )

  it.live("kills a program that runs past timeout_secs", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Slow" }))["story_id"])
        yield* featureWork(repo, id, 0)
        const slow = yield* ok("run_command", {
          story_id: id,
          command: ["node", "-e", "setTimeout(() => {}, 60000)"],
          timeout_secs: 1,
        })
        expect(slow).toMatchObject({ timed_out: true, timeout_secs: 1 })
        expect(Number(slow["duration_ms"])).toBeLessThan(10_000)
      }),
    ),
  )

  it.live("refuses shells, other programs, paths and directories outside the worktree", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Confined" }))["story_id"])
        yield* featureWork(repo, id, 0)
        const wt = `${repo.dir}/${worktreeOf(id)}`
        yield* Effect.promise(() => fs.symlink(repo.dir, `${wt}/up`))
        const refusals: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
          [{ command: [] }, "command is empty"],
          [{ command: ["sh", "-c", "rm -rf /"] }, "shells are not allowed"],
          [{ command: ["bash", "-c", "true"] }, "shells are not allowed"],
          [{ command: ["curl", "http://example.com"] }, "not an allowed program"],
          [{ command: ["/bin/ls"] }, "is a path"],
          [{ command: ["./node_modules/.bin/x"] }, "is a path"],
          [{ command: ["cat", "/etc/passwd"] }, "outside the worktree"],
          [{ command: ["cat", "../../../README.md"] }, "outside the worktree"],
          [{ command: ["cat", "up/README.md"] }, "symlink that leads outside"],
          [{ command: ["grep", "-r", "--include=../x", "y"] }, "outside the worktree"],
          [{ command: ["ls"], cwd: ".." }, "outside the worktree"],
          [{ command: ["ls"], cwd: "up" }, "outside the worktree"],
          [{ command: ["ls"], cwd: "missing" }, "is not a directory"],
          [{ command: ["find", ".", "-delete"] }, "find -delete is refused"],
          [{ command: ["find", ".", "-exec", "rm", "{}", ";"] }, "find -exec is refused"],
          [{ command: ["find", ".", "-fprint", "list.txt"] }, "find -fprint is refused"],
          [{ command: ["rg", "--pre=./x", "y"] }, "rg --pre is refused"],
          [{ command: ["git", "push", "origin", "HEAD"] }, "git push is refused"],
          [{ command: ["git", "checkout", "main"] }, "git checkout is refused"],
          [{ command: ["git", "-C", ".", "switch", "main"] }, "git switch is refused"],
          [{ command: ["git", "rebase", "main"] }, "git rebase is refused"],
          [{ command: ["git", "reset", "--hard", "HEAD~1"] }, "git reset --hard is refused"],
          [{ command: ["git", "branch", "-D", "main"] }, "git branch -D is refused"],
          [{ command: ["git", "worktree", "list"] }, "git worktree is refused"],
          [{ command: ["git", `--git-dir=${repo.dir}/.git`, "log"] }, "another repository"],
          [{ command: ["git", "--work-tree", "..", "status"] }, "another repository"],
          [{ command: ["git", "-C", repo.dir, "log"] }, "outside the worktree"],
          [{ command: ["git", "-C", "up", "log"] }, "symlink that leads outside"],
          [{ command: ["git", "-C", "src", "-C", "../..", "log"] }, "outside the worktree"],
          [{ command: ["git", "-C", ".", "push", "origin", "HEAD"] }, "git push is refused"],
          [{ command: ["git", "--no-pager", "send-pack", "origin"] }, "git send-pack is refused"],
          [{ command: ["git", "-c", "core.pager=less", "log"] }, "git -c is refused"],
          [{ command: ["git", "--config-env=alias.x=HOME", "x"] }, "git --config-env is refused"],
          [{ command: ["git", "--exec-path=.", "status"] }, "git --exec-path is refused"],
          [
            { command: ["git", "config", "alias.x", "!id > pwned.txt"] },
            "git config <name> <value> is refused",
          ],
          [{ command: ["git", "config", "--add", "core.hooksPath", "hooks"] }, "git config --add is refused"],
          [{ command: ["git", "x"] }, "aliases are not run"],
          [
            { command: ["git", "submodule", "foreach", "id"] },
            "not one of the git commands run_command runs",
          ],
          [{ command: ["git", "log", "--help"] }, "git help is refused"],
          [{ command: ["git", "grep", "-Oid", "x"] }, "git grep -O is refused"],
          [{ command: ["git", "fetch", "--upload-pack=id", "."] }, "git fetch --upload-pack is refused"],
          [{ command: ["git", "fetch", "origin", "main:main"] }, "would move a local branch"],
          [{ command: ["git", "merge", "-s", "evil", "main"] }, 'strategy "evil" is refused'],
          [{ command: ["git", "diff", "--ext-diff"] }, "git diff --ext-diff is refused"],
          [{ command: ["git", "archive", "--remote=x", "HEAD"] }, "git archive --remote is refused"],
          [{ command: ["git", "remote", "add", "x", "ext::sh -c id"] }, "git remote add is refused"],
          [{ command: ["git", "--frobnicate", "status"] }, "not an option git knows"],
        ]
        for (const [args, why] of refusals) {
          expect(yield* err("run_command", { story_id: id, ...args })).toContain(why)
        }
        // git commands that do not move branches still run.
        expect(
          yield* ok("run_command", { story_id: id, command: ["git", "branch", "scratch"] }),
        ).toMatchObject({ exit_code: 0 })
        expect(
          yield* ok("run_command", { story_id: id, command: ["git", "reset", "--soft", "HEAD"] }),
        ).toMatchObject({ exit_code: 0 })
        const read = yield* ok("run_command", {
          story_id: id,
          command: ["git", "config", "--get", "core.bare"],
        })
        expect(read).toMatchObject({ exit_code: 0, output_tail: "false\n" })
      }),
    ),
  )

  it.live("never lets git run a shell: aliases, hooks and config on the command line do not run", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "No shell" }))["story_id"])
        yield* featureWork(repo, id, 0)
        const wt = worktreeOf(id)
        // The alias is refused as a config write; one that got into the config some other way never runs.
        expect(
          yield* err("run_command", {
            story_id: id,
            command: ["git", "config", "alias.x", "!id > pwned.txt"],
          }),
        ).toContain("not change them")
        yield* repo.git("config", "alias.x", "!id > pwned.txt")
        expect(yield* err("run_command", { story_id: id, command: ["git", "x"] })).toContain(
          "aliases are not run",
        )
        expect(yield* repo.exists(`${wt}/pwned.txt`)).toBe(false)
        // A hook in the repository (the worktree shares it) and one named by core.hooksPath never run.
        yield* repo.write(".git/hooks/pre-commit", "#!/bin/sh\nid > hooked.txt\n")
        yield* repo.write(`${wt}/hooks/pre-commit`, "#!/bin/sh\nid > hooked-too.txt\n")
        yield* Effect.promise(() => fs.chmod(`${repo.dir}/.git/hooks/pre-commit`, 0o755))
        yield* Effect.promise(() => fs.chmod(`${repo.dir}/${wt}/hooks/pre-commit`, 0o755))
        yield* repo.git("config", "user.name", "Agent")
        yield* repo.git("config", "user.email", "agent@huskies.invalid")
        const commit = yield* ok("run_command", {
          story_id: id,
          command: ["git", "commit", "--allow-empty", "-m", "no hooks"],
        })
        expect(commit).toMatchObject({ exit_code: 0 })
        yield* repo.git("config", "core.hooksPath", "hooks")
        yield* ok("run_command", {
          story_id: id,
          command: ["git", "commit", "--allow-empty", "-m", "still none"],
        })
        expect(yield* repo.exists(`${wt}/hooked.txt`)).toBe(false)
        expect(yield* repo.exists(`${wt}/hooked-too.txt`)).toBe(false)
        expect(yield* repo.git("-C", wt, "log", "--format=%s", "-2")).toBe("still none\nno hooks")
      }),
    ),
  )

  it.live("git -c alias.p=push p pushes nothing", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "No push" }))["story_id"])
        yield* featureWork(repo, id, 1)
        const remote = `${repo.dir}/.huskies/remote.git`
        yield* repo.git("init", "--quiet", "--bare", remote)
        yield* repo.git("remote", "add", "origin", remote)
        for (const command of [
          ["git", "-c", "alias.p=push", "p", "origin", "HEAD"],
          ["git", "-c", "alias.p=!git push origin HEAD", "p"],
          ["git", "-C", ".", "push", "origin", "HEAD"],
          ["git", "send-pack", remote, "HEAD"],
        ]) {
          expect(yield* err("run_command", { story_id: id, command })).toContain("is refused")
        }
        expect(yield* repo.git("--git-dir", remote, "for-each-ref")).toBe("")
      }),
    ),
  )

  it.live("runs git without the server's GIT_* variables", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Clean env" }))["story_id"])
        yield* featureWork(repo, id, 0)
        const other = `${repo.dir}/.huskies/other.git`
        yield* repo.git("init", "--quiet", "--bare", other)
        const saved = { dir: process.env["GIT_DIR"], count: process.env["GIT_CONFIG_COUNT"] }
        yield* Effect.acquireRelease(
          Effect.sync(() => {
            // A server started from inside a git hook inherits GIT_DIR; GIT_CONFIG_* injects settings.
            process.env["GIT_DIR"] = other
            process.env["GIT_CONFIG_COUNT"] = "1"
            process.env["GIT_CONFIG_KEY_0"] = "core.abbrev"
            process.env["GIT_CONFIG_VALUE_0"] = "20"
          }),
          () =>
            Effect.sync(() => {
              for (const [name, value] of [
                ["GIT_DIR", saved.dir],
                ["GIT_CONFIG_COUNT", saved.count],
                ["GIT_CONFIG_KEY_0", undefined],
                ["GIT_CONFIG_VALUE_0", undefined],
              ] as const) {
                if (value === undefined) delete process.env[name]
                else process.env[name] = value
              }
            }),
        )
        const gitDir = yield* ok("run_command", {
          story_id: id,
          command: ["git", "rev-parse", "--git-common-dir"],
        })
        expect(String(gitDir["output_tail"]).trim()).toBe(
          yield* Effect.promise(() => fs.realpath(`${repo.dir}/.git`)),
        )
        const abbrev = yield* ok("run_command", {
          story_id: id,
          command: ["git", "config", "--get", "core.abbrev"],
        })
        expect(abbrev["exit_code"]).toBe(1)
      }),
    ),
  )

  it.live("fails clearly without a worktree", () =>
    withGitProject(() =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Nowhere" }))["story_id"])
        expect(yield* err("run_command", { story_id: id, command: ["ls"] })).toContain("has no worktree")
      }),
    ),
  )
})
