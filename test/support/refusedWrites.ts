// test/support/refusedWrites.ts — makes a project's real huskies.db refuse a write the way a full disk would:
// a trigger on the Store's updates table, opened on its own connection for the enclosing scope.
import Database from "better-sqlite3"
import { Effect, type Scope } from "effect"
import { join } from "node:path"

/**
 * The next insert into `updates` that `when` (an SQL condition on NEW) selects is refused, once: the
 * trigger uses up its one refusal as it refuses (a statement that FAILs keeps what it did before, and the
 * Store's lone writes are statements of their own), so the write after it goes through. Gives the count of
 * refusals still to come (1 or 0), for tests that wait until the refusal happened.
 */
export const refuseOneWrite = (
  root: string,
  when = "1",
): Effect.Effect<Effect.Effect<number>, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const db = new Database(join(root, ".huskies", "huskies.db"))
      db.exec(`CREATE TABLE refusals_left (n INTEGER); INSERT INTO refusals_left VALUES (1);
        CREATE TRIGGER full_once BEFORE INSERT ON updates
        WHEN (${when}) AND EXISTS (SELECT 1 FROM refusals_left)
        BEGIN DELETE FROM refusals_left; SELECT RAISE(FAIL, 'disk full'); END`)
      return db
    }),
    (db) => Effect.sync(() => db.close()),
  ).pipe(
    Effect.map((db) =>
      Effect.sync(() => (db.prepare("SELECT COUNT(*) AS n FROM refusals_left").get() as { n: number }).n),
    ),
  )
