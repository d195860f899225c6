// test/layers/GitAgentSetup.test.ts — what the Git service does for an agent about to run, against real
// repositories in temp dirs: launch files kept out of commits through the shared exclude file (once, from a
// linked worktree too), and an identity supplied only when the agent's own git has none.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { excludeFromGit, identityFallbackEnv } from "../../src/actors/agentFiles.js"
import { Git } from "../../src/layers/Git.js"
import { LogsLive } from "../../src/layers/Logs.js"
import { type GitEnv, makeGitRepo, makeTempDir } from "../support/gitRepo.js"

/** The agent's environment as AgentActor builds it: the repository's isolated git settings, strings only. */
const agentEnv = (env: GitEnv): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  )

const launchFile = (dir: string, name: string) => ({ path: path.join(dir, name), content: "x" })

describe("Git for an agent's run", () => {
  it.scoped("excludes launch files in the shared exclude file, each line once, from a linked worktree", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo({ initialCommit: true })
      const git = yield* Effect.provide(Git, Git.layerWith({ env: repo.env }))
      const worktree = (yield* git.createWorktree(repo.dir, "1_story_a", "main")).path
      // An exclude file whose last line has no newline yet.
      yield* repo.write(".git/info/exclude", "# mine\n*.tmp")
      const files = [launchFile(worktree, ".huskies-prompt.md"), launchFile(worktree, "sub/.mcp.json")]
      for (const file of files) {
        yield* Effect.promise(() => fs.mkdir(path.dirname(file.path), { recursive: true }))
        yield* Effect.promise(() => fs.writeFile(file.path, file.content))
      }
      for (let i = 0; i < 2; i++)
        yield* excludeFromGit(worktree, files).pipe(Effect.provide(Layer.succeed(Git, git)))
      expect(yield* repo.read(".git/info/exclude")).toBe("# mine\n*.tmp\n.huskies-prompt.md\nsub/.mcp.json\n")
      const status = yield* repo.git("-C", worktree, "status", "--porcelain")
      expect(status).toBe("")
    }),
  )

  it.scoped("outside a repository the exclusion is logged, never a failure", () =>
    Effect.gen(function* () {
      const plain = yield* makeTempDir()
      const lines: Array<string> = []
      yield* excludeFromGit(plain.dir, [launchFile(plain.dir, ".mcp.json")]).pipe(
        Effect.provide(Git.layerWith({ env: plain.env })),
        Effect.provide(LogsLive({ write: (line) => void lines.push(line) })),
      )
      expect(lines.join("")).toContain(`launch files are not excluded from git in ${plain.dir}`)
    }),
  )

  it.scoped(
    "supplies an identity only when the agent's git has none, keeping what its environment says",
    () =>
      Effect.gen(function* () {
        const known = yield* makeGitRepo({ initialCommit: true })
        const unknown = yield* makeGitRepo({ identity: false })
        // The service's own environment knows nobody: the agent's environment is the one asked.
        const layer = Git.layerWith({ env: unknown.env })
        expect(
          yield* identityFallbackEnv(known.dir, agentEnv(known.env)).pipe(Effect.provide(layer)),
        ).toEqual({})
        expect(
          yield* identityFallbackEnv(unknown.dir, agentEnv(unknown.env)).pipe(Effect.provide(layer)),
        ).toEqual({
          GIT_AUTHOR_NAME: "huskies",
          GIT_AUTHOR_EMAIL: "huskies@localhost",
          GIT_COMMITTER_NAME: "huskies",
          GIT_COMMITTER_EMAIL: "huskies@localhost",
        })
        const partly = { ...agentEnv(unknown.env), GIT_AUTHOR_NAME: "Ada" }
        expect(
          yield* identityFallbackEnv(unknown.dir, partly).pipe(Effect.provide(layer)),
        ).not.toHaveProperty("GIT_AUTHOR_NAME")
      }),
  )

  it.scoped("trusts a known committer for a minute, and never keeps a missing one", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo({ identity: false })
      const git = yield* Effect.provide(Git, Git.layerWith({ env: repo.env }))
      const env = agentEnv(repo.env)
      expect(yield* git.knowsCommitter(repo.dir, env)).toBe(false)
      // A fix applies at once: a "no" was not kept.
      yield* repo.git("config", "user.name", "Ada")
      yield* repo.git("config", "user.email", "ada@example.invalid")
      yield* repo.git("config", "user.useConfigOnly", "true")
      expect(yield* git.knowsCommitter(repo.dir, env)).toBe(true)
      yield* repo.git("config", "--unset", "user.name")
      // Within the minute the "yes" stands without asking git again; after it, git is asked.
      expect(yield* git.knowsCommitter(repo.dir, env)).toBe(true)
      yield* TestClock.adjust("61 seconds")
      expect(yield* git.knowsCommitter(repo.dir, env)).toBe(false)
    }),
  )
})
