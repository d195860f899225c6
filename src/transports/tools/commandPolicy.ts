// src/transports/tools/commandPolicy.ts — what run_command may run: allowlisted programs only (no shells),
// a working directory and path arguments inside the item's worktree (symlinks followed), and no git
// subcommand that pushes or moves branches. Guard rails against an agent's mistakes, not a sandbox.
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { ToolFailure } from "./Tool.js"

/** Programs run_command runs. Shells are left out on purpose: `sh -c` would make the list meaningless. */
export const defaultAllowedPrograms = [
  "git",
  "npm",
  "npx",
  "node",
  "yarn",
  "pnpm",
  "cargo",
  "go",
  "python",
  "python3",
  "pytest",
  "make",
  "ls",
  "cat",
  "head",
  "tail",
  "grep",
  "rg",
  "find",
  "wc",
  "diff",
  "echo",
  "true",
  "false",
] as const

const shells = new Set(["sh", "bash", "zsh", "dash", "ksh", "fish", "csh", "tcsh", "ash"])

const isInside = (root: string, target: string): boolean => {
  const relative = path.relative(root, target)
  return (
    relative === "" ||
    (!relative.startsWith(`..${path.sep}`) && relative !== ".." && !path.isAbsolute(relative))
  )
}

/** `target` with symlinks resolved as far as it exists; the part that does not exist appended as given. */
const realPathOf = async (target: string): Promise<string> => {
  let existing = target
  const rest: Array<string> = []
  for (;;) {
    try {
      return path.join(await fs.realpath(existing), ...rest)
    } catch {
      const parent = path.dirname(existing)
      if (parent === existing) return target
      rest.unshift(path.basename(existing))
      existing = parent
    }
  }
}

/** The directory to run in: `cwd` (relative to the worktree) resolved through symlinks, inside the worktree. */
export const resolveCwd = (worktree: string, cwd: string | undefined) =>
  Effect.gen(function* () {
    const real = yield* Effect.promise(() => realPathOf(worktree))
    if (cwd === undefined) return real
    const target = path.resolve(worktree, cwd)
    const stat = yield* Effect.promise(() => fs.stat(target).catch(() => undefined))
    if (stat === undefined || !stat.isDirectory()) {
      return yield* new ToolFailure({
        message: `cwd ${JSON.stringify(cwd)} is not a directory in the worktree ${worktree}: give a path relative to it`,
      })
    }
    const resolved = yield* Effect.promise(() => realPathOf(target))
    if (!isInside(real, resolved)) {
      return yield* new ToolFailure({
        message: `cwd ${JSON.stringify(cwd)} resolves to ${resolved}, outside the worktree ${worktree}: commands run inside the item's worktree only`,
      })
    }
    return resolved
  })

const hasParentSegment = (p: string): boolean => p.split(/[\\/]/).includes("..")

/**
 * Why `arg` is refused, if it is: an absolute path or a `..` path that lands outside the worktree, or
 * an existing relative path that a symlink takes outside it. `--opt=value` forms are checked by value.
 */
const checkArgument = async (worktreeReal: string, cwd: string, arg: string): Promise<string | undefined> => {
  if (arg.includes("\0")) return `argument ${JSON.stringify(arg)} contains a NUL character`
  const eq = arg.indexOf("=")
  const candidates = eq >= 0 ? [arg, arg.slice(eq + 1)] : [arg]
  for (const candidate of candidates) {
    const explicit = path.isAbsolute(candidate) || hasParentSegment(candidate)
    const target = path.resolve(cwd, candidate)
    if (!explicit) {
      // A plain word (`test`, `-la`) is only a path if it exists; then it must not lead out by a symlink.
      if (candidate === arg && candidate !== "") {
        const exists = await fs.lstat(target).then(
          () => true,
          () => false,
        )
        if (exists && !isInside(worktreeReal, await realPathOf(target))) {
          return `argument ${JSON.stringify(arg)} is a symlink that leads outside the worktree: name files inside it`
        }
      }
      continue
    }
    if (!isInside(worktreeReal, await realPathOf(target))) {
      return `argument ${JSON.stringify(arg)} names ${target}, outside the worktree: name files inside it by relative paths without ".." (if it is not a path but a pattern, write it so it does not start with "/")`
    }
  }
  return undefined
}

/** Git's options that come before the subcommand and take the next argument as their value. */
const gitOptionsWithValue = new Set(["-C", "-c", "--namespace", "--config-env"])

const gitSubcommand = (
  args: ReadonlyArray<string>,
): { readonly index: number; readonly name: string } | undefined => {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? ""
    if (gitOptionsWithValue.has(arg)) {
      i++
      continue
    }
    if (arg.startsWith("-")) continue
    return { index: i, name: arg }
  }
  return undefined
}

const refusedGit: Record<string, string> = {
  push: "pushing is huskies' merge queue's job: commit on the feature branch and let the item reach Merge",
  checkout: "the worktree stays on its feature branch: use `git restore <file>` to discard a file's changes",
  switch: "the worktree stays on its feature branch feature/story-<id>",
  rebase: "rewriting the branch's history is refused: commit on top of it (merge the base branch if needed)",
  worktree: "worktrees are huskies' own: use create_worktree, remove_worktree and list_worktrees",
  "filter-branch": "rewriting history is refused",
  "update-ref": "moving refs by hand is refused: commit on the feature branch",
  "symbolic-ref": "changing HEAD by hand is refused: the worktree stays on its feature branch",
}

const branchChanges = new Set([
  "-d",
  "-D",
  "--delete",
  "-m",
  "-M",
  "--move",
  "-c",
  "-C",
  "--copy",
  "-f",
  "--force",
])

/** Why this git invocation is refused, if it is. */
const checkGit = (args: ReadonlyArray<string>): string | undefined => {
  const global = args.find((a) => /^--(git-dir|work-tree)(=|$)/.test(a))
  if (global !== undefined)
    return `git ${global} would point git at another repository: run git in the worktree as it is`
  const sub = gitSubcommand(args)
  if (sub === undefined) return undefined
  const rest = args.slice(sub.index + 1)
  const reason = refusedGit[sub.name]
  if (reason !== undefined) return `git ${sub.name} is refused: ${reason}`
  if (sub.name === "reset" && rest.includes("--hard")) {
    return "git reset --hard is refused: it throws away work; use `git restore <file>` for one file's changes"
  }
  if (sub.name === "branch") {
    const flag = rest.find((a) => branchChanges.has(a))
    if (flag !== undefined)
      return `git branch ${flag} is refused: branches are huskies' own (it deletes and merges them)`
  }
  if (sub.name === "pull" && rest.some((a) => a === "--rebase" || a === "-r" || a.startsWith("--rebase="))) {
    return "git pull --rebase is refused: rewriting the branch's history is refused"
  }
  return undefined
}

const findActions = new Set(["-exec", "-execdir", "-ok", "-okdir", "-delete"])

/** Why run_command refuses to run `program` with `args` in `cwd`, or undefined when it may. */
export const checkCommand = (worktree: string, cwd: string, program: string, args: ReadonlyArray<string>) =>
  Effect.promise(async (): Promise<string | undefined> => {
    if (/[\\/]/.test(program)) {
      return `program ${JSON.stringify(program)} is a path: call an allowed program by its name (${defaultAllowedPrograms.join(", ")})`
    }
    if (shells.has(program)) {
      return `${program} is refused: shells are not allowed (a shell would run anything); run the program itself, as an argv array`
    }
    if (!(defaultAllowedPrograms as ReadonlyArray<string>).includes(program)) {
      return `${program} is not an allowed program; allowed: ${defaultAllowedPrograms.join(", ")}`
    }
    if (program === "git") {
      const why = checkGit(args)
      if (why !== undefined) return why
    }
    if (program === "find") {
      const action = args.find((a) => findActions.has(a))
      if (action !== undefined)
        return `find ${action} is refused: it runs or deletes things; list with find, then act on named files`
    }
    const worktreeReal = await realPathOf(worktree)
    for (const arg of args) {
      const why = await checkArgument(worktreeReal, cwd, arg)
      if (why !== undefined) return why
    }
    return undefined
  })
