// test/reliability/damagedStore.test.ts — a damaged, emptied or vanished `.huskies/huskies.db` stops the
// server with the file named, a copy kept (never overwritten) and what to do; `--start-empty` is the
// only way past it, and a healthy store is never touched by it.
import Database from "better-sqlite3"
import { Cause, Effect, Exit, Layer } from "effect"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { Store, StoreOnDisk } from "../../src/layers/Store.js"
import { runCli } from "../support/cli.js"
import { tempDir } from "../support/tempDir.js"

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c()
})

const project = () => {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  mkdirSync(join(dir, ".huskies"))
  return { dir, db: join(dir, ".huskies", "huskies.db") }
}

const createItem = (db: string) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const store = yield* Store
        const item = yield* store.create({
          kind: "story",
          name: "keep me",
          content: "---\nname: keep me\n---\n",
        })
        return item.id as string
      }).pipe(Effect.provide(Layer.fresh(StoreOnDisk(db)))),
    ),
  )

const open = (db: string, startEmpty = false) =>
  Effect.runPromise(
    Effect.exit(
      Effect.scoped(
        Effect.gen(function* () {
          const { items } = yield* (yield* Store).list
          return items.map((i) => i.id as string)
        }).pipe(Effect.provide(Layer.fresh(StoreOnDisk(db, "normal", { startEmpty })))),
      ),
    ),
  )

const failure = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "it opened"

const copiesOf = (db: string) =>
  readdirSync(join(db, "..")).filter((f) => f.startsWith("huskies.db.corrupt-"))

describe("a damaged store", () => {
  it("random bytes: `serve` names the file and what to do, keeps a copy, exits 1 with no stack trace", async () => {
    const { dir, db } = project()
    await createItem(db)
    const garbage = randomBytes(20_000)
    writeFileSync(db, garbage)
    const result = await runCli(["serve", "--port", "0", dir])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`${db} is damaged`)
    expect(result.stderr).toContain("--start-empty")
    expect(result.stderr).not.toContain("    at ")
    const [copy] = copiesOf(db)
    expect(copy).toBeDefined()
    expect(readFileSync(join(dir, ".huskies", copy ?? "")).equals(garbage)).toBe(true)
  })

  it("every refusal keeps its own copy; none overwrites another", async () => {
    const { db } = project()
    await createItem(db)
    writeFileSync(db, "not a database at all, but long enough to have a header of sorts")
    for (let i = 0; i < 3; i++) expect(failure(await open(db))).toContain("StoreDamaged")
    expect(copiesOf(db).length).toBe(3)
  })

  it("a 0-byte store after items existed is refused, not served as an empty project", async () => {
    const { db } = project()
    await createItem(db)
    truncateSync(db, 0)
    for (const f of [`${db}-wal`, `${db}-shm`]) if (existsSync(f)) truncateSync(f, 0)
    const refused = failure(await open(db))
    expect(refused).toContain("is empty (0 bytes)")
    expect(refused).toContain("--start-empty")
  })

  it("a store that vanished while its identity file remains is refused", async () => {
    const { db } = project()
    await createItem(db)
    for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) truncateSync(f, 0)
    const { rmSync } = await import("node:fs")
    for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true })
    expect(failure(await open(db))).toContain("is gone")
  })

  it("a valid SQLite file whose rows are not Yjs updates is refused with the file named", async () => {
    const { db } = project()
    await createItem(db)
    const sqlite = new Database(db)
    sqlite.prepare("INSERT INTO updates (data) VALUES (?)").run(Buffer.from([0xff, 0xff, 0xff, 0x01, 0x02]))
    sqlite.close()
    const refused = failure(await open(db))
    expect(refused).toContain(`${db} holds changes that cannot be read`)
    expect(copiesOf(db).length).toBe(1)
  })

  it("--start-empty starts with no items past a damaged file (kept as a copy), and never empties a healthy one", async () => {
    const { db } = project()
    const id = await createItem(db)
    const healthy = await open(db, true)
    expect(Exit.isSuccess(healthy) ? healthy.value : []).toEqual([id])
    writeFileSync(db, randomBytes(8192))
    const fresh = await open(db, true)
    expect(Exit.isSuccess(fresh) ? fresh.value : failure(fresh)).toEqual([])
    expect(copiesOf(db).length).toBe(1)
    // And the new store is remembered: losing it is noticed too.
    const again = await open(db)
    expect(Exit.isSuccess(again)).toBe(true)
  })
})
