// src/layers/HuskiesConfig.ts — the project's .huskies/project.toml and agents.toml as a service: loaded
// once, re-read when the files change, the last good config kept while an edit does not parse. Built by
// `serve` (serverLayer); read by the Scheduler, the merge queue and the tools.
import { FileSystem } from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import {
  Clock,
  Context,
  Deferred,
  Duration,
  Effect,
  Exit,
  Layer,
  Option,
  Queue,
  Ref,
  Stream,
  SubscriptionRef,
} from "effect"
import { watch } from "node:fs"
import { basename } from "node:path"
import {
  agentsTomlPath,
  type ConfigError,
  huskiesDir,
  type LoadedConfig,
  loadConfig,
  projectTomlPath,
} from "./Config.js"
import { withComponent } from "./Logs.js"
import { ensurePrivateDir } from "./privateFiles.js"

/** What is in force: the last config that loaded, and why the files on disk are not it, if they are not. */
export interface ConfigState {
  /** The last config that loaded; None while none ever has (the first load failed). */
  readonly current: Option.Option<LoadedConfig>
  /** The error that keeps the files on disk from being in force; None when they are. */
  readonly problem: Option.Option<ConfigError>
}

export interface HuskiesConfigShape {
  /**
   * The config in force: the files as last read (at start, then by the watcher once an edit has been quiet
   * for the debounce), or the last good config while an edit of them does not parse. Reads nothing itself,
   * except where the files cannot be watched: it then checks them at most once per `pollEvery`. Fails with
   * the ConfigError only while no load has ever succeeded (agents wait for a fix).
   */
  readonly get: Effect.Effect<LoadedConfig, ConfigError>
  /** The last good config; None while none ever loaded. */
  readonly current: Effect.Effect<Option.Option<LoadedConfig>>
  /** The error in force, if the files on disk do not load. */
  readonly problem: Effect.Effect<Option.Option<ConfigError>>
  /** The state now, then every change of it (a reload that loads something else, fails, or is fixed). */
  readonly changes: Stream.Stream<ConfigState>
  /**
   * Reads the files now, whatever the watcher saw; returns the state that results. For whoever wrote the
   * files and acts on them at once (a test, a tool that edits them), rather than after the debounce.
   */
  readonly reload: Effect.Effect<ConfigState>
}

/** The project's config files, kept up to date: see HuskiesConfigShape. */
export class HuskiesConfig extends Context.Tag("huskies/HuskiesConfig")<
  HuskiesConfig,
  HuskiesConfigShape
>() {}

export interface HuskiesConfigOptions {
  /** How long the files must be quiet after a change before they are read (default 100 ms): an editor's
   * save is often several writes, and reading between them would load half a file. */
  readonly debounce?: Duration.DurationInput
  /** Where the files cannot be watched, how often `get` looks at them (default 1 s): a stat of each. */
  readonly pollEvery?: Duration.DurationInput
}

// What identifies one version of a file without reading it: an edit changes its size, mtime or (an
// editor's save by rename) its inode. "missing" is a version too: the defaults are then in force.
const stampOf = (fs: FileSystem.FileSystem, file: string) =>
  fs.stat(file).pipe(
    Effect.map((info) =>
      [
        Option.getOrElse(info.ino, () => 0),
        info.size,
        Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() }),
      ].join(":"),
    ),
    // Any other failure (permissions, a directory in its place) reads as a version no file has, so the
    // next `get` reads the file and reports what is wrong with it as a ConfigError.
    Effect.catchAll((e) =>
      Effect.succeed(e._tag === "SystemError" && e.reason === "NotFound" ? "missing" : "?"),
    ),
  )

// Plain decoded data: equal JSON is the same config, so a save that changes nothing is no change.
const sameConfig = (a: Option.Option<LoadedConfig>, b: Option.Option<LoadedConfig>) =>
  Option.isSome(a) && Option.isSome(b)
    ? JSON.stringify(a.value) === JSON.stringify(b.value)
    : Option.isNone(a) && Option.isNone(b)

const make = (root: string, options: HuskiesConfigOptions) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const files = [projectTomlPath(root), agentsTomlPath(root)] as const
    const stamps = Effect.map(Effect.all(files.map((f) => stampOf(fs, f))), (s) => s.join("|"))
    const state = yield* SubscriptionRef.make<ConfigState>({ current: Option.none(), problem: Option.none() })
    // The stamps of the files the state was read from; a `get` that sees others reads them again.
    const loadedStamps = yield* Ref.make("")
    const lock = yield* Effect.makeSemaphore(1)
    // While the watcher works it is the only reader after the first load; without it `get` looks at the
    // files' stamps, at most once per pollEvery (the time of the last look, or None while watched).
    const unwatchedSince = yield* Ref.make(Option.none<number>())
    const pollEvery = Duration.toMillis(options.pollEvery ?? Duration.seconds(1))

    const readNow = Effect.gen(function* () {
      // Stamped before reading: a write during the read leaves a stamp that differs, so it is read again.
      const seen = yield* stamps
      const loaded = yield* Effect.either(Effect.provideService(loadConfig(root), FileSystem.FileSystem, fs))
      yield* Ref.set(loadedStamps, seen)
      const before = yield* SubscriptionRef.get(state)
      const after: ConfigState =
        loaded._tag === "Right"
          ? { current: Option.some(loaded.right), problem: Option.none() }
          : { current: before.current, problem: Option.some(loaded.left) }
      const changed = !sameConfig(before.current, after.current)
      const problemChanged =
        Option.getOrUndefined(before.problem)?.message !== Option.getOrUndefined(after.problem)?.message
      if (!changed && !problemChanged) return before
      yield* SubscriptionRef.set(state, after)
      if (loaded._tag === "Left") {
        yield* Option.isSome(after.current)
          ? Effect.logError(`config not reloaded, the last good one stays in force: ${loaded.left.message}`)
          : Effect.logError(`config does not load: ${loaded.left.message}`)
      } else {
        if (Option.isSome(before.problem))
          yield* Effect.logInfo("config loads again: the files on disk are in force")
        else if (Option.isSome(before.current)) yield* Effect.logInfo("config reloaded")
        for (const note of loaded.right.notes) yield* Effect.logInfo(note)
      }
      return after
    }).pipe(withComponent("config"))

    const reload = lock.withPermits(1)(readNow)

    // No watch (some network mounts, too many watchers): one stat per file, at most once per pollEvery.
    const poll = Effect.gen(function* () {
      const lastLook = yield* Ref.get(unwatchedSince)
      if (Option.isNone(lastLook)) return
      const now = yield* Clock.currentTimeMillis
      if (now - lastLook.value < pollEvery) return
      yield* Ref.set(unwatchedSince, Option.some(now))
      const isStale = Effect.zipWith(stamps, Ref.get(loadedStamps), (seen, loaded) => seen !== loaded)
      if (yield* isStale) yield* lock.withPermits(1)(Effect.whenEffect(readNow, isStale))
    })

    const get = Effect.gen(function* () {
      yield* poll
      const { current, problem } = yield* SubscriptionRef.get(state)
      if (Option.isSome(current)) return current.value
      // No load ever succeeded, so the last one failed and its error is in force.
      return yield* Option.match(problem, {
        onNone: () => Effect.dieMessage("config state with neither a config nor a problem"),
        onSome: (e) => Effect.fail(e),
      })
    })

    const dir = huskiesDir(root)
    const names = new Set(files.map((f) => basename(f)))
    const touched = yield* Queue.sliding<void>(1)
    const failed = yield* Deferred.make<Error>()
    const notWatched = (e: Error) =>
      Effect.logWarning(
        `config files not watched (${e.message}): edits apply within ${Duration.format(pollEvery)} of the next read`,
      ).pipe(
        withComponent("config"),
        // From now on `get` looks at the files itself; the first look is due at once.
        Effect.zipRight(Ref.set(unwatchedSince, Option.some(Number.NEGATIVE_INFINITY))),
      )
    // Watching before the layer is built, so an edit made right after is seen. serve refuses a project
    // without .huskies/, but tests may build this layer before the store creates it.
    yield* Effect.try({
      try: () => ensurePrivateDir(dir),
      catch: (e) => (e instanceof Error ? e : new Error(String(e))),
    }).pipe(Effect.zipRight(watchNames(dir, names, touched, failed)), Effect.catchAll(notWatched))
    // The first read comes after the watch starts: an edit made meanwhile is seen by one or the other.
    yield* reload
    yield* Stream.fromQueue(touched).pipe(
      Stream.debounce(options.debounce ?? Duration.millis(100)),
      Stream.runForEach(() => reload),
      Effect.raceFirst(Effect.flatMap(Deferred.await(failed), notWatched)),
      Effect.forkScoped,
    )

    return HuskiesConfig.of({
      get,
      current: Effect.map(SubscriptionRef.get(state), (s) => s.current),
      problem: Effect.map(SubscriptionRef.get(state), (s) => s.problem),
      changes: state.changes,
      reload,
    })
  })

/**
 * Offers to `touched` on every change in `dir` to a file named in `names`, until the scope closes. The
 * filter runs in fs.watch's callback, so the store's writes next to the config files cost no more than
 * the callback; a watcher error completes `failed`.
 */
const watchNames = (
  dir: string,
  names: ReadonlySet<string>,
  touched: Queue.Enqueue<void>,
  failed: Deferred.Deferred<Error>,
) =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        // The callbacks run outside any fiber: they only hand over, with unsafe calls that never block.
        const watcher = watch(dir, (_event, name) => {
          // No name (some platforms): it may be ours, and a needless read costs little.
          if (name === null || names.has(String(name))) touched.unsafeOffer(undefined)
        })
        watcher.on("error", (e) => Deferred.unsafeDone(failed, Exit.succeed(e)))
        return watcher
      },
      // Too many watchers on the system (ENOSPC), or the directory is gone.
      catch: (e) => (e instanceof Error ? e : new Error(String(e))),
    }),
    (watcher) => Effect.sync(() => watcher.close()),
  )

/** The live service for the project at `root`: reads its files now and watches them while the layer lives. */
export const HuskiesConfigLive = (root: string, options: HuskiesConfigOptions = {}) =>
  Layer.scoped(HuskiesConfig, make(root, options)).pipe(Layer.provide(NodeFileSystem.layer))
