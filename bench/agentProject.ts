// bench/agentProject.ts — what the agent benchmarks share: a git repository set up for huskies with
// `command` agents written as bash scripts, the scripts' time stamps, and raw git and PTY runs that do the
// same work without huskies (the baselines).
import { execFile, execFileSync, spawn } from "node:child_process"
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as pty from "node-pty"
import { gitInit } from "./measure.js"

/** Lines for bash scripts that commit: an author and committer without relying on the machine's config. */
export const gitIdentity =
  "export GIT_AUTHOR_NAME=agent GIT_AUTHOR_EMAIL=agent@huskies.invalid GIT_COMMITTER_NAME=agent GIT_COMMITTER_EMAIL=agent@huskies.invalid"

export interface AgentProject {
  /** The repository (and huskies project) root. */
  readonly root: string
  /** Where the scripts are (outside the repository). */
  readonly scripts: string
  /** Where the scripts write their time stamps. */
  readonly stamps: string
}

export interface AgentProjectSetup {
  /** `{{scripts}}`, here and in agentsToml, is replaced with the scripts' directory. */
  readonly projectToml: string
  readonly agentsToml: string
  /** File name -> bash source; `{{stamps}}` is replaced with the stamps' directory. */
  readonly scripts: Readonly<Record<string, string>>
}

/** A repository on `main` with one commit, .huskies/ ignored and configured, and the scripts written. */
export const makeAgentProject = (dir: string, setup: AgentProjectSetup): AgentProject => {
  const root = join(dir, "project")
  const scripts = join(dir, "scripts")
  const stamps = join(dir, "stamps")
  for (const d of [root, scripts, stamps]) mkdirSync(d, { recursive: true })
  for (const [name, text] of Object.entries(setup.scripts)) {
    writeFileSync(join(scripts, name), text.replaceAll("{{stamps}}", stamps))
    chmodSync(join(scripts, name), 0o755)
  }
  gitInit(root)
  writeFileSync(join(root, "README.md"), "# bench project\n")
  writeFileSync(join(root, ".gitignore"), ".huskies/\n")
  const git = (...args: ReadonlyArray<string>) =>
    execFileSync("git", ["-c", "user.name=bench", "-c", "user.email=bench@huskies.invalid", ...args], {
      cwd: root,
      stdio: "ignore",
    })
  git("add", "README.md", ".gitignore")
  git("commit", "-q", "-m", "initial")
  mkdirSync(join(root, ".huskies"), { recursive: true })
  writeFileSync(join(root, ".huskies", "project.toml"), setup.projectToml.replaceAll("{{scripts}}", scripts))
  writeFileSync(join(root, ".huskies", "agents.toml"), setup.agentsToml.replaceAll("{{scripts}}", scripts))
  return { root, scripts, stamps }
}

/** `[[agent]]` tables for `count` coders named coder-1..coder-N running `script`. */
export const coderAgents = (count: number, script: string): string =>
  Array.from(
    { length: count },
    (_, i) => `[[agent]]
name = "coder-${i + 1}"
stage = "coder"
runtime = "command"
command = ["{{scripts}}/${script}"]
inactivity_timeout_secs = 60
`,
  ).join("\n")

/**
 * Reads the time stamps (ms since the epoch, sub-ms) a script wrote to `{{stamps}}/<key>.<what>`: bash's
 * $EPOCHREALTIME, one or more on a line.
 */
export const readStamps = (stamps: string, key: string, what: string): ReadonlyArray<number> =>
  readFileSync(join(stamps, `${key}.${what}`), "utf8")
    .trim()
    .split(/\s+/)
    .map((s) => Number(s.replace(",", ".")) * 1000)

export const execGit = (cwd: string, args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile("git", [...args], { cwd }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`git ${args.join(" ")}: ${stderr || error.message}`))
      else resolve(stdout)
    })
  })

/** Where the raw runs put their worktrees: beside huskies' own, so paths are as deep. */
export const rawWorktreePath = (root: string, key: string): string =>
  join(root, ".huskies", "raw-worktrees", key)

/** What huskies does to give an item its worktree, done directly: one `git worktree add`. */
export const rawWorktree = (root: string, key: string): Promise<string> =>
  execGit(root, [
    "worktree",
    "add",
    "--quiet",
    "--no-track",
    "-b",
    `feature/raw-${key}`,
    "--",
    rawWorktreePath(root, key),
    "main",
  ])

export interface RawAgent {
  readonly pid: number
  /** Resolves at the first output. */
  readonly firstOutput: Promise<void>
  /** Resolves when the process has exited (as node-pty reports it). */
  readonly exited: Promise<number>
  /** Complete output lines seen so far. */
  readonly lines: () => number
}

/** Runs `command` in a PTY as huskies would (same terminal size, the item's variables), reading its output. */
export const rawAgent = (command: string, cwd: string, key: string): RawAgent => {
  const term = pty.spawn(command, [], {
    name: "xterm-256color",
    cols: 200,
    rows: 50,
    cwd,
    env: {
      ...(process.env as Record<string, string>),
      HUSKIES_STORY_ID: key,
      HUSKIES_WORKTREE: cwd,
      HUSKIES_AGENT: "raw",
    },
  })
  let lines = 0
  let partial = ""
  let gotOutput: () => void = () => undefined
  const firstOutput = new Promise<void>((resolve) => (gotOutput = resolve))
  term.onData((chunk) => {
    gotOutput()
    // What any supervisor does with a stream: split it into lines and look at the JSON ones.
    const parts = (partial + chunk).split("\n")
    partial = parts.pop() ?? ""
    for (const line of parts) {
      lines++
      if (line.startsWith("{")) JSON.parse(line.trim())
    }
  })
  const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)))
  return { pid: term.pid, firstOutput, exited, lines: () => lines }
}

/** What huskies does between an agent's exit and its gate, done directly: count commits, run the gate. */
export const rawGate = async (root: string, key: string, command: string): Promise<void> => {
  const ahead = Number((await execGit(root, ["rev-list", "--count", `main..feature/raw-${key}`])).trim())
  if (ahead < 1) throw new Error(`raw agent ${key} committed nothing`)
  await new Promise<void>((resolve, reject) => {
    const child = spawn("sh", ["-c", command], {
      cwd: rawWorktreePath(root, key),
      stdio: ["ignore", "pipe", "pipe"],
    })
    child.stdout.resume()
    child.stderr.resume()
    child.on("error", reject)
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`gate exited ${code}`))))
  })
}
