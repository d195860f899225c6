// src/actors/branchSync.ts — feature branches between nodes: where a node's worktree starts from (a worker
// fetches the base and takes up a branch another node pushed, the fetch started as soon as its claim is
// written), and the push of a worker's work to the shared remote. Used by storyWork (coder and QA
// worktrees), the merge queue (the branch to merge) and workClaims (the fetch ahead).
import { Clock, Effect, Fiber, HashMap, Option, Ref, type Scope } from "effect"
import type { NodeId } from "../domain/ExecutionState.js"
import type { StoryId } from "../domain/StoryId.js"
import type { WorkItem } from "../domain/WorkItem.js"
import { featureBranchOf, Git, type GitError } from "../layers/Git.js"
import type { ProjectionError } from "../layers/docModel.js"

/** How this node shares branches with the others (the project's `[nodes]` table and its mode). */
export interface NodeBranches {
  /** The git remote feature branches are pushed to and fetched from. */
  readonly remote: string
  /** A worker: branches from the remote's base and pushes its work; the main node only fetches. */
  readonly worker: boolean
  /** Whether this node still holds the item (its claim): a node that lost it must not push. */
  readonly holds?: (item: WorkItem) => Effect.Effect<boolean>
  /**
   * The main node: every node that ever claimed the item (Store.claimants), to tell whether another may
   * have pushed its branch. Without it, any item is taken to have been worked on elsewhere.
   */
  readonly claimants?: (id: StoryId) => Effect.Effect<ReadonlySet<string>, ProjectionError>
  /** A worker: the fetch started for the item when it was claimed (FetchAhead.take). */
  readonly fetchedAhead?: FetchAhead["take"]
}

/**
 * A worker's fetch for an item (fetchForWork), started once its claim is written so that it runs while the
 * claim is confirmed and the work starts, instead of after; prepareBranch takes it instead of fetching.
 */
export interface FetchAhead {
  /** Starts the item's fetch in the background (a newer start replaces an older one). */
  readonly start: (id: StoryId) => Effect.Effect<void>
  /**
   * The ref fetchForWork returned, when a fetch of the same remote and base was started for the item less
   * than `maxAgeMillis` ago and succeeded (awaited if still running); None otherwise: fetch now. Once.
   */
  readonly take: (id: StoryId, remote: string, base: string) => Effect.Effect<Option.Option<string>>
  /** Forgets the item's fetch (its claim ended): stopped if still running. */
  readonly drop: (id: StoryId) => Effect.Effect<void>
}

interface Started {
  readonly remote: string
  readonly base: string
  readonly at: number
  readonly fiber: Fiber.Fiber<string, GitError>
}

export const makeFetchAhead = (
  root: string,
  /** The remote and base a fetch started now would use (the project's config); undefined: none. */
  where: Effect.Effect<{ readonly remote: string; readonly base: string } | undefined>,
  /** Older than this, a fetch is not taken: the base may have moved on since (a slot was long in coming). */
  maxAgeMillis = 5_000,
): Effect.Effect<FetchAhead, never, Git | Scope.Scope> =>
  Effect.gen(function* () {
    const git = yield* Git
    const scope = yield* Effect.scope
    const started = yield* Ref.make(HashMap.empty<StoryId, Started>())
    const remove = (id: StoryId) =>
      Ref.modify(started, (map) => [HashMap.get(map, id), HashMap.remove(map, id)] as const)
    const drop = (id: StoryId) =>
      Effect.flatMap(remove(id), (old) =>
        Option.isSome(old) ? Fiber.interrupt(old.value.fiber) : Effect.void,
      )
    const start = (id: StoryId) =>
      Effect.gen(function* () {
        const target = yield* where
        if (target === undefined) return
        yield* drop(id)
        const { remote, base } = target
        const fiber = yield* Effect.forkIn(git.fetchForWork(root, remote, base, featureBranchOf(id)), scope)
        const at = yield* Clock.currentTimeMillis
        const entry: Started = { remote, base, at, fiber }
        yield* Ref.update(started, HashMap.set(id, entry))
      })
    const take = (id: StoryId, remote: string, base: string) =>
      Effect.gen(function* () {
        const found = yield* remove(id)
        if (Option.isNone(found)) return Option.none<string>()
        const { fiber, at } = found.value
        const fresh = (yield* Clock.currentTimeMillis) - at <= maxAgeMillis
        if (!fresh || found.value.remote !== remote || found.value.base !== base) {
          yield* Fiber.interrupt(fiber)
          return Option.none<string>()
        }
        // A failed fetch ahead is fetched again by the caller, which reports the error if it fails again.
        return Option.getRight(yield* Effect.either(Fiber.join(fiber)))
      })
    return { start, take, drop } satisfies FetchAhead
  })

/**
 * Whether another node may have worked on the item, so pushed its branch: one runs an agent on it now, or
 * claimed it once (a node claims every stage it works on, and a released claim keeps its entry; a finished
 * run's execution does not outlive the stage). Claims that do not decode may hide one: yes.
 */
const touchedElsewhere = (item: WorkItem, node: NodeId, nodes: NodeBranches): Effect.Effect<boolean> =>
  Object.keys(item.execution).some((other) => other !== node) || nodes.claimants === undefined
    ? Effect.succeed(true)
    : nodes.claimants(item.id).pipe(
        Effect.map((claimants) => [...claimants].some((other) => other !== node)),
        Effect.orElseSucceed(() => true),
      )

/**
 * Gets the item's feature branch ready before a worktree is made or used here: taken up (or fast-forwarded)
 * from the remote when another node may have pushed it. Returns the ref a new branch starts from: the
 * remote's base on a worker (fetched now), the local base on the main node.
 */
export const prepareBranch = (
  root: string,
  item: WorkItem,
  node: NodeId,
  base: string,
  nodes: NodeBranches | undefined,
  worktree?: string,
): Effect.Effect<string, GitError, Git> =>
  Effect.gen(function* () {
    if (nodes === undefined) return base
    const git = yield* Git
    const branch = featureBranchOf(item.id)
    // A worker has its remote (checked at start): one fetch brings the base and the item's branch (started
    // when the claim was written, when it was).
    const ahead =
      nodes.worker && nodes.fetchedAhead !== undefined
        ? yield* nodes.fetchedAhead(item.id, nodes.remote, base)
        : Option.none<string>()
    const fetched = nodes.worker
      ? Option.isSome(ahead)
        ? ahead.value
        : yield* git.fetchForWork(root, nodes.remote, base, branch)
      : undefined
    // The main node takes the branch up only where another node may have pushed it (see touchedElsewhere),
    // and only from a remote it has: for an item nobody else touched, git is not asked anything (a project
    // with no other node never reaches its remote, a hosted one such as GitHub least of all).
    if (!nodes.worker && !(yield* touchedElsewhere(item, node, nodes))) return base
    if (fetched === undefined && !(yield* git.hasRemote(root, nodes.remote))) return base
    const adopted = yield* git.adoptRemoteBranch(root, nodes.remote, branch, worktree, fetched !== undefined)
    if (adopted === "diverged")
      yield* Effect.logWarning(
        `${branch} here and on ${nodes.remote} have each commits the other lacks: working on the local one`,
      )
    else if (adopted !== "absent" && adopted !== "current")
      yield* Effect.logInfo(`${branch}: ${adopted} from ${nodes.remote}`)
    return fetched ?? base
  })

/**
 * After a merge on the main node with `[nodes] push_base`: the base goes to the remote, so workers start
 * new branches from merged work. A failure (the remote moved on, unreachable) is logged: the merge stands.
 */
export const publishBase = (root: string, remote: string, base: string): Effect.Effect<void, never, Git> =>
  Effect.gen(function* () {
    const git = yield* Git
    if (!(yield* git.hasRemote(root, remote))) return
    yield* git.pushBranch(root, remote, base)
  }).pipe(Effect.catchAll((e) => Effect.logWarning(`${base} not pushed to ${remote}: ${e.message}`)))

/**
 * Pushes the item's feature branch to the remote from a worker (the main node's branches are where QA and
 * the merge read them already). False, with nothing pushed, when this node no longer holds the item.
 */
export const pushBranch = (
  root: string,
  item: WorkItem,
  nodes: NodeBranches | undefined,
): Effect.Effect<boolean, GitError, Git> =>
  Effect.gen(function* () {
    if (nodes === undefined || !nodes.worker) return true
    if (nodes.holds !== undefined && !(yield* nodes.holds(item))) {
      yield* Effect.logWarning(`${item.id}: not pushed, this node no longer holds the item`)
      return false
    }
    const git = yield* Git
    yield* git.pushBranch(root, nodes.remote, featureBranchOf(item.id))
    yield* Effect.logInfo(`${item.id}: pushed ${featureBranchOf(item.id)} to ${nodes.remote}`)
    return true
  })
