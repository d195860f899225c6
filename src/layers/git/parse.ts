// src/layers/git/parse.ts — pure parsers for the machine-readable output the Git service asks git for:
// `worktree list --porcelain -z`, `status --porcelain=v1 -z` and a NUL/US-separated `log` format.
// NUL-separated forms are used throughout so file names with spaces, quotes or newlines come back verbatim.

export interface WorktreeEntry {
  /** Absolute path, as git recorded it. */
  readonly path: string
  /** The commit checked out; "" for a bare repository or a branch with no commits yet. */
  readonly head: string
  /** The branch checked out (without `refs/heads/`); undefined when detached or bare. */
  readonly branch: string | undefined
  readonly detached: boolean
  readonly bare: boolean
  readonly locked: boolean
  /** Why it is locked, "" when no reason was given. */
  readonly lockedReason: string
  /** git considers it stale: its directory (or its `.git` link) is gone. */
  readonly prunable: boolean
  readonly prunableReason: string
}

const valueAfter = (line: string, key: string): string | undefined =>
  line === key ? "" : line.startsWith(`${key} `) ? line.slice(key.length + 1) : undefined

export const parseWorktreeList = (output: string): ReadonlyArray<WorktreeEntry> => {
  const entries: Array<WorktreeEntry> = []
  let current: { -readonly [K in keyof WorktreeEntry]: WorktreeEntry[K] } | undefined
  const flush = () => {
    if (current !== undefined) entries.push(current)
    current = undefined
  }
  for (const line of output.split("\0")) {
    if (line === "") {
      flush()
      continue
    }
    const path = valueAfter(line, "worktree")
    if (path !== undefined) {
      flush()
      current = {
        path,
        head: "",
        branch: undefined,
        detached: false,
        bare: false,
        locked: false,
        lockedReason: "",
        prunable: false,
        prunableReason: "",
      }
      continue
    }
    if (current === undefined) continue
    const head = valueAfter(line, "HEAD")
    const branch = valueAfter(line, "branch")
    const locked = valueAfter(line, "locked")
    const prunable = valueAfter(line, "prunable")
    if (head !== undefined) current.head = head
    else if (branch !== undefined) current.branch = branch.replace(/^refs\/heads\//, "")
    else if (line === "detached") current.detached = true
    else if (line === "bare") current.bare = true
    else if (locked !== undefined) {
      current.locked = true
      current.lockedReason = locked
    } else if (prunable !== undefined) {
      current.prunable = true
      current.prunableReason = prunable
    }
  }
  flush()
  return entries
}

export interface StatusEntry {
  /** X of porcelain v1: the index (staged) side. " " unchanged, "?" untracked, "!" ignored. */
  readonly index: string
  /** Y of porcelain v1: the work tree (unstaged) side. */
  readonly workTree: string
  /** Relative to the worktree's top, exactly as on disk. */
  readonly path: string
  /** For a rename or copy: the path it came from. */
  readonly from: string | undefined
  /** Has a change in the index that the next commit would record. */
  readonly staged: boolean
  readonly untracked: boolean
}

export const parseStatus = (output: string): ReadonlyArray<StatusEntry> => {
  const fields = output.split("\0")
  const entries: Array<StatusEntry> = []
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] ?? ""
    if (field.length < 4) continue
    const index = field[0] ?? " "
    const workTree = field[1] ?? " "
    const path = field.slice(3)
    // With -z a rename or copy is followed by its source path as a field of its own.
    const moved = index === "R" || index === "C" || workTree === "R" || workTree === "C"
    const from = moved ? fields[++i] : undefined
    const untracked = index === "?" && workTree === "?"
    entries.push({
      index,
      workTree,
      path,
      from,
      staged: !untracked && index !== " " && index !== "!",
      untracked,
    })
  }
  return entries
}

export interface LogCommit {
  readonly sha: string
  readonly subject: string
  readonly author: string
  readonly email: string
  /** Author time, ms since the epoch. */
  readonly time: number
}

/** The `--format` that `parseLog` reads: fields split by US (0x1f), commits by NUL (`-z`). */
export const logFormat = "%H%x1f%an%x1f%ae%x1f%at%x1f%s"

export const parseLog = (output: string): ReadonlyArray<LogCommit> =>
  output
    .split("\0")
    .map((record) => record.replace(/^\n+/, ""))
    .filter((record) => record !== "")
    .map((record) => {
      const [sha = "", author = "", email = "", seconds = "0", ...subject] = record.split("\x1f")
      return { sha, author, email, time: Number(seconds) * 1000, subject: subject.join("\x1f").trimEnd() }
    })
