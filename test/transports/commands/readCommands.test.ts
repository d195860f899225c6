// test/transports/commands/readCommands.test.ts — the reading chat commands (help, status, show, backlog,
// cost, queue) on a real Store and Pipeline: what each reply says, and what a mistyped or unknown one says.
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { appendUsage } from "../../../src/layers/Usage.js"
import { commandRpc, executeCommand, runCommand } from "../../../src/transports/commands/runCommand.js"
import { ok, withTools } from "../../support/tools.js"
import { usageRecord } from "../../support/usage.js"

const say = (line: string, by = "ui:tester") => executeCommand(line, by)

const file = (name: string, extra: Record<string, unknown> = {}) =>
  Effect.map(ok("create_story", { name, ...extra }), (c) => c["story_id"] as string)

/**
 * The tool environment with the test clock at `iso` from the start: the server's loops are scheduled
 * from then, so none has decades of ticks to catch up on.
 */
const atTime = <A, E>(iso: string, program: Parameters<typeof withTools<A, E>>[0]) =>
  Effect.zipRight(TestClock.setTime(Date.parse(iso)), withTools(program))

describe("reading commands", () => {
  it.effect("help lists every command; help <command> explains one; a typo gets the closest command", () =>
    withTools(() =>
      Effect.gen(function* () {
        const help = yield* say("help")
        expect(help._tag).toBe("Done")
        for (const usage of [
          "status [n]",
          "move <n> <stage> [reason]",
          "delete <n> [confirm]",
          "reject <n> <notes>",
        ]) {
          expect(help.text).toContain(usage)
        }
        expect(yield* say("help timer")).toEqual({
          _tag: "Done",
          text: "**timer <n> <when>**: starts a Backlog item later: an ISO time, 09:30 (UTC), +30m, in 2h; off cancels.\nExample: timer 12 in 2h",
        })
        expect(yield* say("strat 1")).toEqual({
          _tag: "Refused",
          text: 'Unknown command "strat". Did you mean start? Usage: start <n> [agent] (e.g. start 12 coder-1)',
        })
      }),
    ),
  )

  it.effect("status shows the board and what is blocked; status n, show n and n alone show one item", () =>
    withTools(() =>
      Effect.gen(function* () {
        expect((yield* say("status")).text).toContain("The board is empty")
        const login = yield* file("Add login", { acceptance_criteria: ["form", "errors"] })
        yield* file("Remember me", { depends_on: [login] })
        const board = yield* say("status")
        expect(board.text).toBe(
          [
            "**Pipeline**: Backlog 2, Coding 0, Qa 0, Merge 0, Done 0, Archived 0; 1 blocked",
            "**Backlog** (2)",
            "- 1 Add login (story)",
            "- 2 Remember me (story)",
            "**Blocked**",
            "- 2 Remember me: waiting on 1_story_add_login (Backlog)",
          ].join("\n"),
        )
        const one = yield* say("status 1")
        expect(one.text).toContain("**1 Add login** (story, 1_story_add_login): Backlog")
        expect(one.text).toContain("- dependencies: no dependencies")
        expect(one.text).toContain("- to do: form; errors")
        expect((yield* say("status 2")).text).toContain(
          "dependencies: waiting on 1_story_add_login (Backlog)",
        )
        const shown = yield* say("show 1")
        expect(shown.text).toMatch(/^\*\*1 Add login\*\* \(Backlog\)\n\n---\nname: Add login\n/)
        expect(shown.text).toContain("- [ ] form")
        expect(yield* say("1")).toEqual(shown)
        expect(yield* say("#1_story_add_login")).toEqual(shown)
        expect(yield* say("status 7")).toEqual({
          _tag: "Refused",
          text: "No item 7 on the board: status lists the items.",
        })
      }),
    ),
  )

  it.effect("backlog says what each item waits for and when a timer starts it", () =>
    atTime("2026-12-07T10:00:00Z", () =>
      Effect.gen(function* () {
        expect((yield* say("backlog")).text).toBe("The backlog is empty.")
        const login = yield* file("Add login")
        yield* file("Remember me", { depends_on: [login] })
        expect((yield* say("timer 1 +90m"))._tag).toBe("Done")
        expect((yield* say("backlog")).text).toBe(
          [
            "**Backlog** (2)",
            "- 1 Add login (story): ready; starts 2026-12-07T11:30:00.000Z (in 1h30m)",
            "- 2 Remember me (story): waiting on 1_story_add_login (Backlog)",
          ].join("\n"),
        )
      }),
    ),
  )

  it.effect("cost totals the usage ledger: all, per item by agent and model, and today (UTC)", () =>
    atTime("2026-12-07T12:00:00Z", (root) =>
      Effect.gen(function* () {
        expect((yield* say("cost")).text).toBe("Cost so far: no agent runs recorded.")
        const login = yield* file("Add login")
        const other = yield* file("Other")
        yield* appendUsage(
          root,
          usageRecord({ storyId: login, time: "2026-12-06T10:00:00.000Z", costUsd: 1.25 }),
        )
        yield* appendUsage(
          root,
          usageRecord({
            storyId: login,
            agent: "qa",
            model: "opus",
            time: "2026-12-07T09:00:00.000Z",
            costUsd: 0.5,
          }),
        )
        yield* appendUsage(
          root,
          usageRecord({ storyId: other, time: "2026-12-07T09:30:00.000Z", costUsd: null }),
        )
        expect((yield* say("cost")).text).toBe(
          [
            "**Cost so far**: $1.75 (some runs unpriced), 300 in / 30 out tokens, 3 runs",
            "- 1_story_add_login: $1.75, 200 in / 20 out tokens, 2 runs",
            "- 2_story_other: $0.00 (some runs unpriced), 100 in / 10 out tokens, 1 run",
          ].join("\n"),
        )
        expect((yield* say("cost 1")).text).toBe(
          [
            "**Cost of 1**: $1.75, 200 in / 20 out tokens, 2 runs",
            "- coder-1 · sonnet: $1.25, 100 in / 10 out tokens, 1 run",
            "- qa · opus: $0.50, 100 in / 10 out tokens, 1 run",
          ].join("\n"),
        )
        const today = yield* say("cost today")
        expect(today.text).toContain("**Cost today (2026-12-07, UTC)**: $0.50 (some runs unpriced)")
        expect(today.text).toContain("2 runs")
        expect((yield* say("cost 9")).text).toContain("No item 9 on the board")
      }),
    ),
  )

  it.effect("queue on a server without the merge queue says so", () =>
    withTools(() =>
      Effect.gen(function* () {
        expect(yield* say("queue")).toEqual({
          _tag: "Refused",
          text: "the merge queue is off on this server: items in Merge wait until a server with it runs",
        })
      }),
    ),
  )

  it.effect(
    "the UI's Command RPC fails with Refused for a refusal; a chat bot gets the text either way",
    () =>
      withTools(() =>
        Effect.gen(function* () {
          yield* file("Add login")
          expect(yield* Effect.flip(commandRpc("mvoe 1 qa", "ui"))).toMatchObject({
            _tag: "Refused",
            message: expect.stringContaining("Did you mean move?"),
          })
          expect(yield* commandRpc("delete 1", "ui")).toEqual({
            message: expect.stringContaining("Type: delete 1 confirm"),
          })
          expect(yield* commandRpc("move 1 coding", "ui")).toEqual({ message: "Moved 1: Backlog → Coding." })
          expect(yield* runCommand("move 1 coding", "slack:U1")).toContain("already there")
        }),
      ),
  )
})
