// src/layers/git/paths.ts — where huskies keeps a work item's worktree and branch, and the checks that keep
// every path and name the Git service hands to git explicit and inside its worktree.
import { Either } from "effect"
import * as path from "node:path"

/** The folder, relative to the project root, that holds one worktree per work item. */
export const worktreesFolder = path.join(".huskies", "worktrees")

/** The branch a coder works on for item `id`. */
export const featureBranchOf = (id: string): string => `feature/story-${id}`

/** Where the worktree for item `id` lives. */
export const worktreePathOf = (root: string, id: string): string =>
  path.join(path.resolve(root), worktreesFolder, id)

/** Why `id` cannot name a worktree directory and a branch, or undefined when it can. */
export const invalidId = (id: string): string | undefined =>
  /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id) && !id.includes("..") && !id.endsWith(".lock")
    ? undefined
    : `"${id}" cannot name a worktree: use letters, digits, "_", "-" and "." (a work item id like 12_story_add_login)`

/** Why `name` cannot be passed to git as a revision or branch, or undefined when it can. */
export const invalidRef = (name: string): string | undefined =>
  name === ""
    ? "the name is empty"
    : name.startsWith("-")
      ? `"${name}" starts with "-", which git would read as an option`
      : /[\0\n\r]/.test(name)
        ? `${JSON.stringify(name)} contains a control character`
        : undefined

const isInside = (relative: string): boolean =>
  relative !== "" && relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative)

/**
 * `file` as a path relative to the worktree, or why it is refused: empty, `.` (the whole worktree, the
 * road to an accidental `git add -A`), any `..` segment, inside `.git`, or absolute and outside the
 * worktree. `worktreeReal` is the worktree with symlinks resolved, for absolute paths given that way.
 */
export const worktreeRelative = (
  worktree: string,
  worktreeReal: string,
  file: string,
): Either.Either<string, string> => {
  if (file.trim() === "") return Either.left("an empty path names nothing: name each file")
  if (file.includes("\0")) return Either.left(`${JSON.stringify(file)} contains a NUL character`)
  let relative: string
  if (path.isAbsolute(file)) {
    const candidates = [path.relative(path.resolve(worktree), file), path.relative(worktreeReal, file)]
    if (candidates.includes("")) {
      return Either.left(`${file} names the whole worktree: name the files to include, one by one`)
    }
    const inside = candidates.find(isInside)
    if (inside === undefined) {
      return Either.left(`${file} is outside the worktree ${worktree}: name files inside it`)
    }
    relative = inside
  } else {
    if (file.split(/[\\/]/).includes("..")) {
      return Either.left(`${file} contains "..": name the file by its path inside the worktree, without ".."`)
    }
    relative = path.normalize(file)
  }
  const segments = relative.split(path.sep).filter((s) => s !== "" && s !== ".")
  if (segments.length === 0) {
    return Either.left(`${file} names the whole worktree: name the files to include, one by one`)
  }
  if (segments[0] === ".git") return Either.left(`${file} is inside .git, which is git's own data`)
  return Either.right(segments.join("/"))
}
