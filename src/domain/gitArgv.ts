// src/domain/gitArgv.ts — git's command line as git itself reads it: global options (-C, -c, --git-dir...)
// split from the subcommand and its arguments, so a rule about `git push` sees `git -C . push` too.
// Pure; used by run_command's git policy and by the permission rules for Bash commands.

/** One global option as git read it; `--git-dir=x` and `--git-dir x` both become `{ option: "--git-dir", value: "x" }`. */
export interface GitGlobal {
  readonly option: string
  readonly value: string | undefined
}

export type GitArgv =
  | {
      readonly _tag: "Invocation"
      readonly globals: ReadonlyArray<GitGlobal>
      readonly subcommand: string
      /** Where the subcommand is in the arguments given (after `git`), or -1 when git made it up (`--version`). */
      readonly subcommandIndex: number
      readonly args: ReadonlyArray<string>
    }
  /** `git` with only options that print something and exit (`git --exec-path`), or nothing at all. */
  | { readonly _tag: "NoSubcommand"; readonly globals: ReadonlyArray<GitGlobal> }
  | { readonly _tag: "BadOption"; readonly option: string; readonly reason: string }

/** Options that take a value, as `--opt=value` or as the next argument. */
const valueOptions = new Set([
  "--git-dir",
  "--work-tree",
  "--namespace",
  "--super-prefix",
  "--config-env",
  "--attr-source",
])
/** Options whose value is always the next argument. */
const separateValueOptions = new Set(["-C", "-c"])
/** Options that take a value only as `--opt=value` (alone they mean something else or nothing). */
const equalsOptions = new Set(["--exec-path", "--list-cmds"])
const flags = new Set([
  "-p",
  "--paginate",
  "-P",
  "--no-pager",
  "--no-replace-objects",
  "--no-lazy-fetch",
  "--no-advice",
  "--bare",
  "--literal-pathspecs",
  "--glob-pathspecs",
  "--noglob-pathspecs",
  "--icase-pathspecs",
  "--no-optional-locks",
  "--exec-path",
  "--html-path",
  "--man-path",
  "--info-path",
])
/** Options git turns into a subcommand of their own. */
const commandOptions: Readonly<Record<string, string>> = {
  "-h": "help",
  "--help": "help",
  "-v": "version",
  "--version": "version",
}

/** Reads `args` (everything after `git`) the way git's handle_options does. */
export const parseGitArgv = (args: ReadonlyArray<string>): GitArgv => {
  const globals: Array<GitGlobal> = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? ""
    const commandOption = commandOptions[arg]
    if (commandOption !== undefined)
      return {
        _tag: "Invocation",
        globals,
        subcommand: commandOption,
        subcommandIndex: -1,
        args: args.slice(i + 1),
      }
    if (!arg.startsWith("-")) {
      // `git log --help` is `git help log`: git rewrites it before running anything.
      if (args[i + 1] === "--help")
        return {
          _tag: "Invocation",
          globals,
          subcommand: "help",
          subcommandIndex: -1,
          args: [arg, ...args.slice(i + 2)],
        }
      return { _tag: "Invocation", globals, subcommand: arg, subcommandIndex: i, args: args.slice(i + 1) }
    }
    const eq = arg.indexOf("=")
    const name = eq > 0 ? arg.slice(0, eq) : arg
    if (eq > 0 && (valueOptions.has(name) || equalsOptions.has(name))) {
      globals.push({ option: name, value: arg.slice(eq + 1) })
    } else if (valueOptions.has(arg) || separateValueOptions.has(arg)) {
      const value = args[i + 1]
      if (value === undefined) return { _tag: "BadOption", option: arg, reason: `${arg} needs a value` }
      globals.push({ option: arg, value })
      i++
    } else if (flags.has(arg)) {
      globals.push({ option: arg, value: undefined })
    } else {
      return {
        _tag: "BadOption",
        option: arg,
        reason: `${arg} is not an option git knows before a subcommand`,
      }
    }
  }
  return { _tag: "NoSubcommand", globals }
}

/** The values given to one global option, in order (`-c` may be given many times). */
export const globalValues = (globals: ReadonlyArray<GitGlobal>, option: string): ReadonlyArray<string> =>
  globals.flatMap((g) => (g.option === option && g.value !== undefined ? [g.value] : []))

/**
 * The alias `name` that `-c alias.<name>=<value>` defines on this command line (the last one wins, as in
 * git), and whether `--config-env` defines one whose value only the environment knows.
 */
export const commandLineAlias = (
  globals: ReadonlyArray<GitGlobal>,
  name: string,
): { readonly value: string | undefined; readonly fromEnvironment: boolean } => {
  // Config section and key names are case-insensitive; `alias.P` and `alias.p` are one alias.
  const key = `alias.${name}`.toLowerCase()
  const keyOf = (setting: string) => {
    const eq = setting.indexOf("=")
    return (eq < 0 ? setting : setting.slice(0, eq)).toLowerCase()
  }
  let value: string | undefined
  for (const setting of globalValues(globals, "-c")) {
    if (keyOf(setting) !== key) continue
    const eq = setting.indexOf("=")
    // `-c alias.x` without `=` sets it to true, which git refuses to run as an alias.
    value = eq < 0 ? undefined : setting.slice(eq + 1)
  }
  const fromEnvironment = globalValues(globals, "--config-env").some((setting) => keyOf(setting) === key)
  return { value, fromEnvironment }
}

/**
 * The commands git ships (builtins and its own programs): git runs these before it looks for an alias,
 * so an alias can never take one of these names over.
 */
export const gitCommands: ReadonlySet<string> = new Set(
  `add am annotate apply archimport archive bisect blame branch bugreport bundle cat-file check-attr
  check-ignore check-mailmap check-ref-format checkout checkout-index cherry cherry-pick citool clean clone
  column commit commit-graph commit-tree config count-objects credential credential-cache credential-store
  cvsexportcommit cvsimport cvsserver daemon describe diagnose diff diff-files diff-index diff-tree difftool
  fast-export fast-import fetch fetch-pack filter-branch fmt-merge-msg for-each-ref for-each-repo
  format-patch fsck fsck-objects gc get-tar-commit-id gitk gitweb grep gui hash-object help hook
  http-backend http-fetch http-push imap-send index-pack init init-db instaweb interpret-trailers log
  ls-files ls-remote ls-tree mailinfo mailsplit maintenance merge merge-base merge-file merge-index
  merge-one-file merge-tree mergetool mktag mktree multi-pack-index mv name-rev notes p4 pack-objects
  pack-redundant pack-refs patch-id prune prune-packed pull push quiltimport range-diff read-tree rebase
  receive-pack reflog remote remote-ext remote-fd repack replace request-pull rerere reset restore
  rev-list rev-parse revert rm scalar send-email send-pack sh-i18n sh-setup shortlog show show-branch
  show-index show-ref sparse-checkout stage stash status stripspace submodule svn switch symbolic-ref tag
  unpack-file unpack-objects update-index update-ref update-server-info upload-archive upload-pack var
  verify-commit verify-pack verify-tag version whatchanged worktree write-tree`.split(/\s+/),
)

/** Subcommands that publish commits to another repository: `push` and the programs it is made of. */
export const pushCommands: ReadonlySet<string> = new Set(["push", "send-pack", "http-push"])
