// test/reliability/privateState.test.ts — what huskies keeps under `.huskies/` (the store with its WAL
// and SHM, the lock and server record, pid records, session logs, gate logs, the usage ledger) is
// private to the user: directories 0700, files 0600, although the umask would allow 0644.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { Store } from "../../src/layers/Store.js"
import { awaitItem, commandAgent, gitIdentity, story, withPipeline } from "../support/pipeline.js"

const projectToml = `base_branch = "main"
[commands]
test = "grep -q good feature.txt"
`

/**
 * A coder that notes the modes of its own pid record (it exists only while the agent runs, written just
 * after the process starts, so the script waits for it a moment), then commits.
 */
const coder = `#!/bin/sh
set -e
${gitIdentity}
for i in $(seq 1 100); do ls ../../run/agents/*.json >/dev/null 2>&1 && break; sleep 0.05; done
stat -c '%a %n' ../../run/agents ../../run/agents/* > ../../pid-modes.txt
echo good > feature.txt
git add feature.txt
git commit -q -m "work on $HUSKIES_STORY_ID"
echo '{"type":"Usage","inputTokens":1,"outputTokens":1,"cacheRead":0,"cacheCreation":0}'
`

/** Every file and directory below `dir`, except agent worktrees (the project's own files, checked out by git). */
const walk = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "worktrees" ? [path] : [path, ...walk(path)]
    return [path]
  })

const modeOf = (path: string) => statSync(path).mode & 0o777

describe("private state under .huskies/", () => {
  it.live(
    "the store, lock, pid records, session and gate logs and the usage ledger are 0600 in 0700 directories",
    () =>
      withPipeline(
        {
          projectToml,
          agentsToml: commandAgent("coder-1", "coder", "coder.sh"),
          scripts: { "coder.sh": coder },
        },
        ({ root }) =>
          Effect.gen(function* () {
            const previous = process.umask(0o022)
            yield* Effect.addFinalizer(() => Effect.sync(() => process.umask(previous)))
            const store = yield* Store
            const item = yield* store.create(story("Private"))
            // With no QA agent configured the item waits in QA after its gates passed.
            yield* awaitItem(item.id, (i) => i.stage._tag !== "Backlog" && i.stage._tag !== "Coding")
            const huskies = join(root, ".huskies")
            expect(modeOf(huskies)).toBe(0o700)
            const pidModes = readFileSync(join(huskies, "pid-modes.txt"), "utf8").trim().split("\n")
            expect(pidModes[0]).toMatch(/^700 /)
            expect(pidModes.slice(1)).not.toEqual([])
            for (const line of pidModes.slice(1)) expect(line).toMatch(/^600 /)

            const configFiles = new Set(["project.toml", "agents.toml", "pid-modes.txt"])
            const state = walk(huskies).filter((p) => !configFiles.has(relative(huskies, p)))
            const names = state.map((p) => relative(huskies, p))
            for (const expected of [
              "huskies.db",
              "huskies.db-wal",
              "huskies.db.id",
              "run/server.lock",
              "run/server.json",
              "logs/usage.jsonl",
            ])
              expect(names).toContain(expected)
            expect(names.some((n) => /^logs\/[^/]+\/coder-1-1\.jsonl$/.test(n))).toBe(true)
            expect(names.some((n) => /^logs\/[^/]+\/gates-\d+\.log$/.test(n))).toBe(true)
            const open = state
              .filter((p) => modeOf(p) & 0o077)
              .map((p) => `${relative(huskies, p)} ${modeOf(p).toString(8)}`)
            expect(open).toEqual([])
          }),
      ),
    60_000,
  )
})
