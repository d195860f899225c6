// bench/mergeProject.ts — what the merge queue benchmark (mergeQueue.ts) needs besides the server: feature
// branches made without touching any checkout, the scripted squash merge that is its baseline, and a count
// of the git processes (and their time) a stretch of work started, read from git's trace2 event log.
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, rmSync, statSync } from "node:fs"
import { join } from "node:path"

const identity = ["-c", "user.name=bench", "-c", "user.email=bench@huskies.invalid"]

const git = (
  cwd: string,
  args: ReadonlyArray<string>,
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
) =>
  execFileSync("git", [...args], {
    cwd,
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
    ...options,
  }).trim()

/**
 * Gives each `branch` one commit on top of `base` adding its own `file`, through a private index: neither
 * the checkout in `root` nor a running server's view of it changes.
 */
export const addFeatureBranches = (
  root: string,
  base: string,
  branches: ReadonlyArray<{ readonly branch: string; readonly file: string }>,
): void => {
  const index = join(root, ".git", "bench-index")
  const env = { ...process.env, GIT_INDEX_FILE: index }
  try {
    for (const { branch, file } of branches) {
      git(root, ["read-tree", base], { env })
      const blob = git(root, ["hash-object", "-w", "--stdin"], { input: `${branch}\n` })
      git(root, ["update-index", "--add", "--cacheinfo", `100644,${blob},${file}`], { env })
      const tree = git(root, ["write-tree"], { env })
      const commit = git(root, [...identity, "commit-tree", tree, "-p", base, "-m", `add ${file}`])
      git(root, ["branch", branch, commit])
    }
  } finally {
    rmSync(index, { force: true })
  }
}

/**
 * The merge queue's work for one branch as a shell script would do it: a detached worktree at the base tip,
 * squash, commit, compare-and-swap the base, remove the worktree and the branch. Returns its wall time in ms.
 */
export const scriptedMerge = (root: string, base: string, branch: string, key: string): number => {
  const dir = join(root, ".huskies", "merge", key)
  const start = process.hrtime.bigint()
  const old = git(root, ["rev-parse", base])
  git(root, ["worktree", "add", "--quiet", "--detach", dir, base])
  git(dir, ["merge", "--squash", "--quiet", branch])
  git(dir, [...identity, "commit", "--quiet", "-m", `squash of ${branch}`])
  const merged = git(dir, ["rev-parse", "HEAD"])
  git(root, ["update-ref", `refs/heads/${base}`, merged, old])
  git(root, ["worktree", "remove", "--force", dir])
  git(root, ["branch", "-D", "--quiet", branch])
  return Number(process.hrtime.bigint() - start) / 1e6
}

/** How far `file` has been written: pass it to `gitWork` to count only what came after. */
export const traceOffset = (file: string): number => (existsSync(file) ? statSync(file).size : 0)

export interface GitWork {
  /** Every git process started, children of git included. */
  readonly processes: number
  /** Time inside the top-level git processes (from git's own clock: spawning them is not in it). */
  readonly gitMs: number
  /** From the first git process's start to the last one's exit: what is not `gitMs` went to spawning and the caller. */
  readonly spanMs: number
  /** Processes by subcommand ("worktree add", "rev-parse", ...). */
  readonly bySubcommand: Readonly<Record<string, number>>
}

/** The subcommand in a git argv, past global options such as `-c k=v` and `-C dir`. */
const subcommandOf = (argv: ReadonlyArray<string>): string => {
  let i = 1
  while (i < argv.length && (argv[i] ?? "").startsWith("-")) i += argv[i] === "-c" || argv[i] === "-C" ? 2 : 1
  const name = argv[i] ?? "?"
  return name === "worktree" ? `${name} ${argv[i + 1] ?? "?"}` : name
}

/** Reads the GIT_TRACE2_EVENT log `file` from byte `from` on. */
export const gitWork = (file: string, from: number): GitWork => {
  const text = readFileSync(file).subarray(from).toString("utf8")
  let processes = 0
  let gitMs = 0
  let first = Infinity
  let last = -Infinity
  const bySubcommand: Record<string, number> = {}
  for (const line of text.split("\n")) {
    if (line === "") continue
    const event = JSON.parse(line) as {
      event: string
      sid: string
      time: string
      argv?: Array<string>
      t_abs?: number
    }
    if (!event.sid.includes("/")) {
      first = Math.min(first, Date.parse(event.time))
      last = Math.max(last, Date.parse(event.time))
    }
    if (event.event === "start") {
      processes++
      const name = subcommandOf(event.argv ?? [])
      bySubcommand[name] = (bySubcommand[name] ?? 0) + 1
    } else if (event.event === "exit" && !event.sid.includes("/")) gitMs += (event.t_abs ?? 0) * 1000
  }
  return { processes, gitMs, spanMs: last - first, bySubcommand }
}
