// test/layers/Scaffold.test.ts — `huskies init` against real git repositories in temp dirs: what it
// writes, what it commits (only its own files), idempotence, stack detection and .gitignore handling.
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { defaultAgents } from "../../src/domain/defaultTeam.js"
import { loadConfig } from "../../src/layers/Config.js"
import { detectStackFrom } from "../../src/layers/detectStack.js"
import {
  commitMessage,
  gitignoreEntries,
  initProject,
  missingGitignoreEntries,
} from "../../src/layers/Scaffold.js"
import { makeGitRepo, makeTempDir, type TempDir } from "../support/gitRepo.js"

const init = (repo: TempDir, dir: string = repo.dir) =>
  initProject(dir, { gitEnv: repo.env }).pipe(Effect.provide(NodeFileSystem.layer))
const load = (dir: string) => loadConfig(dir).pipe(Effect.provide(NodeFileSystem.layer))

const scaffold = [".huskies/project.toml", ".huskies/agents.toml", ".huskies/README.md", ".gitignore"]

const commitCount = (repo: TempDir) =>
  Effect.map(repo.gitResult("rev-list", "--count", "HEAD"), (r) =>
    r.code === 0 ? Number(r.stdout.trim()) : 0,
  )
const filesIn = (repo: TempDir, rev: string) =>
  Effect.map(repo.git("show", "--name-only", "--format=", rev), (out) =>
    out
      .split("\n")
      .filter((l) => l !== "")
      .sort(),
  )

describe("initProject", () => {
  it.scoped("refuses a directory that is not in a git work tree, saying what to do", () =>
    Effect.gen(function* () {
      const plain = yield* makeTempDir()
      const error = yield* Effect.flip(init(plain))
      expect(error._tag).toBe("NotAGitWorkTree")
      expect(error.message).toContain(`${plain.dir} is not inside a git work tree`)
      expect(error.message).toContain('run "git init" there')
      expect(yield* plain.exists(".huskies")).toBe(false)
    }),
  )

  it.scoped("refuses a path that does not exist", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo()
      const error = yield* Effect.flip(init(repo, `${repo.dir}/nope`))
      expect(error._tag).toBe("ScaffoldError")
      expect(error.message).toContain("the directory does not exist")
    }),
  )

  it.scoped("scaffolds a repository with no commits yet and commits exactly its files", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo()
      const report = yield* init(repo)
      expect(report.created).toEqual(scaffold)
      expect(report.kept).toEqual([])
      expect(report.baseBranch).toBe("main")
      expect(report.repoRoot).toBe(repo.dir)
      expect(Option.isSome(report.commit)).toBe(true)
      expect(yield* commitCount(repo)).toBe(1)
      expect(yield* filesIn(repo, "HEAD")).toEqual([...scaffold].sort())
      expect(yield* repo.git("log", "-1", "--format=%s")).toBe(commitMessage)
      expect(yield* repo.git("rev-parse", "HEAD")).toBe(Option.getOrThrow(report.commit))
      expect(yield* repo.git("status", "--porcelain")).toBe("")
      // What init wrote is what the server loads: the default team and the detected branch.
      const config = yield* load(repo.dir)
      expect(config.sources.project._tag).toBe("File")
      expect(config.agents).toEqual(defaultAgents)
      expect(config.project.baseBranch).toBe("main")
      expect(yield* repo.read(".huskies/README.md")).toContain("Backlog -> Coding -> QA -> Merge -> Done")
    }),
  )

  it.scoped("writes the repository's current branch as the base branch", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo({ branch: "trunk", initialCommit: true })
      const report = yield* init(repo)
      expect(report.baseBranch).toBe("trunk")
      expect((yield* load(repo.dir)).project.baseBranch).toBe("trunk")
    }),
  )

  it.scoped("falls back to main on a detached HEAD, and says so", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo({ branch: "trunk", initialCommit: true })
      yield* repo.git("checkout", "--quiet", "--detach")
      const report = yield* init(repo)
      expect(report.baseBranch).toBe("main")
      expect(report.notes).toContainEqual(expect.stringContaining("HEAD is detached"))
    }),
  )

  it.scoped("is idempotent: a second run changes nothing and makes no commit", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo({ initialCommit: true })
      yield* init(repo)
      const head = yield* repo.git("rev-parse", "HEAD")
      const again = yield* init(repo)
      expect(again.created).toEqual([])
      expect(again.updated).toEqual([])
      expect(again.kept).toEqual(scaffold)
      expect(Option.isNone(again.commit)).toBe(true)
      expect(yield* repo.git("rev-parse", "HEAD")).toBe(head)
      expect(yield* commitCount(repo)).toBe(2)
      expect(yield* repo.git("status", "--porcelain")).toBe("")
    }),
  )

  it.scoped("leaves the user's staged and unstaged changes alone", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo({ initialCommit: true })
      yield* repo.write("staged.txt", "mine, staged\n")
      yield* repo.git("add", "--", "staged.txt")
      yield* repo.write("README.md", "# edited but not staged\n")
      yield* repo.write("untracked.txt", "mine, untracked\n")
      yield* init(repo)
      expect(yield* filesIn(repo, "HEAD")).toEqual([...scaffold].sort())
      expect(yield* repo.git("diff", "--cached", "--name-only")).toBe("staged.txt")
      expect(yield* repo.git("diff", "--name-only")).toBe("README.md")
      expect(yield* repo.git("ls-files", "--others", "--exclude-standard")).toBe("untracked.txt")
    }),
  )

  it.scoped("never overwrites a file the user already has, and does not commit it", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo()
      const mine = '[[agent]]\nname = "mine"\nstage = "coder"\n'
      yield* repo.write(".huskies/agents.toml", mine)
      const report = yield* init(repo)
      expect(report.kept).toEqual([".huskies/agents.toml"])
      expect(report.created).toEqual([".huskies/project.toml", ".huskies/README.md", ".gitignore"])
      expect(yield* repo.read(".huskies/agents.toml")).toBe(mine)
      expect(yield* filesIn(repo, "HEAD")).toEqual([
        ".gitignore",
        ".huskies/README.md",
        ".huskies/project.toml",
      ])
    }),
  )

  it.scoped("works when the user has no git identity, committing as huskies", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo({ identity: false })
      const report = yield* init(repo)
      expect(Option.isSome(report.commit)).toBe(true)
      expect(yield* repo.git("log", "-1", "--format=%an <%ae>|%cn <%ce>")).toBe(
        "huskies <huskies@localhost>|huskies <huskies@localhost>",
      )
      // The fallback is per command: the repository's config is untouched.
      expect((yield* repo.gitResult("config", "user.name")).code).toBe(1)
    }),
  )

  it.scoped("commits as the user when they have an identity", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo()
      yield* init(repo)
      expect(yield* repo.git("log", "-1", "--format=%an <%ae>")).toBe("Huskies Test <test@huskies.invalid>")
    }),
  )

  it.scoped("does not commit files the user's .gitignore excludes", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo({ initialCommit: true })
      yield* repo.write(".gitignore", ".huskies/\n")
      yield* repo.git("add", "--", ".gitignore")
      yield* repo.git("commit", "--quiet", "-m", "ignore huskies")
      const report = yield* init(repo)
      expect(report.uncommitted.map((u) => u.path)).toEqual([
        ".huskies/project.toml",
        ".huskies/agents.toml",
        ".huskies/README.md",
      ])
      expect(yield* filesIn(repo, "HEAD")).toEqual([".gitignore"])
    }),
  )
})

describe(".gitignore", () => {
  it.scoped("appends only the missing entries, keeping the user's lines", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo({ initialCommit: true })
      const before = "node_modules/\n/.huskies/logs\n*.log"
      yield* repo.write(".gitignore", before)
      yield* repo.git("add", "--", ".gitignore")
      yield* repo.git("commit", "--quiet", "-m", "ignores")
      const report = yield* init(repo)
      expect(report.updated).toEqual([".gitignore"])
      const after = yield* repo.read(".gitignore")
      expect(after.startsWith(`${before}\n`)).toBe(true)
      expect(after).toContain(".huskies/huskies.db*\n.huskies/worktrees/\n")
      expect(after.split("\n").filter((l) => l.includes(".huskies/logs"))).toEqual(["/.huskies/logs"])
      expect(yield* filesIn(repo, "HEAD")).toContain(".gitignore")
      yield* init(repo)
      expect(yield* repo.read(".gitignore")).toBe(after)
    }),
  )

  it.scoped("ignores the store with its WAL and SHM files, worktrees, logs, the node key and nodes.db", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo()
      yield* init(repo)
      for (const file of [
        ".huskies/huskies.db",
        ".huskies/huskies.db-wal",
        ".huskies/huskies.db-shm",
        ".huskies/worktrees/1_story_x/a.ts",
        ".huskies/logs/coder-1.log",
        ".huskies/node.key",
        ".huskies/nodes.db",
        ".huskies/nodes.db-wal",
      ]) {
        yield* repo.write(file, "local state")
        expect((yield* repo.gitResult("check-ignore", "--quiet", "--", file)).code).toBe(0)
      }
      expect(yield* repo.git("status", "--porcelain")).toBe("")
    }),
  )

  it.scoped("appends to a .gitignore with uncommitted edits but does not commit the user's edits", () =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo({ initialCommit: true })
      yield* repo.write(".gitignore", "dist/\n")
      yield* repo.git("add", "--", ".gitignore")
      yield* repo.git("commit", "--quiet", "-m", "ignores")
      yield* repo.write(".gitignore", "dist/\ncoverage/\n")
      const report = yield* init(repo)
      expect(report.uncommitted).toEqual([
        { path: ".gitignore", reason: expect.stringContaining("uncommitted changes") },
      ])
      expect(yield* filesIn(repo, "HEAD")).toEqual([
        ".huskies/README.md",
        ".huskies/agents.toml",
        ".huskies/project.toml",
      ])
      expect(yield* repo.read(".gitignore")).toContain("coverage/\n\n# huskies")
      expect(yield* repo.git("show", "HEAD:.gitignore")).toBe("dist/")
    }),
  )

  it("knows which entries a .gitignore lacks", () => {
    expect(missingGitignoreEntries("")).toEqual(gitignoreEntries)
    expect(missingGitignoreEntries(".huskies/worktrees\r\n/.huskies/huskies.db*\n")).toEqual([
      ".huskies/logs/",
      ".huskies/run/",
      ".huskies/merge/",
      ".huskies/node.key",
      ".huskies/nodes.db*",
    ])
  })
})

describe("stack detection", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly files: Record<string, string>
    readonly test?: string
  }> = [
    {
      name: "package.json test script",
      files: { "package.json": '{"scripts":{"test":"vitest run"}}' },
      test: "npm test",
    },
    {
      name: "package.json with pnpm",
      files: { "package.json": '{"scripts":{"test":"jest"}}', "pnpm-lock.yaml": "" },
      test: "pnpm test",
    },
    {
      name: "npm init's placeholder test script",
      files: { "package.json": '{"scripts":{"test":"echo \\"Error: no test specified\\" && exit 1"}}' },
    },
    { name: "Cargo.toml", files: { "Cargo.toml": '[package]\nname = "x"\n' }, test: "cargo test" },
    { name: "pyproject.toml", files: { "pyproject.toml": "[project]\nname = 'x'\n" }, test: "pytest" },
    { name: "setup.cfg", files: { "setup.cfg": "[metadata]\nname = x\n" }, test: "pytest" },
    { name: "pyproject.toml with uv", files: { "pyproject.toml": "", "uv.lock": "" }, test: "uv run pytest" },
    { name: "go.mod", files: { "go.mod": "module example.com/x\n" }, test: "go test ./..." },
    {
      name: "Makefile test target",
      files: { Makefile: "build:\n\tcc x.c\n\ntest: build\n\t./run\n" },
      test: "make test",
    },
    { name: "Makefile without a test target", files: { Makefile: "test := nope\nall:\n\tcc x.c\n" } },
    {
      name: "Makefile test target over package.json",
      files: {
        Makefile: ".PHONY: test\ntest:\n\tnpm test && cargo test\n",
        "package.json": '{"scripts":{"test":"x"}}',
      },
      test: "make test",
    },
    {
      name: "package.json over Cargo.toml",
      files: { "package.json": '{"scripts":{"test":"x"}}', "Cargo.toml": "" },
      test: "npm test",
    },
    { name: "nothing recognisable", files: { "main.c": "int main(){}" } },
  ]

  it.scoped.each(cases)("init picks the test command: $name", ({ files, test }) =>
    Effect.gen(function* () {
      const repo = yield* makeGitRepo()
      for (const [file, content] of Object.entries(files)) yield* repo.write(file, content)
      const report = yield* init(repo)
      expect(Option.getOrUndefined(report.stack)?.commands.test).toBe(test)
      expect((yield* load(repo.dir)).project.commands.test).toBe(test)
      if (test === undefined)
        expect(report.notes).toEqual([expect.stringContaining("no test command detected")])
    }),
  )

  it("picks lint and build commands where the stack names them", () => {
    const node = detectStackFrom(
      new Map([["package.json", '{"scripts":{"test":"t","lint":"l","build":"b"}}']]),
    )
    expect(Option.getOrUndefined(node)?.commands).toEqual({
      test: "npm test",
      lint: "npm run lint",
      build: "npm run build",
    })
    const make = detectStackFrom(new Map([["Makefile", "test lint:\n\tx\n"]]))
    expect(Option.getOrUndefined(make)?.commands).toEqual({ test: "make test", lint: "make lint" })
  })
})
