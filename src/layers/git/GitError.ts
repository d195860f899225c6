// src/layers/git/GitError.ts — the one typed failure of the Git service: which git command (or which
// refused request), its exit code, the tail of its stderr, and what the user should check next.
import { Schema } from "effect"

/** What kind of failure it was, so callers can branch on it without parsing messages. */
export const GitErrorReason = Schema.Literal(
  /** git exited non-zero. */
  "CommandFailed",
  /** git ran longer than the timeout and was killed. */
  "Timeout",
  /** git could not be started at all (not installed, directory missing). */
  "NotStarted",
  /** git printed more than the output bound on a command whose output cannot be cut short. */
  "OutputTooLarge",
  /** The directory is not inside a git repository. */
  "NotARepository",
  /** A revision or branch name does not resolve. */
  "UnknownRevision",
  /** The base branch a worktree's feature branch should start from does not exist. */
  "BaseBranchMissing",
  /** The worktree's path is taken by something else (another branch, a plain directory). */
  "WorktreeConflict",
  /** A commit was asked for with nothing to commit. */
  "NothingToCommit",
  /** An argument was refused before git ran (a path outside the worktree, an empty list, a bad id). */
  "InvalidArgument",
  /** Deleting a directory by hand (the fallback of a worktree removal) failed. */
  "RemoveFailed",
  /** Reading or writing one of git's files by hand (the exclude file) failed. */
  "FileFailed",
)
export type GitErrorReason = typeof GitErrorReason.Type

export class GitError extends Schema.TaggedError<GitError>()("GitError", {
  reason: GitErrorReason,
  /** The git arguments run (or that would have run, for a refusal), without the leading "git". */
  args: Schema.Array(Schema.String),
  cwd: Schema.String,
  /** null when git did not exit by itself: refused before running, not started, killed. */
  exitCode: Schema.NullOr(Schema.Number),
  /** The last part of git's stderr (bounded), "" when git did not run. */
  stderr: Schema.String,
  /** What happened, in one line. */
  detail: Schema.String,
  /** What to check or do next. */
  hint: Schema.String,
}) {
  override get message(): string {
    return `${this.detail}: ${this.hint}`
  }
}

/** How much of stderr a GitError keeps: the end, where git puts the fatal line. */
export const stderrTailChars = 2000

export const stderrTail = (stderr: string): string => {
  const trimmed = stderr.trim()
  return trimmed.length <= stderrTailChars ? trimmed : `…${trimmed.slice(-stderrTailChars)}`
}

/** The line of stderr worth quoting in a message: git's `fatal:`/`error:` line, else the last one. */
export const stderrHeadline = (stderr: string): string => {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
  return lines.find((l) => /^(fatal|error):/.test(l)) ?? lines.at(-1) ?? ""
}

/** A request refused before git ran. */
export const refused = (
  reason: GitErrorReason,
  cwd: string,
  args: ReadonlyArray<string>,
  detail: string,
  hint: string,
): GitError => new GitError({ reason, cwd, args: [...args], exitCode: null, stderr: "", detail, hint })

/** A merge into `base`, which is not a branch with commits in `root`. */
export const missingBase = (root: string, args: ReadonlyArray<string>, base: string): GitError =>
  refused(
    "BaseBranchMissing",
    root,
    args,
    `cannot merge into ${base}: it is not a branch with commits in ${root}`,
    "check base_branch in .huskies/project.toml",
  )

/** A merge of `featureBranch`, which does not exist. */
export const missingFeatureBranch = (
  cwd: string,
  args: ReadonlyArray<string>,
  featureBranch: string,
): GitError =>
  refused(
    "UnknownRevision",
    cwd,
    args,
    `the feature branch ${featureBranch} does not exist`,
    "check the item's branch (git branch --list 'feature/*')",
  )
