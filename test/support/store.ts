// test/support/store.ts — a real Store on a real SQLite file in a temp dir, for tests: the layer, a program
// run on it (a restart is a second run on the same file), and two Stores exchanging what the other lacks.
import { Context, Effect, Layer, type Scope } from "effect"
import { join } from "node:path"
import type { Persistence } from "../../src/layers/Persistence.js"
import { type CreateItem, Store, type StoreOptions, StoreOnDisk } from "../../src/layers/Store.js"
import { scopedTempDir } from "./tempDir.js"

export const storeLayer = (dbPath: string, options: StoreOptions = {}) =>
  StoreOnDisk(dbPath, "normal", options)

/** A Store opened on `dbPath` for the enclosing scope. */
export const openStore = (dbPath: string, options: StoreOptions = {}) =>
  Effect.map(Layer.build(storeLayer(dbPath, options)), (context) => Context.get(context, Store))

/** A story with nothing but its name. */
export const story = (name: string) => ({
  kind: "story" as const,
  name,
  content: `---\nname: ${name}\n---\n`,
})

/** Runs `program` on a Store opened on `dbPath` and closes it afterwards. */
export const withStore = <A, E>(
  dbPath: string,
  program: Effect.Effect<A, E, Store | Persistence | Scope.Scope>,
  compactEvery?: number,
) =>
  Effect.scoped(
    Effect.provide(program, storeLayer(dbPath, compactEvery === undefined ? {} : { compactEvery })),
  )

/** Runs `program` on a Store on a new temp file, removed afterwards. */
export const withFreshStore = <A, E>(program: Effect.Effect<A, E, Store | Persistence | Scope.Scope>) =>
  Effect.scoped(Effect.flatMap(scopedTempDir, (dir) => withStore(join(dir, "huskies.db"), program)))

/** Sends `to` what it lacks of `from`, as the sync connection does after a gap, as `origin`'s update. */
export const exchange = (from: Store["Type"], to: Store["Type"], origin: string = from.nodeId) =>
  Effect.flatMap(to.stateVector, (seen) =>
    Effect.flatMap(from.diff(seen), (update) => to.applyRemote(update, origin)),
  )

/** Files `input` on `store` and moves it through Coding, its gates passed, into QA of mode `qa`: its id. */
export const intoQa = (store: Store["Type"], input: CreateItem, qa: "human" | "agent" = "human") =>
  Effect.gen(function* () {
    const item = yield* store.create(input)
    yield* store.apply(item.id, { _tag: "Start", at: 1 })
    yield* store.apply(item.id, { _tag: "GatesPassed", featureBranch: "f", commitsAhead: 1, qa, at: 2 })
    return item.id
  })
