// src/transports/tools/projectGit.ts — the few git commands the pipeline and delete tools run in the
// project root: how far an item's feature branch is ahead of the base branch, and removing its
// worktree and branch. Used by pipelineTools (move_story) and deleteTools.
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { join } from "node:path"

export interface GitResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs git with explicit arguments (never a shell) in `cwd`; any exit code is a result, not a failure. */
export const runGit = (cwd: string, args: ReadonlyArray<string>): Effect.Effect<GitResult> =>
  Effect.async<GitResult>((resume) => {
    const child = execFile(
      "git",
      [...args],
      { cwd, timeout: 30_000, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        // A git that cannot be started at all (not installed, cwd gone) is still an answer to report.
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        const detail = error !== null && code === -1 ? error.message : stderr
        resume(Effect.succeed({ code, stdout: stdout.trim(), stderr: detail.trim() }))
      },
    )
    return Effect.sync(() => child.kill())
  })

/** The branch a coder works on for `id`. */
export const featureBranchOf = (id: string): string => `feature/story-${id}`

/** Where the coder's worktree for `id` lives. */
export const worktreePathOf = (root: string, id: string): string => join(root, ".huskies", "worktrees", id)

/** The first line of git's complaint, for messages. */
export const gitComplaint = (result: GitResult): string =>
  result.stderr.split("\n")[0] || `git exited with code ${result.code}`

export const isGitRepository = (root: string): Effect.Effect<boolean> =>
  Effect.map(runGit(root, ["rev-parse", "--git-dir"]), (r) => r.code === 0)

/** Whether local branch `branch` exists; a failure other than "no such branch" is reported as such. */
export const branchExists = (
  root: string,
  branch: string,
): Effect.Effect<
  | { readonly _tag: "Exists" }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Failed"; readonly why: string }
> =>
  Effect.map(runGit(root, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]), (r) => {
    if (r.code === 0) return { _tag: "Exists" } as const
    if (r.code === 1) return { _tag: "Missing" } as const
    return { _tag: "Failed", why: gitComplaint(r) } as const
  })

export type CommitsAhead =
  | { readonly _tag: "Ahead"; readonly branch: string; readonly commits: number }
  | { readonly _tag: "Refused"; readonly why: string }

/**
 * How many commits `feature/story-<id>` has that `base` lacks, or why that cannot be answered (no
 * repository, no branch, no commits): the caller refuses the move with that reason.
 */
export const commitsAhead = (root: string, id: string, base: string): Effect.Effect<CommitsAhead> =>
  Effect.gen(function* () {
    const branch = featureBranchOf(id)
    if (!(yield* isGitRepository(root))) {
      return { _tag: "Refused", why: `${root} is not a git repository, so ${branch} cannot have commits` }
    }
    const exists = yield* branchExists(root, branch)
    if (exists._tag === "Failed")
      return { _tag: "Refused", why: `cannot read branch ${branch}: ${exists.why}` }
    if (exists._tag === "Missing") {
      return {
        _tag: "Refused",
        why: `branch ${branch} does not exist, so there is no work to review or merge: the coder commits its work there`,
      }
    }
    const counted = yield* runGit(root, ["rev-list", "--count", `${base}..${branch}`, "--"])
    if (counted.code !== 0) {
      return {
        _tag: "Refused",
        why: `cannot count the commits of ${branch} ahead of base branch ${base}: ${gitComplaint(counted)} (check base_branch in .huskies/project.toml)`,
      }
    }
    const commits = Number(counted.stdout)
    if (!Number.isSafeInteger(commits)) {
      return { _tag: "Refused", why: `git rev-list printed ${JSON.stringify(counted.stdout)}, not a count` }
    }
    if (commits < 1) {
      return {
        _tag: "Refused",
        why: `${branch} has no commits ahead of ${base}, so there is nothing to review or merge: commit the work on ${branch} first`,
      }
    }
    return { _tag: "Ahead", branch, commits }
  })
