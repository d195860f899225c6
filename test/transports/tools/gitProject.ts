// test/transports/tools/gitProject.ts — a tool environment whose project root is a real git repository
// (isolated from the machine's git config), feature branches with real worktrees and commits in it, and
// config edits read at once.
import { Effect, type Scope } from "effect"
import type { QaMode } from "../../../src/domain/Stage.js"
import { HuskiesConfig } from "../../../src/layers/HuskiesConfig.js"
import type { ToolTestEnv } from "../../support/tools.js"
import { makeGitRepo, type TempDir } from "../../support/gitRepo.js"
import { codedItem, gatesPassed } from "../../support/pipeline.js"
import { toolLayer } from "../../support/tools.js"

/** Runs `program` with the tools on a fresh repository (one commit on main) as the project root. */
export const withGitProject = <A, E>(
  program: (repo: TempDir) => Effect.Effect<A, E, ToolTestEnv | Scope.Scope>,
) =>
  Effect.gen(function* () {
    const repo = yield* makeGitRepo({ initialCommit: true })
    return yield* Effect.provide(program(repo), toolLayer(repo.dir))
  }).pipe(Effect.scoped)

export const worktreeOf = (id: string) => `.huskies/worktrees/${id}`

/**
 * Writes one of the project's config files and has the server read it now, as a tool that edits it would:
 * the watcher alone would apply it once the file has been quiet for the debounce.
 */
export const writeConfig = (
  repo: TempDir,
  file: ".huskies/project.toml" | ".huskies/agents.toml",
  text: string,
) =>
  Effect.gen(function* () {
    yield* repo.write(file, text)
    const { problem } = yield* (yield* HuskiesConfig).reload
    if (problem._tag === "Some") return yield* Effect.die(problem.value)
  })

/** Creates feature/story-<id> from main in a real worktree, as a coder would, with `commits` commits on it. */
export const featureWork = (repo: TempDir, id: string, commits: number) =>
  Effect.gen(function* () {
    const worktree = worktreeOf(id)
    yield* repo.git("worktree", "add", "--quiet", "-b", `feature/story-${id}`, worktree)
    for (let i = 0; i < commits; i++) {
      yield* repo.write(`${worktree}/work-${i}.txt`, `change ${i}\n`)
      yield* repo.git("-C", worktree, "add", "--", `work-${i}.txt`)
      yield* repo.git("-C", worktree, "commit", "--quiet", "-m", `work ${i}`)
    }
  })

/** An item whose feature branch has one commit adding `file`, moved on by passing gates with `qa`. */
export const itemWithWork = (repo: TempDir, name: string, file: string, qa: QaMode) =>
  Effect.gen(function* () {
    const coded = yield* codedItem(repo, name, file)
    yield* gatesPassed(coded, qa)
    return coded.id
  })
