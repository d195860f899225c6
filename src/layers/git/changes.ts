// src/layers/git/changes.ts — the Git service's writes to a worktree: staging named paths and committing.
// Every path is named (never `add -A` or `.`), read literally (no globs or pathspec magic), after `--`.
import { Effect } from "effect"
import { refused } from "./GitError.js"
import { pathspecs } from "./inspect.js"
import type { makeRepo } from "./repo.js"
import { commandFailed, type GitRunner } from "./run.js"

export interface CommitOptions {
  /** Commit only these paths (their current content), leaving anything else staged as it is. */
  readonly paths?: ReadonlyArray<string>
  /** The author recorded on the commit; the committer stays the configured identity. */
  readonly author?: { readonly name: string; readonly email: string }
}

export interface Committed {
  readonly sha: string
  readonly subject: string
}

type Repo = ReturnType<typeof makeRepo>

/** Used when git has no identity at all, so a commit in a fresh container still works. */
export const fallbackIdentity = { name: "huskies", email: "huskies@localhost" } as const

const literal = ["--literal-pathspecs"] as const

export const makeChanges = (git: GitRunner, repo: Repo) => {
  /** Stages exactly `paths` (new, changed or deleted files) in `worktree`. */
  const add = Effect.fn("Git.add")(function* (worktree: string, paths: ReadonlyArray<string>) {
    const head = [...literal, "add"]
    if (paths.length === 0) {
      return yield* refused(
        "InvalidArgument",
        worktree,
        head,
        "git add of an empty path list refused",
        "name the files to stage: huskies never stages everything",
      )
    }
    yield* repo.requireRepo(worktree)
    const relative = yield* pathspecs(worktree, head, paths)
    yield* git.ok(
      worktree,
      [...head, "--", ...relative],
      "check that each path exists in the worktree (or was tracked, for a deletion) and is not ignored",
    )
  })

  /** `-c user.*` for whichever half of the identity neither git config nor the environment provides. */
  const identityFallback = (worktree: string) =>
    Effect.gen(function* () {
      const flags: Array<string> = []
      const env = git.env
      const hasName = env["GIT_AUTHOR_NAME"] !== undefined && env["GIT_COMMITTER_NAME"] !== undefined
      const hasEmail =
        (env["GIT_AUTHOR_EMAIL"] !== undefined && env["GIT_COMMITTER_EMAIL"] !== undefined) ||
        env["EMAIL"] !== undefined
      if (hasName && hasEmail) return flags
      // Both keys in one git process; exit 1 when neither is set. The last value of a key is the one in force.
      const listed = yield* git.run(worktree, ["config", "--get-regexp", "^user\\.(name|email)$"])
      const configured = new Map<string, string>()
      if (listed.code === 0)
        for (const line of listed.stdout.split("\n")) {
          const space = line.indexOf(" ")
          const key = (space < 0 ? line : line.slice(0, space)).toLowerCase()
          if (key !== "") configured.set(key, space < 0 ? "" : line.slice(space + 1).trim())
        }
      if (!hasName && (configured.get("user.name") ?? "") === "")
        flags.push("-c", `user.name=${fallbackIdentity.name}`)
      if (!hasEmail && (configured.get("user.email") ?? "") === "")
        flags.push("-c", `user.email=${fallbackIdentity.email}`)
      return flags
    })

  /** Whether committing `paths` (or the index, without paths) would record anything. */
  const hasSomethingToCommit = (worktree: string, paths: ReadonlyArray<string> | undefined) =>
    Effect.gen(function* () {
      const headExists = (yield* git.run(worktree, ["rev-parse", "--verify", "--quiet", "HEAD"])).code === 0
      const quiet = (args: ReadonlyArray<string>) =>
        Effect.flatMap(git.run(worktree, [...literal, ...args]), (r) =>
          r.code <= 1
            ? Effect.succeed(r.code === 1)
            : Effect.fail(commandFailed(worktree, args, r, "check the worktree")),
        )
      if (paths === undefined) return yield* quiet(["diff", "--cached", "--quiet", "--"])
      // A path commit records the paths' working-tree content: compare that with HEAD.
      if (headExists) return yield* quiet(["diff", "--quiet", "HEAD", "--", ...paths])
      const listed = yield* git.ok(
        worktree,
        [...literal, "ls-files", "-z", "--", ...paths],
        "check the paths",
      )
      return listed.stdout !== ""
    })

  /**
   * Commits in `worktree`: with `paths`, only those paths (anything else staged stays staged and out of
   * the commit); without, what is staged. Refuses a commit that would record nothing.
   */
  const commit = Effect.fn("Git.commit")(function* (
    worktree: string,
    message: string,
    options: CommitOptions = {},
  ) {
    const head = [...literal, "commit", "--quiet"]
    if (message.trim() === "") {
      return yield* refused(
        "InvalidArgument",
        worktree,
        head,
        "commit with an empty message refused",
        "say what the change does",
      )
    }
    const author = options.author
    if (author !== undefined && /[<>\n\0]/.test(`${author.name}${author.email}`)) {
      return yield* refused(
        "InvalidArgument",
        worktree,
        head,
        `author ${JSON.stringify(author)} refused`,
        'give a name and an email without "<", ">" or line breaks',
      )
    }
    if (options.paths !== undefined && options.paths.length === 0) {
      return yield* refused(
        "InvalidArgument",
        worktree,
        head,
        "commit of an empty path list refused",
        "name the paths to commit, or leave paths out to commit what is staged",
      )
    }
    yield* repo.requireRepo(worktree)
    const paths = options.paths === undefined ? undefined : yield* pathspecs(worktree, head, options.paths)
    const args = [
      ...(yield* identityFallback(worktree)),
      ...head,
      ...(author === undefined ? [] : [`--author=${author.name} <${author.email}>`]),
      "-m",
      message,
      ...(paths === undefined ? [] : ["--only", "--", ...paths]),
    ]
    const nothing = refused(
      "NothingToCommit",
      worktree,
      args,
      paths === undefined
        ? `nothing is staged in ${worktree}, so there is nothing to commit`
        : `${paths.join(", ")} ${paths.length === 1 ? "has" : "have"} no changes to commit in ${worktree}`,
      paths === undefined
        ? "stage the changed files first (add them by name)"
        : "change or add the files first",
    )
    if (!(yield* hasSomethingToCommit(worktree, paths))) return yield* nothing
    const result = yield* git.run(worktree, args)
    if (result.code !== 0) {
      // Asked again rather than read from git's words: the index may have changed since the look above.
      if (!(yield* hasSomethingToCommit(worktree, paths))) return yield* nothing
      return yield* commandFailed(
        worktree,
        args,
        result,
        paths === undefined
          ? "check the commit hooks and the identity (git config user.name / user.email)"
          : "check that each path is tracked or was added first, and the commit hooks",
      )
    }
    const made = yield* git.ok(worktree, ["log", "-1", "--format=%H%x1f%s", "HEAD"], "check the repository")
    const [sha = "", subject = ""] = made.stdout.trim().split("\x1f")
    return { sha, subject } satisfies Committed
  })

  /**
   * Runs a commit-making command (`args` after the identity flags): first with the configured identity
   * only (useConfigOnly: git guesses no name or address from the system), which is the usual case and one
   * process; only when that fails, again with the fallback identity for what is not configured.
   */
  const withIdentity = (dir: string, args: ReadonlyArray<string>, hint: string) =>
    Effect.gen(function* () {
      const first = yield* git.run(dir, ["-c", "user.useConfigOnly=true", ...args])
      if (first.code === 0) return first
      const flags = yield* identityFallback(dir)
      return yield* git.ok(dir, [...flags, ...args], hint)
    })

  /**
   * A commit of `tree` on `parent` made in the object store (no index, no checkout), with the same identity
   * fallback as `commit`: the merge queue's squash when nothing needs the merged files. Returns its name.
   */
  const commitTree = (root: string, tree: string, parent: string, message: string) =>
    Effect.map(
      withIdentity(
        root,
        ["commit-tree", tree, "-p", parent, "-m", message],
        "check the identity (git config user.name / user.email)",
      ),
      (made) => made.stdout.trim(),
    )

  /**
   * Commits what is staged in `worktree` for a caller that has just seen something is (the merge workspace
   * after a squash), without looking again; returns the new HEAD.
   */
  const commitStaged = (worktree: string, message: string) =>
    Effect.gen(function* () {
      yield* withIdentity(
        worktree,
        ["commit", "--quiet", "-m", message],
        "check the commit hooks and the identity (git config user.name / user.email)",
      )
      const head = yield* git.ok(worktree, ["rev-parse", "--verify", "HEAD"], "check the repository")
      return head.stdout.trim()
    })

  return { add, commit, commitTree, commitStaged } as const
}
