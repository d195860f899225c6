// src/actors/workClaims.ts — the Scheduler's rules for claims: which work needs one (`[nodes]
// worker_stages`, coder by default), claiming before it starts, giving it back when that stage's work ends,
// skipping items another node holds, and where a timer fires. The claim keeper does the renewing, its loops
// a child of serve's tree (`claims`).
import { Effect, Either, Option, Ref, type Scope } from "effect"
import { type Claim, isLive } from "../domain/Claim.js"
import type { AgentRole, StageTag } from "../domain/Stage.js"
import type { StoryId } from "../domain/StoryId.js"
import type { WorkItem } from "../domain/WorkItem.js"
import type { Git } from "../layers/Git.js"
import type { ProjectionError } from "../layers/docModel.js"
import type { HuskiesConfig } from "../layers/HuskiesConfig.js"
import { PeerBarrier } from "../layers/PeerBarrier.js"
import { Project } from "../layers/Project.js"
import type { Store } from "../layers/Store.js"
import { makeFetchAhead, type NodeBranches } from "./branchSync.js"
import { ServeTree } from "./rootSupervisor.js"
import { type ClaimKeeper, makeClaimKeeper } from "./claimKeeper.js"

/** The role that works on an item in `stage` here (Backlog: the coder that starts it). */
export const roleAt = (stage: StageTag): AgentRole | undefined =>
  stage === "Backlog" || stage === "Coding" ? "coder" : stage === "Qa" ? "qa" : undefined

export interface ClaimSettings {
  readonly leaseMillis: number
  /** The roles whose work one node at a time does (`[nodes] worker_stages`). */
  readonly claimed: ReadonlyArray<AgentRole>
}

export interface WorkClaimsOptions {
  readonly store: Store["Type"]
  /** Read at each use, so an edit of project.toml's `[nodes]` applies to the next claim. */
  readonly config: HuskiesConfig["Type"]["get"]
  /** The main node: fires the timers of items nobody holds (a worker fires only those it holds). */
  readonly main: boolean
  /** Ends this node's work on an item (its story actor), stopping its agent with `why`. */
  readonly stopWork: (id: StoryId, why: string) => Effect.Effect<unknown>
  /** Asks the Scheduler to look again: a lease it waited on ran out, so this node may start the item or fire its timers. */
  readonly poke: Effect.Effect<void>
}

export interface WorkClaims extends Pick<ClaimKeeper, "holds" | "kept"> {
  /** Before work on an item in `stage` starts here: claims it when that stage's role is claimed. */
  readonly before: (
    id: StoryId,
    stage: StageTag,
  ) => Effect.Effect<void, Effect.Effect.Error<ReturnType<ClaimKeeper["claim"]>>>
  /** `before` for auto-assign: whether the work may start (a refusal is logged unless another node holds it). */
  readonly tryClaim: (id: StoryId, stage: StageTag | undefined) => Effect.Effect<boolean>
  /** The item's work here ended (or it was stopped): gives its claim back. */
  readonly ended: (id: StoryId) => Effect.Effect<void>
  /** The item moved while this node may work on it: the claim follows the stage's role. */
  readonly moved: (before: WorkItem, after: WorkItem, workingHere: boolean) => Effect.Effect<void>
  /** Items whose claimed work another node holds live now: auto-assign leaves them alone. */
  readonly heldElsewhere: (items: ReadonlyArray<WorkItem>) => Effect.Effect<ReadonlySet<string>>
  /** Whether this node fires the item's timers: its holder does, or the main node when nobody holds it. */
  readonly firesTimersOf: (id: StoryId) => Effect.Effect<boolean>
  /**
   * What the branch sync takes of the claims: whether this node still holds an item (`holds`, when the
   * node has its own rule) and, on a worker, the fetch of the base and the item's branch started with its claim.
   */
  readonly forBranches: (holds?: NodeBranches["holds"]) => Pick<NodeBranches, "holds" | "fetchedAhead">
}

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

/**
 * The item's holder if its lease runs at `at`. An item whose claims do not decode is held by nobody anyone
 * can prove: treated as held (Some(undefined)), so no node starts it (the Store's claims show the error).
 */
const liveAt = (
  holder: Either.Either<Option.Option<Claim>, ProjectionError>,
  at: number,
): Option.Option<Claim | undefined> =>
  Either.isLeft(holder)
    ? Option.some(undefined)
    : (Option.filter(holder.right, (c) => isLive(c, at)) as Option.Option<Claim | undefined>)

export const makeWorkClaims = (
  options: WorkClaimsOptions,
): Effect.Effect<WorkClaims, never, Scope.Scope | Git | Project | ServeTree> =>
  Effect.gen(function* () {
    const { store } = options
    const node = store.nodeId
    const settings: Effect.Effect<ClaimSettings> = options.config.pipe(
      Effect.map(({ project: { nodes } }) => ({
        leaseMillis: nodes.leaseSecs * 1000,
        claimed: nodes.workerStages,
      })),
      // The last good config is kept by HuskiesConfig; with none at all, the defaults of [nodes].
      Effect.orElseSucceed(() => ({ leaseMillis: 30_000, claimed: ["coder" as const] })),
    )
    // Another node holds the item now (or this node's lease ran out): its work here stops without a push or
    // a move, the item's history says why, and no stop mark stays, so it may be claimed here again later.
    const lose = (id: StoryId, why: string) =>
      Effect.gen(function* () {
        yield* options.stopWork(id, `lost the item: ${why}`)
        // Refused only when the item is gone or has left the pipeline: nothing of this node's is left on it.
        yield* store.apply(id, { _tag: "AgentStopped", node, at: yield* now }, { by: "server", reason: why })
        yield* store.apply(id, { _tag: "ExecutionCleared", node, at: yield* now })
      }).pipe(Effect.ignore)
    // The soonest lease of another node's that auto-assign waited on: once it runs out, look again.
    const waitingUntil = yield* Ref.make<number | undefined>(undefined)
    // A worker fetches the base and the item's branch while its claim is confirmed, not after.
    const fetchAhead = options.main
      ? undefined
      : yield* makeFetchAhead(
          (yield* Project).root,
          options.config.pipe(
            Effect.map(({ project }) => ({ remote: project.nodes.remote, base: project.baseBranch })),
            Effect.orElseSucceed(() => undefined),
          ),
        )
    // The server's round trips with the nodes it syncs with (none in a server without sync).
    const barrier = yield* Effect.serviceOption(PeerBarrier)
    const confirm = (id: StoryId) =>
      Effect.gen(function* () {
        if (fetchAhead !== undefined) yield* fetchAhead.start(id)
        if (Option.isNone(barrier)) return
        // Bounded well inside the lease: a node that answers nothing that long is as good as cut off, and
        // claims made apart converge by the holder rule (the loser stops within a lease tick).
        const { leaseMillis } = yield* settings
        const waited = yield* barrier.value.confirm().pipe(Effect.timeoutOption(Math.floor(leaseMillis / 3)))
        if (Option.isNone(waited))
          yield* Effect.logWarning(
            `${id}: the connected nodes did not confirm this node's claim within ${Math.floor(leaseMillis / 3)} ms; going on as a node cut off from them would`,
          )
      })
    const tree = yield* ServeTree
    const keeper = yield* makeClaimKeeper({
      store,
      // A restart of its loops keeps this node's claims (re-read from the Store): the work holding them runs on.
      run: (key, body) => tree.loop(key, body),
      leaseMillis: Effect.map(settings, (s) => s.leaseMillis),
      lose,
      confirm,
      onTick: Effect.gen(function* () {
        const until = yield* Ref.get(waitingUntil)
        if (until === undefined || until > (yield* now)) return
        yield* Ref.set(waitingUntil, undefined)
        yield* options.poke
      }),
    })
    const claimedIn = (claimed: ReadonlyArray<AgentRole>, stage: StageTag) => {
      const role = roleAt(stage)
      return role !== undefined && claimed.includes(role)
    }
    const isClaimed = (stage: StageTag) => Effect.map(settings, ({ claimed }) => claimedIn(claimed, stage))
    const liveHolder = (id: StoryId) =>
      Effect.map(Effect.zip(Effect.either(store.holder(id)), now), ([holder, at]) => liveAt(holder, at))

    const before: WorkClaims["before"] = (id, stage) =>
      Effect.flatMap(isClaimed(stage), (claimed) => (claimed ? Effect.asVoid(keeper.claim(id)) : Effect.void))

    const tryClaim: WorkClaims["tryClaim"] = (id, stage) =>
      before(id, stage ?? "Coding").pipe(
        Effect.tapError((e) =>
          e._tag === "ClaimHeld" ? Effect.void : Effect.logWarning(`${id}: ${e.message}`),
        ),
        Effect.isSuccess,
      )

    const moved: WorkClaims["moved"] = (was, is, workingHere) =>
      Effect.gen(function* () {
        const [id, from, to] = [is.id, was.stage._tag, is.stage._tag]
        if (roleAt(from) === roleAt(to)) return
        if (yield* isClaimed(from)) yield* keeper.release(id)
        if (!workingHere || !(yield* isClaimed(to))) return
        // The same actor goes on with the next stage's role (QA after the coder): that needs the claim too.
        const claimed = yield* Effect.either(keeper.claim(id))
        if (Either.isLeft(claimed)) yield* lose(id, claimed.left.message)
      })

    const heldElsewhere: WorkClaims["heldElsewhere"] = (items) =>
      Effect.gen(function* () {
        const held = new Set<string>()
        // Read once: the config is checked against its files at each read.
        const { claimed } = yield* settings
        const asked = items.filter((item) => claimedIn(claimed, item.stage._tag)).map((item) => item.id)
        // One read of the document for all of them: a look asks about every item.
        const holders = yield* store.holders(asked)
        const at = yield* now
        for (const id of asked) {
          const holder = liveAt(holders.get(id) ?? Either.right(Option.none()), at)
          if (Option.isNone(holder) || holder.value?.node === store.nodeId) continue
          held.add(id)
          const until = holder.value?.leaseUntil
          if (until !== undefined)
            yield* Ref.update(waitingUntil, (soonest) =>
              soonest === undefined || until < soonest ? until : soonest,
            )
        }
        return held
      })

    const firesTimersOf: WorkClaims["firesTimersOf"] = (id) =>
      Effect.map(liveHolder(id), (holder) =>
        Option.isNone(holder) ? options.main : holder.value?.node === store.nodeId,
      )

    return {
      before,
      tryClaim,
      ended: (id) =>
        Effect.zipRight(keeper.release(id), fetchAhead === undefined ? Effect.void : fetchAhead.drop(id)),
      moved,
      heldElsewhere,
      firesTimersOf,
      holds: keeper.holds,
      kept: keeper.kept,
      forBranches: (holds) => ({
        holds: holds ?? ((item) => keeper.holds(item.id)),
        ...(fetchAhead === undefined ? {} : { fetchedAhead: fetchAhead.take }),
      }),
    } satisfies WorkClaims
  })
