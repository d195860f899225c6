// src/actors/doneSweep.ts — Done housekeeping: items Done for longer than `[merge] archive_done_after_secs`
// are archived as Completed, so the board's Done column holds recent work only. Run by MergeQueue.
import { Effect, Either } from "effect"
import type { LoadedConfig } from "../layers/Config.js"
import type { Store } from "../layers/Store.js"
import type { StoryId } from "../domain/StoryId.js"

/** How often at most the sweep looks; a shorter age is looked at as often as it needs. */
const maxIntervalMillis = 60_000

/** Done items whose age has passed, as of `now` (pure, for the sweep and its tests). */
export const dueForArchive = (
  items: ReadonlyArray<{
    readonly id: StoryId
    readonly stage: { readonly _tag: string; readonly mergedAt?: number }
  }>,
  ageMillis: number,
  now: number,
): ReadonlyArray<StoryId> =>
  ageMillis <= 0
    ? []
    : items
        .filter((i) => i.stage._tag === "Done" && (i.stage.mergedAt ?? now) + ageMillis <= now)
        .map((i) => i.id)

/** Archives what is due; returns how long to wait before looking again. */
const sweepOnce = <E>(store: Store["Type"], readConfig: Effect.Effect<LoadedConfig, E>) =>
  Effect.gen(function* () {
    const config = yield* Effect.either(readConfig)
    // Read each time, so a changed setting applies without a restart; a broken file pauses the sweep.
    const ageMillis = Either.isRight(config) ? config.right.project.merge.archiveDoneAfterSecs * 1000 : 0
    if (ageMillis <= 0) return maxIntervalMillis
    const at = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    for (const id of dueForArchive((yield* store.list).items, ageMillis, at)) {
      yield* store.apply(id, { _tag: "Complete", at }, { by: "server" }).pipe(
        Effect.tap(() => Effect.logInfo(`${id} archived: Done for longer than ${ageMillis / 1000} s`)),
        // Moved or deleted meanwhile: nothing to archive.
        Effect.ignore,
      )
    }
    return intervalFor(ageMillis)
  })

const intervalFor = (ageMillis: number) =>
  ageMillis <= 0 ? maxIntervalMillis : Math.min(maxIntervalMillis, Math.max(1000, ageMillis / 4))

/**
 * The first look waits one interval: a project with a long history of Done items archives them in the
 * background, not while the server is starting.
 */
export const sweepDone = <E>(store: Store["Type"], readConfig: Effect.Effect<LoadedConfig, E>) =>
  Effect.flatMap(Effect.either(readConfig), (config) =>
    Effect.sleep(
      intervalFor(Either.isRight(config) ? config.right.project.merge.archiveDoneAfterSecs * 1000 : 0),
    ),
  ).pipe(Effect.zipRight(loop(store, readConfig)))

const loop = <E>(store: Store["Type"], readConfig: Effect.Effect<LoadedConfig, E>) =>
  Effect.forever(
    sweepOnce(store, readConfig).pipe(
      Effect.catchAllCause((cause) =>
        Effect.logError("the Done sweep failed", cause).pipe(Effect.as(maxIntervalMillis)),
      ),
      Effect.flatMap((wait) => Effect.sleep(wait)),
    ),
  )
