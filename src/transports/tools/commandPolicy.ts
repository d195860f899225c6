// src/transports/tools/commandPolicy.ts — what run_command may run: allowlisted programs only (no shells),
// a working directory and path arguments inside the item's worktree (symlinks followed), and git only as
// gitCommandPolicy.ts allows. Guard rails against an agent's mistakes, not a sandbox.
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { gitEnvironment, planGit } from "./gitCommandPolicy.js"
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

// find's actions that run programs, delete, or write files named outside the argument checks' reach.
const findActions = new Set([
  "-exec",
  "-execdir",
  "-ok",
  "-okdir",
  "-delete",
  "-fprint",
  "-fprint0",
  "-fprintf",
  "-fls",
])

/** What run_command runs for an allowed command: the argv, and environment changes (undefined removes). */
export type CommandPlan =
  | { readonly _tag: "Refused"; readonly message: string }
  | {
      readonly _tag: "Run"
      readonly argv: readonly [string, ...Array<string>]
      readonly env: Readonly<Record<string, string | undefined>>
    }

/** Whether run_command runs `program` with `args` in `cwd`, and how; a refusal says why. */
export const checkCommand = (worktree: string, cwd: string, program: string, args: ReadonlyArray<string>) =>
  Effect.promise(async (): Promise<CommandPlan> => {
    const refuse = (message: string): CommandPlan => ({ _tag: "Refused", message })
    if (/[\\/]/.test(program)) {
      return refuse(
        `program ${JSON.stringify(program)} is a path: call an allowed program by its name (${defaultAllowedPrograms.join(", ")})`,
      )
    }
    if (shells.has(program)) {
      return refuse(
        `${program} is refused: shells are not allowed (a shell would run anything); run the program itself, as an argv array`,
      )
    }
    if (!(defaultAllowedPrograms as ReadonlyArray<string>).includes(program)) {
      return refuse(`${program} is not an allowed program; allowed: ${defaultAllowedPrograms.join(", ")}`)
    }
    if (program === "rg" && args.some((a) => a === "--pre" || a.startsWith("--pre="))) {
      return refuse("rg --pre is refused: it runs a program on every file searched")
    }
    if (program === "find") {
      const action = args.find((a) => findActions.has(a))
      if (action !== undefined)
        return refuse(
          `find ${action} is refused: it runs or deletes things; list with find, then act on named files`,
        )
    }
    const git = program === "git" ? planGit(args) : undefined
    if (git?._tag === "Refused") return refuse(git.message)
    const worktreeReal = await realPathOf(worktree)
    for (const arg of args) {
      const why = await checkArgument(worktreeReal, cwd, arg)
      if (why !== undefined) return refuse(why)
    }
    if (git === undefined) return { _tag: "Run", argv: [program, ...args], env: {} }
    // Each -C is relative to the one before: wherever they lead must stay inside the worktree.
    let dir = cwd
    for (const step of git.directories) {
      dir = path.resolve(dir, step)
      if (!isInside(worktreeReal, await realPathOf(dir)))
        return refuse(`git -C ${step} leads to ${dir}, outside the worktree: run git inside it`)
    }
    return { _tag: "Run", argv: ["git", ...git.args], env: gitEnvironment(process.env) }
  })
