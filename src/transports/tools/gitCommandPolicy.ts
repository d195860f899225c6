// src/transports/tools/gitCommandPolicy.ts — run_command's rules for git: the command line read as git
// reads it (gitArgv), only git's own commands that are safe for an agent (so no alias can ever run), no
// push or branch moves, no config writes, and git started with settings that run no hook or configured program.
import { gitCommands, parseGitArgv, type GitGlobal } from "../../domain/gitArgv.js"

const refusedCommands: Readonly<Record<string, string>> = {
  push: "pushing is huskies' merge queue's job: commit on the feature branch and let the item reach Merge",
  "send-pack":
    "pushing is huskies' merge queue's job: commit on the feature branch and let the item reach Merge",
  "http-push":
    "pushing is huskies' merge queue's job: commit on the feature branch and let the item reach Merge",
  checkout: "the worktree stays on its feature branch: use `git restore <file>` to discard a file's changes",
  switch: "the worktree stays on its feature branch feature/story-<id>",
  rebase: "rewriting the branch's history is refused: commit on top of it (merge the base branch if needed)",
  bisect: "bisect checks out other commits: the worktree stays on its feature branch",
  worktree: "worktrees are huskies' own: use create_worktree, remove_worktree and list_worktrees",
  "filter-branch": "rewriting history is refused",
  "update-ref": "moving refs by hand is refused: commit on the feature branch",
  "symbolic-ref": "changing HEAD by hand is refused: the worktree stays on its feature branch",
  help: "it starts a manual viewer: run `git <command> -h` for a command's options",
}

/** git's own commands run_command runs: reading, committing and merging on the feature branch. */
export const allowedGitCommands: ReadonlySet<string> = new Set(
  `add annotate apply archive blame branch cat-file check-attr check-ignore check-mailmap check-ref-format
  cherry cherry-pick clean commit config count-objects describe diff diff-files diff-index diff-tree fetch
  for-each-ref format-patch grep hash-object interpret-trailers log ls-files ls-remote ls-tree merge merge-base
  merge-file merge-tree mktree mv name-rev patch-id pull range-diff reflog remote reset restore rev-list
  rev-parse revert rm shortlog show show-branch show-ref stash status stripspace tag update-index var
  verify-commit verify-tag version whatchanged write-tree`.split(/\s+/),
)

/**
 * Of the global options gitArgv knows, these are dropped (git never pages here) and those below are
 * refused; every other one an agent gives is passed on.
 */
const droppedGlobals = new Set(["-p", "--paginate", "-P", "--no-pager"])
const refusedGlobals: Readonly<Record<string, string>> = {
  "-c": "settings on the command line can define aliases and commands git would run: git runs with the repository's settings",
  "--config-env":
    "settings from the environment can define aliases and commands git would run: git runs with the repository's settings",
  "--exec-path": "it makes git run its commands from another directory",
  "--git-dir": "it would point git at another repository: run git in the worktree as it is",
  "--work-tree": "it would point git at another repository: run git in the worktree as it is",
  "--bare": "it would point git at another repository layout: run git in the worktree as it is",
  "--super-prefix": "it is git's own internal option",
}

/**
 * Settings every run_command git gets, after (so over) every config file: no hooks (`/dev/null/<hook>`
 * can never exist), no fsmonitor, pager, editor, ssh or askpass program from config, no stored
 * credentials, no `ext::` remotes that run commands.
 */
export const neutralisingConfig: ReadonlyArray<string> = [
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "core.pager=cat",
  "core.editor=:",
  "sequence.editor=:",
  "core.sshCommand=ssh",
  "core.askPass=",
  "credential.helper=",
  "protocol.ext.allow=never",
]

// Author and committer identity are the only GIT_* variables a run_command git keeps: none runs anything.
const keptVariables = /^GIT_(AUTHOR|COMMITTER)_(NAME|EMAIL|DATE)$/

/** The server's environment without GIT_* variables (GIT_DIR, GIT_CONFIG_*, GIT_SSH_COMMAND, GIT_EXEC_PATH...). */
export const gitEnvironment = (env: NodeJS.ProcessEnv): Readonly<Record<string, string | undefined>> => ({
  ...Object.fromEntries(
    Object.keys(env).flatMap((name) =>
      name.startsWith("GIT_") && !keptVariables.test(name) ? [[name, undefined]] : [],
    ),
  ),
  GIT_TERMINAL_PROMPT: "0",
})

const mergeStrategies = new Set(["ort", "recursive", "resolve", "octopus", "ours", "subtree"])
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
const configWrites = new Set([
  "--add",
  "--unset",
  "--unset-all",
  "--replace-all",
  "--rename-section",
  "--remove-section",
  "-e",
  "--edit",
])
const configReads = new Set([
  "--get",
  "--get-all",
  "--get-regexp",
  "--get-urlmatch",
  "--get-color",
  "--get-colorbool",
  "-l",
  "--list",
])
const configValued = new Set(["-f", "--file", "--blob", "--type", "--default"])

const optionName = (arg: string) =>
  arg.startsWith("--") && arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg

/** Why these arguments of `git <subcommand>` are refused, if they are. */
const checkArguments = (subcommand: string, args: ReadonlyArray<string>): string | undefined => {
  const has = (...options: ReadonlyArray<string>) => args.find((a) => options.includes(optionName(a)))
  // --remote makes archive ask another repository (and --exec names the program that answers there).
  const runner =
    has("--ext-diff", "--upload-pack", "--receive-pack", "--exec") ??
    (subcommand === "archive" ? has("--remote") : undefined)
  if (runner !== undefined)
    return `git ${subcommand} ${optionName(runner)} is refused: it runs another program (a configured or given one)`
  if (subcommand === "grep" && args.some((a) => a.startsWith("-O") || a.startsWith("--open-files-in-pager")))
    return "git grep -O is refused: it runs a program it is given"
  if ((subcommand === "fetch" || subcommand === "ls-remote") && args.includes("-u"))
    return `git ${subcommand} -u is refused: it runs a program it is given or moves the checked-out branch`
  if (subcommand === "reset" && args.includes("--hard"))
    return "git reset --hard is refused: it throws away work; use `git restore <file>` for one file's changes"
  if (subcommand === "branch") {
    const flag = args.find((a) => branchChanges.has(a) || /^-[a-zA-Z]*[dDmMcCf][a-zA-Z]*$/.test(a))
    if (flag !== undefined)
      return `git branch ${flag} is refused: branches are huskies' own (it deletes and merges them)`
  }
  if (subcommand === "pull" && args.some((a) => a === "--rebase" || a === "-r" || a.startsWith("--rebase=")))
    return "git pull --rebase is refused: rewriting the branch's history is refused"
  if (["merge", "pull", "cherry-pick", "revert"].includes(subcommand)) {
    for (let i = 0; i < args.length; i++) {
      const a = args[i] ?? ""
      const short = (subcommand === "merge" || subcommand === "pull") && a.startsWith("-s")
      const strategy =
        a === "--strategy" || (short && a === "-s")
          ? args[i + 1]
          : a.startsWith("--strategy=")
            ? a.slice(11)
            : short
              ? a.slice(2)
              : undefined
      if (strategy !== undefined && !mergeStrategies.has(strategy))
        return `git ${subcommand} strategy ${JSON.stringify(strategy)} is refused: use one of git's own (${[...mergeStrategies].join(", ")})`
    }
  }
  if (subcommand === "fetch" || subcommand === "pull") {
    const positional = args.filter((a) => !a.startsWith("-"))
    const refspec = positional.slice(1).find((a) => /:(?!\/\/)/.test(a) && !a.includes("@"))
    if (refspec !== undefined)
      return `git ${subcommand} ${refspec} is refused: it would move a local branch; fetch into remote-tracking refs`
  }
  if (subcommand === "config") {
    const write = args.find((a) => configWrites.has(optionName(a)))
    if (write !== undefined)
      return `git config ${write} is refused: run_command may read git's settings, not change them`
    if (!args.some((a) => configReads.has(optionName(a)))) {
      let positional = 0
      for (let i = 0; i < args.length; i++) {
        const a = args[i] ?? ""
        if (configValued.has(a)) i++
        else if (!a.startsWith("-")) positional++
      }
      if (positional > 1)
        return "git config <name> <value> is refused: run_command may read git's settings, not change them"
    }
  }
  if (subcommand === "remote") {
    const action = args.find((a) => !a.startsWith("-"))
    if (action !== undefined && action !== "show" && action !== "get-url")
      return `git remote ${action} is refused: remotes are the project's settings; run_command may list them (git remote -v, show, get-url)`
  }
  if (subcommand === "reflog") {
    const action = args.find((a) => !a.startsWith("-"))
    if (action === "expire" || action === "delete")
      return `git reflog ${action} is refused: the reflog is how lost work is found again`
  }
  return undefined
}

export type GitPlan =
  | { readonly _tag: "Refused"; readonly message: string }
  | {
      readonly _tag: "Run"
      /** The arguments to run git with: neutralising settings first, then what the agent asked for. */
      readonly args: ReadonlyArray<string>
      /** `-C` directories, in order: each is relative to the one before. */
      readonly directories: ReadonlyArray<string>
    }

/** Whether run_command runs `git <args>`, and with which arguments. */
export const planGit = (args: ReadonlyArray<string>): GitPlan => {
  const refuse = (message: string): GitPlan => ({ _tag: "Refused", message })
  const argv = parseGitArgv(args)
  if (argv._tag === "BadOption") return refuse(`git ${argv.option} is refused: ${argv.reason}`)
  for (const global of argv.globals) {
    const why = refusedGlobals[global.option]
    // `--exec-path` alone only prints where git's programs are.
    if (why !== undefined && !(global.option === "--exec-path" && global.value === undefined))
      return refuse(`git ${global.option} is refused: ${why}`)
  }
  const kept = argv.globals.filter((g: GitGlobal) => !droppedGlobals.has(g.option))
  const globals = kept.flatMap((g) =>
    g.value === undefined ? [g.option] : g.option === "-C" ? ["-C", g.value] : [`${g.option}=${g.value}`],
  )
  const directories = kept.flatMap((g) => (g.option === "-C" && g.value !== undefined ? [g.value] : []))
  const prefix = [...neutralisingConfig.flatMap((setting) => ["-c", setting]), "--no-pager", ...globals]
  if (argv._tag === "NoSubcommand") return { _tag: "Run", args: prefix, directories }
  const { subcommand } = argv
  const reason = refusedCommands[subcommand]
  if (reason !== undefined) return refuse(`git ${subcommand} is refused: ${reason}`)
  if (!allowedGitCommands.has(subcommand)) {
    const what = gitCommands.has(subcommand)
      ? `git ${subcommand} is not one of the git commands run_command runs`
      : `git ${subcommand} is not a git command (aliases are not run)`
    return refuse(`${what}; it runs: ${[...allowedGitCommands].join(", ")}`)
  }
  const why = checkArguments(subcommand, argv.args)
  if (why !== undefined) return refuse(why)
  // Only `git diff` runs diff.external by default; --ext-diff is refused above for the others.
  const extra = subcommand === "diff" ? ["--no-ext-diff"] : []
  return { _tag: "Run", args: [...prefix, subcommand, ...extra, ...argv.args], directories }
}
