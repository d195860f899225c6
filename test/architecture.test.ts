// test/architecture.test.ts — the flow docs/architecture.md promises, checked on the source: nothing
// under src/transports writes the Store or reaches the actors except through the command layer.
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

const sourcesUnder = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sourcesUnder(path) : path.endsWith(".ts") ? [path] : []
  })

const transports = sourcesUnder("src/transports")
// serve.ts composes the server's layers: it builds the Store, the actors and the command layer.
const compositionRoot = join("src", "transports", "cli", "serve.ts")

const storeWrite =
  /\b(store|Store)\)?\s*\.\s*(apply|create|delete|editContent|setTimer|cancelTimers|setMergeJob|clearMergeJob|compact)\s*\(/
const storeImport = /from\s+"[./]*\/layers\/(Store|Persistence|docModel)\.js"/
const actorImport = /from\s+"[./]*\/actors\/(Scheduler|MergeQueue|StoryActor|AgentActor|mergemaster)\.js"/

describe("transports go through the command layer", () => {
  it("finds the transport sources it checks", () => {
    expect(transports.length).toBeGreaterThan(20)
    expect(transports).toContain(join("src", "transports", "tools", "pipelineTools.ts"))
  })

  it("no file under src/transports writes the Store", () => {
    const writers = transports.filter((path) => storeWrite.test(readFileSync(path, "utf8")))
    expect(writers).toEqual([])
  })

  it("only the composition root imports the Store or the actors", () => {
    const reaching = transports.filter((path) => {
      if (path === compositionRoot) return false
      const text = readFileSync(path, "utf8")
      return storeImport.test(text) || actorImport.test(text)
    })
    expect(reaching).toEqual([])
  })

  it("the patterns catch what they are for", () => {
    expect(storeWrite.test("yield* store.apply(id, event)")).toBe(true)
    expect(storeWrite.test("(yield* Store).delete(id)")).toBe(true)
    expect(storeImport.test('import { Store } from "../../layers/Store.js"')).toBe(true)
    expect(actorImport.test('import { Agents } from "../../actors/Scheduler.js"')).toBe(true)
    expect(storeWrite.test("yield* (yield* Pipeline).move(id, to)")).toBe(false)
  })
})
