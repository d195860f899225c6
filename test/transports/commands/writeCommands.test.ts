// test/transports/commands/writeCommands.test.ts — the chat commands that change something, on a real
// Store, Pipeline and git repository: each verb's effect on the item, and the command layer's refusal as
// the reply. Auto mode is off, so nothing starts unless a test asks.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import { Decisions } from "../../../src/actors/Decisions.js"
import type { QaMode } from "../../../src/domain/Stage.js"
import { StoryId } from "../../../src/domain/StoryId.js"
import { Store } from "../../../src/layers/Store.js"
import { executeCommand } from "../../../src/transports/commands/runCommand.js"
import type { TempDir } from "../../support/gitRepo.js"
import { ok, withTools } from "../../support/tools.js"
import { itemWithWork, withGitProject } from "../tools/gitProject.js"

const say = (line: string) => executeCommand(line, "ui:tester")
const done = (line: string) =>
  Effect.flatMap(say(line), (reply) =>
    reply._tag === "Done"
      ? Effect.succeed(reply.text)
      : Effect.dieMessage(`${line}: ${reply._tag}: ${reply.text}`),
  )
const refused = (line: string) =>
  Effect.flatMap(say(line), (reply) =>
    reply._tag === "Refused"
      ? Effect.succeed(reply.text)
      : Effect.dieMessage(`${line} was not refused: ${reply.text}`),
  )

const file = (name: string) =>
  Effect.map(ok("create_story", { name }), (c) => StoryId.make(c["story_id"] as string))
const itemOf = (id: StoryId) => Effect.flatMap(Store, (s) => s.get(id))
const contentOf = (id: StoryId) => Effect.flatMap(Store, (s) => s.content(id))

/** An item in QA with one commit on its feature branch and the given QA mode. */
const inQa = (repo: TempDir, name: string, qa: QaMode) => itemWithWork(repo, name, `${name}.txt`, qa)

describe("changing commands", () => {
  it.effect("move goes through transition; an illegal move is refused with the legal ones", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* file("Add login")
        expect(yield* done("move 1 coding")).toBe("Moved 1: Backlog → Coding.")
        expect((yield* itemOf(id)).stage).toEqual({ _tag: "Coding" })
        const toMerge = yield* refused("move 1 merge")
        expect(toMerge).toContain(`cannot move ${id} to merge`)
        expect(toMerge).toContain("from Coding you can move to: backlog, qa, archived")
        expect(yield* refused("move 1 done")).toContain("Done when its merge lands on the base branch")
        expect(yield* done("move 1 archived superseded by 9_story_new_login")).toBe(
          "Moved 1: Coding → Archived (superseded by 9_story_new_login).",
        )
        expect((yield* done("status")).split("\n").slice(1, 3)).toEqual([
          "**Archived** (1)",
          "- 1 Add login (story, superseded by 9_story_new_login)",
        ])
        expect(yield* refused("move 2 coding")).toBe("No item 2 on the board: status lists the items.")
      }),
    ),
  )

  it.effect(
    "unblock brings a blocked item back; assign pins a configured agent; an unknown one is refused",
    () =>
      withTools(() =>
        Effect.gen(function* () {
          const id = yield* file("Add login")
          yield* ok("block_story", { story_id: id, reason: "waiting for the API key" })
          expect(yield* done("unblock 1")).toBe(
            "Moved 1: Archived (blocked: waiting for the API key) → Backlog.",
          )
          const history = yield* Effect.flatMap(Store, (store) => store.history(id))
          expect(history.at(-1)).toMatchObject({ event: "Unblock", to: "Backlog", by: "ui:tester" })
          expect(yield* done("status 1")).toMatch(
            /\nLatest moves:\n(- .+\n){2}- \S+ Unblock Archived → Backlog by ui:tester$/,
          )
          expect(yield* refused("unblock 1")).toContain("only an archived item can be unblocked")
          expect(yield* refused("assign 1 coder-9")).toMatch(
            /^no agent is called "coder-9"; agents.toml defines coder-1, /,
          )
          expect(yield* done("assign 1 coder-1")).toBe(
            "1 is assigned to coder-1: it works on it from its next start.",
          )
          expect(yield* contentOf(id)).toContain("agent: coder-1")
        }),
      ),
  )

  it.effect("depends sets, reports and clears dependencies; unknown items and cycles are refused", () =>
    withTools(() =>
      Effect.gen(function* () {
        const login = yield* file("Add login")
        const remember = yield* file("Remember me")
        yield* file("Logout")
        expect(yield* done("depends 2 1, 3")).toBe(
          `2 depends on 1, 3: waiting on ${login} (Backlog), 3_story_logout (Backlog).`,
        )
        expect(yield* contentOf(remember)).toContain(`depends_on:`)
        expect(yield* refused("depends 1 2")).toContain("cycle")
        expect(yield* refused("depends 2 8")).toBe("No item 8 on the board: status lists the items.")
        expect(yield* done("depends 2 none")).toBe("2 depends on nothing now.")
        expect(yield* contentOf(remember)).not.toContain(login)
      }),
    ),
  )

  it.effect("delete asks first and deletes nothing; delete n confirm deletes it from every layer", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* file("Add login")
        const asked = yield* say("delete 1")
        expect(asked).toEqual({
          _tag: "Confirm",
          text: "Delete 1 Add login (Backlog)? Its agent is stopped, and it goes from the board with its worktree, branch and session logs; this cannot be undone. Type: delete 1 confirm",
        })
        expect((yield* itemOf(id)).id).toBe(id)
        const deleted = yield* done("delete 1 confirm")
        expect(deleted).toMatch(/^Deleted 1: removed store item, store content/)
        expect(yield* Effect.either(itemOf(id))).toMatchObject({
          _tag: "Left",
          left: { _tag: "ItemNotFound" },
        })
        expect(yield* refused("delete 1 confirm")).toBe("No item 1 on the board: status lists the items.")
      }),
    ),
  )

  it.effect(
    "timer schedules a start (UTC, relative to now) and off cancels it; a passed time is refused",
    () =>
      withTools(() =>
        Effect.gen(function* () {
          const id = yield* file("Add login")
          // The test clock starts at the epoch.
          expect(yield* done("timer 1 in 2h")).toBe("1 starts at 1970-01-01T02:00:00.000Z (in 2h).")
          expect(yield* done("timer 1 09:30")).toBe("1 starts at 1970-01-01T09:30:00.000Z (in 9h30m).")
          const { timers } = yield* Effect.flatMap(Store, (s) => s.timers)
          expect(timers).toMatchObject([
            { storyId: id, kind: "start", at: Date.parse("1970-01-01T09:30:00Z") },
          ])
          expect(yield* done("timer 1 off")).toBe("Cancelled the timer of 1.")
          expect(yield* done("timer 1 off")).toBe("1 had no timers.")
          expect((yield* Effect.flatMap(Store, (s) => s.timers)).timers).toEqual([])
          yield* done("move 1 coding")
          expect(yield* refused("timer 1 +5m")).toContain("start timers are only for items in Backlog")
          yield* done("move 1 backlog")
          yield* TestClock.adjust("1 hour")
          expect(yield* refused("timer 1 1970-01-01T00:30Z")).toBe(
            "1970-01-01T00:30:00.000Z has passed (it is 1970-01-01T01:00:00.000Z UTC): give a later time, or start 1 now",
          )
        }),
      ),
  )

  it.effect("approve and reject are a person's QA verdict, recorded with who gave it", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const first = yield* inQa(repo, "Add login", "human")
        const second = yield* inQa(repo, "Logout", "human")
        expect(yield* done("approve 1 tried it on staging")).toBe(
          `Approved the QA of 1: Merge (feature/story-${first}, 1 commit ahead); the merge queue merges it.`,
        )
        expect(yield* done("reject 2 the button does nothing")).toBe(
          "Sent 2 back to Coding; the next coder gets your notes.",
        )
        expect(yield* itemOf(second)).toMatchObject({
          stage: { _tag: "Coding" },
          feedback: "the button does nothing",
        })
        const { decisions } = yield* Effect.flatMap(Decisions, (d) => d.list)
        expect(decisions.find((d) => d.storyId === first)?.answer).toMatchObject({
          verdict: "approve",
          by: "ui:tester",
          note: "tried it on staging",
        })
        expect(decisions.find((d) => d.storyId === second)?.answer).toMatchObject({
          verdict: "reject",
          by: "ui:tester",
        })
        expect(yield* refused("approve 2")).toContain(second)
      }),
    ),
  )

  it.effect("approve and reject answer the item's pending permission request first", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* file("Publish")
        const decisions = yield* Decisions
        const ask = (command: string) =>
          decisions.open({ _tag: "Permission", storyId: id, toolName: "Bash", input: { command } })
        const first = yield* ask("npm publish")
        expect(yield* done("approve 1")).toBe("Allowed the agent's Bash: npm publish on 1.")
        const second = yield* ask("npm publish --tag next")
        expect(yield* done("reject 1 not today")).toBe(
          "Denied the agent's Bash: npm publish --tag next on 1.",
        )
        const answers = (yield* decisions.list).decisions
        expect(answers.find((d) => d.id === first.id)?.answer).toMatchObject({
          verdict: "allow",
          by: "ui:tester",
        })
        expect(answers.find((d) => d.id === second.id)?.answer).toMatchObject({
          verdict: "deny",
          by: "ui:tester",
          note: "not today",
        })
        expect(Option.isNone(Option.fromNullable((yield* decisions.pending)[0]))).toBe(true)
      }),
    ),
  )
})
