// test/layers/GitRemote.test.ts — the Git service's branch exchange with a shared remote, on real
// repositories: a bare remote and two clones (two nodes). A branch pushed by one is taken up by the other
// (created, fast-forwarded, also inside its checked-out worktree), diverged work is left alone, and the
// base is fetched into its remote-tracking ref. A fetch that meets a worktree being added waits for it.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Git } from "../../src/layers/Git.js"
import { makeGitRepo, makeTempDir } from "../support/gitRepo.js"

const id = "1_story_shared"
const branch = `feature/story-${id}`

/** A bare remote with main, and two clones of it (node A and node B), each with its own Git service. */
const setup = Effect.gen(function* () {
  const origin = yield* makeGitRepo({ initialCommit: true })
  const scratch = yield* makeTempDir()
  const bare = path.join(scratch.dir, "remote.git")
  yield* origin.git("clone", "--quiet", "--bare", origin.dir, bare)
  const clone = (name: string) =>
    Effect.gen(function* () {
      const dir = path.join(scratch.dir, name)
      yield* origin.git("clone", "--quiet", bare, dir)
      return dir
    })
  const git = yield* Effect.provide(Git, Git.layerWith({ env: origin.env }))
  return { origin, bare, a: yield* clone("a"), b: yield* clone("b"), git }
})

const commitIn = (
  run: (...args: ReadonlyArray<string>) => Effect.Effect<string>,
  dir: string,
  file: string,
) =>
  Effect.gen(function* () {
    yield* run("-C", dir, "commit", "--quiet", "--allow-empty", "-m", file)
    return yield* run("-C", dir, "rev-parse", "HEAD")
  })

describe("Git remote branches", () => {
  it.scoped("a branch pushed by one node is created, then fast-forwarded, on the other", () =>
    Effect.gen(function* () {
      const { origin, a, b, git } = yield* setup
      expect(yield* git.hasRemote(a, "origin")).toBe(true)
      expect(yield* git.hasRemote(a, "elsewhere")).toBe(false)
      expect(yield* git.adoptRemoteBranch(b, "origin", branch)).toBe("absent")

      const base = yield* git.fetchBase(a, "origin", "main")
      expect(base).toBe("origin/main")
      const made = yield* git.createWorktree(a, id, base)
      const first = yield* commitIn(origin.git, made.path, "first")
      yield* git.pushBranch(a, "origin", branch)

      expect(yield* git.adoptRemoteBranch(b, "origin", branch)).toBe("created")
      expect(yield* origin.git("-C", b, "rev-parse", branch)).toBe(first)
      expect(yield* git.adoptRemoteBranch(b, "origin", branch)).toBe("current")

      // B works on in its own worktree; A's next push is behind B's: B keeps its own.
      const worktreeB = (yield* git.createWorktree(b, id, "main")).path
      const second = yield* commitIn(origin.git, worktreeB, "second")
      yield* git.pushBranch(b, "origin", branch)
      expect(yield* git.adoptRemoteBranch(b, "origin", branch, worktreeB)).toBe("current")

      // A takes B's work up in its checked-out worktree, which moves with the branch.
      expect(yield* git.adoptRemoteBranch(a, "origin", branch, made.path)).toBe("fast-forwarded")
      expect(yield* origin.git("-C", made.path, "rev-parse", "HEAD")).toBe(second)
      expect(yield* git.commitsAhead(a, "origin/main", branch)).toBe(2)
    }),
  )

  it.scoped("a worker's one fetch brings the base and the branch when there is one", () =>
    Effect.gen(function* () {
      const { origin, a, b, git } = yield* setup
      expect(yield* git.fetchForWork(b, "origin", "main", branch)).toBe("origin/main")
      expect(yield* git.adoptRemoteBranch(b, "origin", branch, undefined, true)).toBe("absent")
      const made = yield* git.createWorktree(a, id, "main")
      const first = yield* commitIn(origin.git, made.path, "first")
      yield* git.pushBranch(a, "origin", branch)
      yield* git.fetchForWork(b, "origin", "main", branch)
      expect(yield* git.adoptRemoteBranch(b, "origin", branch, undefined, true)).toBe("created")
      expect(yield* origin.git("-C", b, "rev-parse", branch)).toBe(first)
    }),
  )

  it.scoped("diverged work is reported and left as it is; a rewritten remote refuses the push", () =>
    Effect.gen(function* () {
      const { origin, a, b, git } = yield* setup
      const worktreeA = (yield* git.createWorktree(a, id, "main")).path
      yield* commitIn(origin.git, worktreeA, "a's")
      yield* git.pushBranch(a, "origin", branch)
      const worktreeB = (yield* git.createWorktree(b, id, "main")).path
      const ours = yield* commitIn(origin.git, worktreeB, "b's own")
      expect(yield* git.adoptRemoteBranch(b, "origin", branch, worktreeB)).toBe("diverged")
      expect(yield* origin.git("-C", b, "rev-parse", branch)).toBe(ours)
      const refused = yield* Effect.flip(git.pushBranch(b, "origin", branch))
      expect(refused.message).toContain("push")
    }),
  )

  // git writes a placeholder HEAD (the null object id) into .git/worktrees/<id> before it points the new
  // worktree's HEAD at its branch, and a fetch that walks it then fails. That moment lasts microseconds;
  // a git on PATH that holds the placeholder for 400 ms before running the real add makes it certain.
  it.scopedLive("a fetch that meets a worktree being added waits for the add and succeeds", () =>
    Effect.gen(function* () {
      const { origin, a, b } = yield* setup
      const made = yield* Effect.provide(Git, Git.layerWith({ env: origin.env })).pipe(
        Effect.flatMap((git) => git.createWorktree(a, id, "main")),
      )
      yield* commitIn(origin.git, made.path, "first")
      yield* origin.git("-C", a, "push", "--quiet", "origin", branch)

      const bin = (yield* makeTempDir()).dir
      const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim()
      const placeholder = `$(git rev-parse --git-common-dir)/worktrees/being-added`
      const script = [
        "#!/bin/sh",
        'if [ "$1" = worktree ] && [ "$2" = add ]; then',
        `  dir="${placeholder.replace("git", realGit)}"`,
        '  mkdir -p "$dir"',
        '  echo 0000000000000000000000000000000000000000 > "$dir/HEAD"',
        '  echo "$PWD/.git/worktrees/being-added/gitdir" > "$dir/gitdir"',
        '  echo ../.. > "$dir/commondir"',
        "  sleep 0.4",
        '  rm -rf "$dir"',
        "fi",
        `exec ${realGit} "$@"`,
      ].join("\n")
      yield* Effect.promise(() => fs.writeFile(path.join(bin, "git"), script, { mode: 0o755 }))
      const slowGit = yield* Effect.provide(
        Git,
        Git.layerWith({
          env: { ...origin.env, PATH: `${bin}${path.delimiter}${process.env["PATH"] ?? ""}` },
        }),
      )

      const adding = yield* Effect.fork(slowGit.createWorktree(b, "2_story_other", "main"))
      yield* Effect.sleep("150 millis")
      expect(yield* Effect.promise(() => fs.readdir(path.join(b, ".git", "worktrees")))).toContain(
        "being-added",
      )
      expect(yield* slowGit.fetchBranch(b, "origin", branch)).toBe(true)
      expect((yield* Fiber.join(adding)).created).toBe(true)
      expect(yield* origin.git("-C", b, "rev-parse", `origin/${branch}`)).toBe(
        yield* origin.git("-C", a, "rev-parse", branch),
      )
    }),
  )
})
