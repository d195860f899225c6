// src/layers/git/worktreeLock.ts — the Git service's lock on a repository's worktree records: a command
// that adds or removes a worktree runs alone; commands that read every worktree's HEAD run together.
// `git worktree add` writes a placeholder HEAD (the null object id) before it points HEAD at the new
// branch, and a fetch at that moment walks it and fails ("fatal: bad object worktrees/<id>/HEAD").
import { Effect } from "effect"

export interface WorktreeLock {
  /** For a command that adds or removes worktrees: waits for every other holder, and keeps them out. */
  readonly exclusive: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** For a command that reads every worktree's HEAD: runs beside the others of its kind, never beside an add. */
  readonly shared: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

// More readers than will ever run at once; the exclusive side takes them all.
const permits = 1 << 16

export const makeWorktreeLock = (): WorktreeLock => {
  const semaphore = Effect.unsafeMakeSemaphore(permits)
  return { exclusive: semaphore.withPermits(permits), shared: semaphore.withPermits(1) }
}

/**
 * Whether a git command failed on another worktree's HEAD that was half-written when it looked: the
 * placeholder `worktree add` leaves for a moment. Run again under `shared`, the command cannot meet it.
 */
export const metHalfWrittenWorktree = (stderr: string): boolean =>
  /bad object worktrees\/[^/\s]+\/HEAD/.test(stderr)
