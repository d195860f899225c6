// test/support/gitRepo.ts — real git repositories (and plain directories) in temp dirs for tests, run with
// a git environment isolated from the machine's (no system or user config, no identity variables), and
// removed when the test's Scope closes. Pass `env` to any code under test that runs git.
import { Effect, type Scope } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { scopedTempDir } from "./tempDir.js"

/** Overrides of the environment a git process runs with; `undefined` removes a variable. */
export type GitEnv = Readonly<Record<string, string | undefined>>

export interface GitResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface TempDir {
  /** The directory to work in: the repository's work tree, or a plain directory. */
  readonly dir: string
  /** The isolated git environment, to hand to the code under test. */
  readonly env: GitEnv
  /** Runs git in `dir`; fails the test (a defect) unless git exits 0. Returns trimmed stdout. */
  readonly git: (...args: ReadonlyArray<string>) => Effect.Effect<string>
  /** Runs git in `dir` and returns its exit code and output, whatever they are. */
  readonly gitResult: (...args: ReadonlyArray<string>) => Effect.Effect<GitResult>
  readonly write: (relativePath: string, content: string) => Effect.Effect<void>
  readonly read: (relativePath: string) => Effect.Effect<string>
  readonly exists: (relativePath: string) => Effect.Effect<boolean>
}

export interface GitRepoOptions {
  /** Configure a test identity (default true). With false, git is told not to guess one either. */
  readonly identity?: boolean
  /** Branch `git init` starts on (default "main"). */
  readonly branch?: string
  /** Make one commit (a README.md) so HEAD exists (default false: a repository with no commits). */
  readonly initialCommit?: boolean
}

// Variables that would let the machine's or the caller's git setup leak into a test.
const leakyVariables = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_NAMESPACE",
  "GIT_AUTHOR_NAME",
  "GIT_AUTHOR_EMAIL",
  "GIT_AUTHOR_DATE",
  "GIT_COMMITTER_NAME",
  "GIT_COMMITTER_EMAIL",
  "GIT_COMMITTER_DATE",
  "GIT_CONFIG",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
  "EMAIL",
]

const globalConfig = (identity: boolean): string =>
  [
    "[init]",
    "\tdefaultBranch = main",
    "[commit]",
    "\tgpgsign = false",
    "[tag]",
    "\tgpgsign = false",
    "[core]",
    "\tautocrlf = false",
    "[advice]",
    "\tdetachedHead = false",
    "[user]",
    ...(identity ? ["\tname = Huskies Test", "\temail = test@huskies.invalid"] : ["\tuseConfigOnly = true"]),
    "",
  ].join("\n")

const run = (cwd: string, env: GitEnv, args: ReadonlyArray<string>): Effect.Effect<GitResult> =>
  Effect.async<GitResult>((resume) => {
    const child = execFile(
      "git",
      [...args],
      { cwd, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") resume(Effect.die(error))
        else resume(Effect.succeed({ code: error === null ? 0 : Number(error.code), stdout, stderr }))
      },
    )
    return Effect.sync(() => child.kill())
  })

const makeBase = (identity: boolean) =>
  Effect.gen(function* () {
    const base = yield* scopedTempDir
    const home = path.join(base, "home")
    yield* Effect.promise(async () => {
      await fs.mkdir(path.join(home, ".config"), { recursive: true })
      await fs.writeFile(path.join(home, ".gitconfig"), globalConfig(identity))
    })
    const env: GitEnv = {
      ...Object.fromEntries(leakyVariables.map((name) => [name, undefined])),
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, ".config"),
      GIT_CONFIG_GLOBAL: path.join(home, ".gitconfig"),
      GIT_CONFIG_NOSYSTEM: "1",
      // git must not find a repository above the temp dir (os.tmpdir() could sit inside one).
      GIT_CEILING_DIRECTORIES: base,
      GIT_TERMINAL_PROMPT: "0",
      LC_ALL: "C",
    }
    return { base, env }
  })

const tempDirIn = (dir: string, env: GitEnv): TempDir => {
  const gitResult = (...args: ReadonlyArray<string>) => run(dir, env, args)
  return {
    dir,
    env,
    gitResult,
    git: (...args) =>
      Effect.flatMap(gitResult(...args), (r) =>
        r.code === 0
          ? Effect.succeed(r.stdout.trim())
          : Effect.dieMessage(`git ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`),
      ),
    write: (relativePath, content) =>
      Effect.promise(async () => {
        const file = path.join(dir, relativePath)
        await fs.mkdir(path.dirname(file), { recursive: true })
        await fs.writeFile(file, content)
      }),
    read: (relativePath) => Effect.promise(() => fs.readFile(path.join(dir, relativePath), "utf8")),
    exists: (relativePath) =>
      Effect.promise(() =>
        fs.access(path.join(dir, relativePath)).then(
          () => true,
          () => false,
        ),
      ),
  }
}

/** A plain directory that is not inside any git repository, with the same isolated git environment. */
export const makeTempDir = (
  options: { readonly identity?: boolean } = {},
): Effect.Effect<TempDir, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { base, env } = yield* makeBase(options.identity ?? true)
    const dir = path.join(base, "project")
    yield* Effect.promise(() => fs.mkdir(dir))
    return tempDirIn(dir, env)
  })

/** A fresh repository (`git init` on `branch`), optionally with one commit. */
export const makeGitRepo = (options: GitRepoOptions = {}): Effect.Effect<TempDir, never, Scope.Scope> =>
  Effect.gen(function* () {
    const repo = yield* makeTempDir({ identity: options.identity ?? true })
    yield* repo.git("-c", `init.defaultBranch=${options.branch ?? "main"}`, "init", "--quiet")
    if (options.initialCommit === true) {
      yield* repo.write("README.md", "# test project\n")
      yield* repo.git("add", "--", "README.md")
      // The identity flags make the first commit work in an identity-less repository too.
      yield* repo.git(
        "-c",
        "user.name=Setup",
        "-c",
        "user.email=setup@huskies.invalid",
        "commit",
        "--quiet",
        "-m",
        "initial",
      )
    }
    return repo
  })
