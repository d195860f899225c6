// src/transports/tools/gitTools.ts — git_status, git_diff, git_log, git_add and git_commit, each scoped to
// one work item's worktree, for agents without a shell and for people on chat. Nothing here stages
// "everything": git_add takes named files only (an earlier `git add -A` once committed a deleted index).
import { Effect, Schema } from "effect"
import { Git } from "../../layers/Git.js"
import { projectConfig } from "./gateTool.js"
import { StoryIdParam } from "./itemAccess.js"
import { defineTool, ToolFailure } from "./Tool.js"
import { requireWorktree } from "./worktreeAccess.js"

const noWorktree = "Fails when the item has no worktree (create_worktree makes one)."

const StatusEntry = Schema.Struct({
  path: Schema.String,
  from: Schema.NullOr(Schema.String).annotations({ description: "for a rename or copy: the old path" }),
  index: Schema.String.annotations({ description: "porcelain X: the staged side (' ' unchanged)" }),
  work_tree: Schema.String.annotations({ description: "porcelain Y: the unstaged side" }),
  staged: Schema.Boolean,
  untracked: Schema.Boolean,
})

export const gitStatus = defineTool({
  name: "git_status",
  description: `The git status of the item's worktree: its branch and every staged, changed or untracked file (untracked directories listed file by file). Does not block. ${noWorktree}`,
  input: { story_id: StoryIdParam },
  output: Schema.Struct({
    story_id: Schema.String,
    worktree: Schema.String,
    branch: Schema.NullOr(Schema.String),
    clean: Schema.Boolean,
    staged: Schema.Number,
    unstaged: Schema.Number,
    untracked: Schema.Number,
    entries: Schema.Array(StatusEntry),
  }),
  run: ({ story_id }) =>
    Effect.gen(function* () {
      const wt = yield* requireWorktree(story_id)
      const entries = yield* (yield* Git).status(wt.path)
      return {
        story_id: wt.id,
        worktree: wt.path,
        branch: wt.branch ?? null,
        clean: entries.length === 0,
        staged: entries.filter((e) => e.staged).length,
        unstaged: entries.filter((e) => !e.untracked && e.workTree !== " ").length,
        untracked: entries.filter((e) => e.untracked).length,
        entries: entries.map((e) => ({
          path: e.path,
          from: e.from ?? null,
          index: e.index,
          work_tree: e.workTree,
          staged: e.staged,
          untracked: e.untracked,
        })),
      }
    }),
})

/** The most diff text git_diff returns; past it the text is cut and `truncated` set. */
const diffBytes = 64 * 1024

const RelativePaths = Schema.Array(Schema.String).annotations({
  description: "file paths relative to the worktree",
})

export const gitDiff = defineTool({
  name: "git_diff",
  description: `The item worktree's changes as a unified diff: unstaged changes by default, the staged ones with staged: true, or everything the branch changed since it left the base branch with against_base: true (combine with staged to leave unstaged edits out). Limit it to some files with paths. At most ${diffBytes / 1024} KiB of text: truncated says when it was cut (narrow it with paths). Does not block. ${noWorktree}`,
  input: {
    story_id: StoryIdParam,
    staged: Schema.optional(
      Schema.Boolean.annotations({
        description: "only what is staged for the next commit",
      }),
    ),
    against_base: Schema.optional(
      Schema.Boolean.annotations({
        description: "compare with where the branch left the base branch (its merge base)",
      }),
    ),
    paths: Schema.optional(RelativePaths),
  },
  output: Schema.Struct({
    story_id: Schema.String,
    base_branch: Schema.NullOr(Schema.String),
    diff: Schema.String,
    truncated: Schema.Boolean,
    empty: Schema.Boolean,
  }),
  run: ({ story_id, staged, against_base, paths }) =>
    Effect.gen(function* () {
      const wt = yield* requireWorktree(story_id)
      const base = against_base === true ? (yield* projectConfig).project.baseBranch : undefined
      const diff = yield* (yield* Git).diff(wt.path, {
        maxBytes: diffBytes,
        ...(staged === undefined ? {} : { staged }),
        ...(base === undefined ? {} : { base }),
        ...(paths === undefined ? {} : { paths }),
      })
      return {
        story_id: wt.id,
        base_branch: base ?? null,
        diff: diff.text,
        truncated: diff.truncated,
        empty: diff.text === "",
      }
    }),
})

export const gitLog = defineTool({
  name: "git_log",
  description: `Commits on the item's branch, newest first (limit, default 20, at most 200), each with sha, subject, author and time, and how many of them the base branch lacks. Does not block. ${noWorktree}`,
  input: {
    story_id: StoryIdParam,
    limit: Schema.optional(
      Schema.Int.pipe(Schema.between(1, 200)).annotations({
        description: "how many commits, 1 to 200 (default 20)",
      }),
    ),
  },
  output: Schema.Struct({
    story_id: Schema.String,
    branch: Schema.NullOr(Schema.String),
    base_branch: Schema.String,
    commits_ahead: Schema.NullOr(Schema.Number),
    commits: Schema.Array(
      Schema.Struct({
        sha: Schema.String,
        subject: Schema.String,
        author: Schema.String,
        email: Schema.String,
        time: Schema.String,
      }),
    ),
  }),
  run: ({ story_id, limit }) =>
    Effect.gen(function* () {
      const wt = yield* requireWorktree(story_id)
      const git = yield* Git
      const base = (yield* projectConfig).project.baseBranch
      const commits = yield* git.log(wt.path, { limit: limit ?? 20 })
      // A base branch that is gone makes the count unknown, not the log unreadable.
      const ahead = yield* git.commitsAhead(wt.path, base, "HEAD").pipe(Effect.orElseSucceed(() => null))
      return {
        story_id: wt.id,
        branch: wt.branch ?? null,
        base_branch: base,
        commits_ahead: ahead,
        commits: commits.map((c) => ({
          sha: c.sha,
          subject: c.subject,
          author: c.author,
          email: c.email,
          time: new Date(c.time).toISOString(),
        })),
      }
    }),
})

/** Why `path` is refused before git sees it: the ways "stage everything" is usually spelled. */
const wholesale = (path: string): string | undefined => {
  const trimmed = path.trim()
  if (trimmed.startsWith("-")) {
    return `${JSON.stringify(path)} is an option, not a file: git_add takes file paths only (huskies never runs \`git add -A\`)`
  }
  if (/^[.*/\\]*$/.test(trimmed) || trimmed === ":/") {
    return `${JSON.stringify(path)} names the whole worktree: name each file to stage (git_status lists them)`
  }
  return undefined
}

export const gitAdd = defineTool({
  name: "git_add",
  description: `Stages exactly the named files in the item's worktree (new, changed or deleted), read literally (no globs). Refuses options such as -A or --all, "." and anything naming the whole worktree, an empty list, and paths outside the worktree (absolute, or with ".."). Returns the status after staging. Does not block. ${noWorktree}`,
  input: {
    story_id: StoryIdParam,
    paths: RelativePaths,
  },
  output: Schema.Struct({
    story_id: Schema.String,
    staged: Schema.Array(Schema.String),
    staged_in_index: Schema.Array(Schema.String).annotations({
      description: "every path staged in the worktree now, the ones just added included",
    }),
  }),
  run: ({ story_id, paths }) =>
    Effect.gen(function* () {
      if (paths.length === 0) {
        return yield* new ToolFailure({
          message: "git_add needs at least one path: name each file to stage (git_status lists them)",
        })
      }
      for (const path of paths) {
        const why = wholesale(path)
        if (why !== undefined) return yield* new ToolFailure({ message: why })
      }
      const wt = yield* requireWorktree(story_id)
      const git = yield* Git
      yield* git.add(wt.path, paths)
      const status = yield* git.status(wt.path)
      return {
        story_id: wt.id,
        staged: [...paths],
        staged_in_index: status.filter((e) => e.staged).map((e) => e.path),
      }
    }),
})

export const gitCommit = defineTool({
  name: "git_commit",
  description: `Commits what is staged in the item's worktree (git_add stages files) on its branch feature/story-<id>, with message. Refuses an empty message, a commit with nothing staged, and a worktree not on its feature branch. Does not block. ${noWorktree}`,
  input: {
    story_id: StoryIdParam,
    message: Schema.String.annotations({ description: "the commit message: what the change does" }),
  },
  output: Schema.Struct({
    story_id: Schema.String,
    branch: Schema.String,
    sha: Schema.String,
    subject: Schema.String,
  }),
  run: ({ story_id, message }) =>
    Effect.gen(function* () {
      const wt = yield* requireWorktree(story_id)
      if (wt.branch !== wt.featureBranch) {
        return yield* new ToolFailure({
          message: `the worktree of ${wt.id} is on ${wt.branch ?? "a detached HEAD"}, not ${wt.featureBranch}: commits there would not reach the merge; check out ${wt.featureBranch} in ${wt.path} first`,
        })
      }
      const made = yield* (yield* Git).commit(wt.path, message)
      return { story_id: wt.id, branch: wt.featureBranch, sha: made.sha, subject: made.subject }
    }),
})

export const gitTools = [gitStatus, gitDiff, gitLog, gitAdd, gitCommit] as const
