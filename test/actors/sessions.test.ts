// test/actors/sessions.test.ts — what earlier sessions left on disk: the CLI session id to resume, read
// from the head of a log however long it grew (a line there that is not an entry logged and passed over),
// and which agent worked on an item last.
import { StoryId } from "../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdirSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { findLastAgentOn, findPreviousSessionId } from "../../src/actors/sessions.js"
import { LogsLive } from "../../src/layers/Logs.js"
import { scopedTempDir } from "../support/tempDir.js"

const line = (entry: unknown) => `${JSON.stringify(entry)}\n`
const started = (sessionId: string) => line({ type: "event", event: { _tag: "SessionStarted", sessionId } })

describe("earlier sessions", () => {
  it.scoped("the session id comes from the newest log that has one, read from its head only", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const dir = join(root, ".huskies", "logs", "1_story_a")
      mkdirSync(dir, { recursive: true })
      const chatter = line({ type: "event", event: { _tag: "Text", text: "x".repeat(1000) } }).repeat(500)
      writeFileSync(join(dir, "coder-1-1.jsonl"), started("first") + chatter)
      // A later session that failed before its CLI said who it was, and a torn line.
      writeFileSync(join(dir, "coder-1-2.jsonl"), line({ type: "session_start" }) + '{"type":"ev')
      writeFileSync(join(dir, "coder-2-1.jsonl"), started("other agent"))
      expect(yield* findPreviousSessionId(root, StoryId.make("1_story_a"), "coder-1")).toBe("first")
      expect(yield* findPreviousSessionId(root, StoryId.make("1_story_a"), "coder-3")).toBeUndefined()
      expect(yield* findPreviousSessionId(root, StoryId.make("9_story_none"), "coder-1")).toBeUndefined()
    }),
  )

  it.scoped("a damaged line before the session id is logged as a tagged error and passed over", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const dir = join(root, ".huskies", "logs", "1_story_a")
      mkdirSync(dir, { recursive: true })
      const path = join(dir, "coder-1-1.jsonl")
      writeFileSync(path, line({ type: "session_start" }) + "garbage\n" + started("kept"))
      const lines: Array<string> = []
      const found = yield* findPreviousSessionId(root, StoryId.make("1_story_a"), "coder-1").pipe(
        Effect.provide(LogsLive({ write: (l) => void lines.push(l) })),
      )
      expect(found).toBe("kept")
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(`session log line at ${path}:2`)
      expect(lines[0]).toContain('error="UnreadableRecord"')
    }),
  )

  it.scoped("the agent that worked last is the one whose log was written last", () =>
    Effect.gen(function* () {
      const root = yield* scopedTempDir
      const dir = join(root, ".huskies", "logs", "1_story_a")
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, "coder-1-1.jsonl"), started("a"))
      writeFileSync(join(dir, "coder-2-1.jsonl"), started("b"))
      writeFileSync(join(dir, "qa-1.jsonl"), started("c"))
      utimesSync(join(dir, "coder-1-1.jsonl"), 2000, 2000)
      utimesSync(join(dir, "coder-2-1.jsonl"), 1000, 1000)
      expect(yield* findLastAgentOn(root, StoryId.make("1_story_a"), ["coder-1", "coder-2"])).toBe("coder-1")
      expect(yield* findLastAgentOn(root, StoryId.make("1_story_a"), ["coder-2"])).toBe("coder-2")
      expect(yield* findLastAgentOn(root, StoryId.make("1_story_a"), ["mergemaster"])).toBeUndefined()
      expect(yield* findLastAgentOn(root, StoryId.make("9_story_none"), ["coder-1"])).toBeUndefined()
    }),
  )
})
