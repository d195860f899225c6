// src/layers/git/inspect.ts — the Git service's read-only views of a worktree: commits ahead of a base,
// status entries, a bounded diff and the log, all parsed from git's machine-readable output.
import { Effect, Either } from "effect"
import { GitError, refused, stderrTail } from "./GitError.js"
import { logFormat, parseLog, parseStatus } from "./parse.js"
import { worktreeRelative } from "./paths.js"
import { checkRef, type makeRepo, realPath } from "./repo.js"
import { commandFailed, type GitRunner } from "./run.js"

export interface DiffOptions {
  /** Compare against where the branch left `base` (its merge base), so the diff is the branch's own work. */
  readonly base?: string
  /** Only what is staged (the index) rather than the working tree. */
  readonly staged?: boolean
  /** Only these paths (relative to the worktree, or absolute inside it). */
  readonly paths?: ReadonlyArray<string>
  /** The most bytes of diff to return (default 512 KiB); past it the text is cut and `truncated` set. */
  readonly maxBytes?: number
}

export interface Diff {
  readonly text: string
  readonly truncated: boolean
}

export interface LogOptions {
  /** Only commits not on `base` (`base..HEAD`). */
  readonly base?: string
  /** At most this many commits, newest first. */
  readonly limit: number
}

type Repo = ReturnType<typeof makeRepo>

/** Paths as worktree-relative pathspecs, or InvalidArgument naming the first one refused. */
export const pathspecs = (worktree: string, args: ReadonlyArray<string>, paths: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const real = yield* realPath(worktree)
    const out: Array<string> = []
    for (const file of paths) {
      const relative = worktreeRelative(worktree, real, file)
      if (Either.isLeft(relative)) {
        return yield* refused(
          "InvalidArgument",
          worktree,
          args,
          `path ${JSON.stringify(file)} refused`,
          relative.left,
        )
      }
      out.push(relative.right)
    }
    return out
  })

export const makeInspect = (git: GitRunner, repo: Repo) => {
  /** How many commits `branch` has that `base` lacks. */
  const commitsAhead = Effect.fn("Git.commitsAhead")(function* (dir: string, base: string, branch: string) {
    const args = ["rev-list", "--count", "--end-of-options", `${base}..${branch}`, "--"]
    yield* checkRef(dir, args, "base", base)
    yield* checkRef(dir, args, "branch", branch)
    yield* repo.requireRepo(dir)
    const result = yield* git.run(dir, args)
    if (result.code !== 0) {
      const missing: Array<string> = []
      for (const ref of [base, branch]) {
        const found = yield* git.run(dir, [
          "rev-parse",
          "--verify",
          "--quiet",
          "--end-of-options",
          `${ref}^{commit}`,
        ])
        if (found.code !== 0) missing.push(ref)
      }
      if (missing.length > 0) {
        return yield* new GitError({
          reason: "UnknownRevision",
          cwd: dir,
          args,
          exitCode: result.code,
          stderr: stderrTail(result.stderr),
          detail: `cannot count the commits of ${branch} ahead of ${base}: ${missing.join(" and ")} ${missing.length === 1 ? "does" : "do"} not exist`,
          hint: "check the branch names (base_branch in .huskies/project.toml for the base)",
        })
      }
      return yield* commandFailed(dir, args, result, `check that ${base} and ${branch} are readable`)
    }
    const count = Number(result.stdout.trim())
    if (!Number.isSafeInteger(count)) {
      return yield* commandFailed(
        dir,
        args,
        { ...result, stderr: `printed ${JSON.stringify(result.stdout)}, not a count` },
        "check the git installation",
      )
    }
    return count
  })

  /** `git status` of a worktree, one entry per changed, staged or untracked file (untracked listed by file). */
  const status = Effect.fn("Git.status")(function* (worktree: string) {
    yield* repo.requireRepo(worktree)
    const out = yield* git.ok(
      worktree,
      ["status", "--porcelain=v1", "-z", "--untracked-files=all"],
      "check that the worktree is intact (git worktree list)",
    )
    return parseStatus(out.stdout)
  })

  /** The worktree's changes as a patch, bounded: `truncated` says when the text was cut. */
  const diff = Effect.fn("Git.diff")(function* (worktree: string, options: DiffOptions = {}) {
    const head = ["-c", "core.quotePath=false", "--literal-pathspecs", "diff", "--no-color", "--no-ext-diff"]
    if (options.base !== undefined) yield* checkRef(worktree, head, "base", options.base)
    yield* repo.requireRepo(worktree)
    const paths = options.paths === undefined ? [] : yield* pathspecs(worktree, head, options.paths)
    if (options.paths !== undefined && paths.length === 0) {
      return yield* refused(
        "InvalidArgument",
        worktree,
        head,
        "diff of an empty path list refused",
        "name at least one path, or leave paths out for the whole worktree",
      )
    }
    const args = [
      ...head,
      ...(options.staged === true ? ["--cached"] : []),
      ...(options.base === undefined ? [] : ["--merge-base", "--end-of-options", options.base]),
      "--",
      ...paths,
    ]
    const out = yield* git.ok(worktree, args, "check the base branch and the paths", {
      maxBytes: options.maxBytes ?? 512 * 1024,
      truncate: true,
    })
    return { text: out.stdout, truncated: out.truncated } satisfies Diff
  })

  /** Commits from HEAD back (only those not on `base` when given), newest first. */
  const log = Effect.fn("Git.log")(function* (worktree: string, options: LogOptions) {
    const args = ["log", "-z", "--no-color", `--format=${logFormat}`, `--max-count=${options.limit}`]
    if (!Number.isSafeInteger(options.limit) || options.limit < 1) {
      return yield* refused(
        "InvalidArgument",
        worktree,
        args,
        `log limit ${options.limit} refused`,
        "give a limit of 1 or more",
      )
    }
    if (options.base !== undefined) yield* checkRef(worktree, args, "base", options.base)
    yield* repo.requireRepo(worktree)
    const range = options.base === undefined ? "HEAD" : `${options.base}..HEAD`
    const out = yield* git.ok(
      worktree,
      [...args, "--end-of-options", range, "--"],
      options.base === undefined
        ? "check that the branch has commits"
        : `check that ${options.base} exists and the branch has commits`,
    )
    return parseLog(out.stdout)
  })

  return { commitsAhead, status, diff, log } as const
}
