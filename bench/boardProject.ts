// bench/boardProject.ts — fills a project's store with a large board before its server starts, through
// the real Store (as the pipeline bench does): items in Backlog, and items archived as Blocked. Used by
// the web UI bench and the browser test of a 10,000-item board.
import { Effect } from "effect"
import { Store, StoreOnDisk } from "../src/layers/Store.js"

export interface BoardSize {
  readonly backlog: number
  readonly archived: number
}

/** Writes the items into the store at `dbPath` (created if missing); resolves once all are on disk. */
export const seedBoard = (dbPath: string, size: BoardSize): Promise<void> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.provide(
        Effect.gen(function* () {
          const store = yield* Store
          const at = Date.now()
          for (let i = 0; i < size.backlog + size.archived; i++) {
            const name = `Seeded item ${i}`
            const item = yield* store.create({
              kind: i % 7 === 0 ? "bug" : "story",
              name,
              content: `---\nname: ${name}\n---\n\n## Acceptance Criteria\n\n- [x] seeded\n- [ ] shown\n`,
            })
            if (i >= size.backlog)
              yield* store.apply(item.id, { _tag: "Block", why: "seeded as blocked", at })
          }
        }),
        StoreOnDisk(dbPath),
      ),
    ),
  )
