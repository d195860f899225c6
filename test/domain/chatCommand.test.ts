// test/domain/chatCommand.test.ts — the chat command parser: each verb's forms, errors that say what to
// type, number → id resolution, timer times resolved against a given now; and, by fast-check, that a
// rendered command parses back to itself and that no string makes the parser throw.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as fc from "fast-check"
import { readFileSync } from "node:fs"
import {
  type ChatCommand,
  type ItemRef,
  looksLikeCommand,
  parseChatCommand,
  renderChatCommand,
  resolveItemRef,
  verbHelp,
  verbs,
} from "../../src/domain/chatCommand.js"
import {
  latestTime,
  longestDelaySeconds,
  parseWhen,
  resolveWhen,
  type TimerWhen,
} from "../../src/domain/chatTime.js"
import { stageNames } from "../../src/domain/moveRoutes.js"
import { StoryId } from "../../src/domain/StoryId.js"
import { reasonTextArb, storyIdArb } from "./arbitraries.js"

const parsed = (line: string) =>
  Either.getOrThrowWith(parseChatCommand(line), (e) => new Error(`${line}: ${e.message}`))
const refused = (line: string) =>
  Either.match(parseChatCommand(line), {
    onLeft: (e) => e,
    onRight: (c) => {
      throw new Error(`${line} parsed as ${JSON.stringify(c)}`)
    },
  })

describe("parseChatCommand", () => {
  it("reads every verb's forms", () => {
    expect(parsed("help")).toEqual({ _tag: "Help" })
    expect(parsed("HELP Move")).toEqual({ _tag: "Help", verb: "move" })
    expect(parsed("status")).toEqual({ _tag: "Status" })
    expect(parsed("status 12")).toEqual({ _tag: "Status", item: 12 })
    expect(parsed("backlog")).toEqual({ _tag: "Backlog" })
    expect(parsed("show #503")).toEqual({ _tag: "Show", item: 503 })
    expect(parsed("  503  ")).toEqual({ _tag: "Show", item: 503 })
    expect(parsed("12_story_add_login")).toEqual({ _tag: "Show", item: "12_story_add_login" })
    expect(parsed("move 12 QA")).toEqual({ _tag: "Move", item: 12, to: "qa" })
    expect(parsed("move 12 coding the form has no\n  error message ")).toEqual({
      _tag: "Move",
      item: 12,
      to: "coding",
      reason: "the form has no\n  error message",
    })
    expect(parsed("start 12")).toEqual({ _tag: "Start", item: 12 })
    expect(parsed("start 12 coder-1")).toEqual({ _tag: "Start", item: 12, agent: "coder-1" })
    expect(parsed("stop 12")).toEqual({ _tag: "Stop", item: 12 })
    expect(parsed("assign 12 coder-2")).toEqual({ _tag: "Assign", item: 12, agent: "coder-2" })
    expect(parsed("depends 12 10 11")).toEqual({ _tag: "Depends", item: 12, on: [10, 11] })
    expect(parsed("depends 12 10, 11,3_bug_x")).toEqual({
      _tag: "Depends",
      item: 12,
      on: [10, 11, "3_bug_x"],
    })
    expect(parsed("depends 12 none")).toEqual({ _tag: "Depends", item: 12, on: [] })
    expect(parsed("unblock 12")).toEqual({ _tag: "Unblock", item: 12 })
    expect(parsed("delete 12")).toEqual({ _tag: "Delete", item: 12, confirmed: false })
    expect(parsed("delete 12 confirm")).toEqual({ _tag: "Delete", item: 12, confirmed: true })
    expect(parsed("delete 12 YES")).toEqual({ _tag: "Delete", item: 12, confirmed: true })
    expect(parsed("timer 12 in 2h")).toEqual({
      _tag: "Timer",
      item: 12,
      when: { _tag: "After", seconds: 7200 },
    })
    expect(parsed("timer 12 off")).toEqual({ _tag: "Timer", item: 12, when: { _tag: "Off" } })
    expect(parsed("cost")).toEqual({ _tag: "Cost" })
    expect(parsed("cost 12")).toEqual({ _tag: "Cost", scope: 12 })
    expect(parsed("cost Today")).toEqual({ _tag: "Cost", scope: "today" })
    expect(parsed("queue")).toEqual({ _tag: "Queue" })
    expect(parsed("approve 12")).toEqual({ _tag: "Approve", item: 12 })
    expect(parsed("approve 12 checked on staging")).toEqual({
      _tag: "Approve",
      item: 12,
      note: "checked on staging",
    })
    expect(parsed("reject 12 no tests")).toEqual({ _tag: "Reject", item: 12, notes: "no tests" })
  })

  it("suggests the closest verb with its usage for a mistyped one", () => {
    const typo = refused("mvoe 12 qa")
    expect(typo._tag).toBe("UnknownCommand")
    expect(typo.message).toBe(
      'Unknown command "mvoe". Did you mean move? Usage: move <n> <stage> [reason] (e.g. move 12 qa)',
    )
    expect(refused("dep 12 3").message).toContain("Did you mean depends?")
    expect(refused("mv 12 qa").message).toContain("Did you mean move?")
    expect(refused("stauts").message).toContain("Did you mean status?")
    const nonsense = refused("frobnicate")
    expect(nonsense.message).toContain("Commands: help, status, backlog")
    expect(nonsense.message).not.toContain("Did you mean")
    expect(refused("   ").message).toContain("help lists them all")
  })

  it("names the missing or bad argument with the usage line", () => {
    expect(refused("move 12").message).toBe(
      "move needs <stage> (one of backlog, coding, qa, merge, done, archived). Usage: move <n> <stage> [reason] (e.g. move 12 qa)",
    )
    expect(refused("move 12 reveiw").message).toContain('"reveiw" is not a valid <stage>')
    expect(refused("move 12 doen").message).toContain("did you mean done?")
    expect(refused("move").message).toContain("move needs <n>")
    expect(refused("show abc").message).toContain(
      `"abc" is not a valid <n> (give the item's number (503) or its full id)`,
    )
    expect(refused("stop 12 now").message).toBe(
      'stop: "now" is one word too many. Usage: stop <n> (e.g. stop 12)',
    )
    expect(refused("assign 12").message).toContain("assign needs <agent>")
    expect(refused("assign 12 ../evil").message).toContain("an agent name is 1 to 64 letters")
    expect(refused("depends 12").message).toContain("none` clears them")
    expect(refused("depends 12 x").message).toContain('"x" is not a valid <m>…')
    expect(refused("delete 12 please").message).toContain("to delete it, type: delete 12 confirm")
    expect(refused("timer 12").message).toContain("timer needs <when>")
    expect(refused("timer 12 tomorrowish").message).toContain("is not a time")
    expect(refused("reject 12").message).toContain("reject needs <notes>")
    expect(refused("cost yesterday").message).toContain("an item's number, or today")
    expect(refused("help mvoe").message).toContain("did you mean move?")
    const bad = refused("move 12 nowhere")
    expect(bad).toMatchObject({ _tag: "BadArgument", verb: "move", argument: "<stage>", problem: "invalid" })
  })
})

describe("looksLikeCommand", () => {
  it("is true when the first word is a command or an item, mistakes and all", () => {
    for (const line of ["status", "Move 12", "503", "#12_story_x please", "  reject 12"]) {
      expect(looksLikeCommand(line), line).toBe(true)
    }
    for (const line of ["", "hello there", "can you move 12 to qa?", "mvoe 12 qa", "12abc"]) {
      expect(looksLikeCommand(line), line).toBe(false)
    }
  })
})

describe("docs/commands.md", () => {
  it("lists every command with its usage line", () => {
    const doc = readFileSync(new URL("../../docs/commands.md", import.meta.url), "utf8").replaceAll(
      "\\|",
      "|",
    )
    for (const verb of verbs) expect(doc).toContain(`| \`${verbHelp[verb].usage}\``)
  })
})

describe("timer times", () => {
  const now = Date.parse("2026-12-07T10:15:00Z")
  const at = (text: string) => {
    const when = Either.getOrThrow(parseWhen(text))
    return when._tag === "Off" ? "off" : new Date(resolveWhen(when, now)).toISOString()
  }
  it("reads ISO times (UTC without a zone), times of day (UTC, next occurrence) and delays", () => {
    expect(at("2026-12-08T09:00Z")).toBe("2026-12-08T09:00:00.000Z")
    expect(at("2026-12-08T09:00")).toBe("2026-12-08T09:00:00.000Z")
    expect(at("2026-12-08 09:00:30")).toBe("2026-12-08T09:00:30.000Z")
    expect(at("2026-12-08T09:00+01:00")).toBe("2026-12-08T08:00:00.000Z")
    expect(at("2026-12-08")).toBe("2026-12-08T00:00:00.000Z")
    expect(at("11:00")).toBe("2026-12-07T11:00:00.000Z")
    expect(at("at 9:30 UTC")).toBe("2026-12-08T09:30:00.000Z")
    expect(at("10:15")).toBe("2026-12-08T10:15:00.000Z")
    expect(at("+30m")).toBe("2026-12-07T10:45:00.000Z")
    expect(at("in 2h")).toBe("2026-12-07T12:15:00.000Z")
    expect(at("in 1 hour and 30 minutes")).toBe("2026-12-07T11:45:00.000Z")
    expect(at("1d")).toBe("2026-12-08T10:15:00.000Z")
    expect(at("now")).toBe("2026-12-07T10:15:00.000Z")
    expect(at("cancel")).toBe("off")
  })
  it("refuses impossible dates and times", () => {
    for (const text of [
      "2026-02-30",
      "2026-12-08T24:00Z",
      "25:00",
      "9:7",
      "in 2 fortnights",
      "+",
      "2026-12-08T09:00+19:00",
    ]) {
      expect(Either.isLeft(parseWhen(text)), text).toBe(true)
    }
    expect(Either.getLeft(parseWhen("in 400d"))).toEqual(
      expect.objectContaining({ value: "a delay can be at most 366 days" }),
    )
  })
})

describe("resolveItemRef", () => {
  const ids = ["12_story_add_login", "120_bug_crash", "7_spike_a", "7_bug_b"].map((id) => StoryId.make(id))
  it("finds an item by number or id, and says when it is missing or ambiguous", () => {
    expect(resolveItemRef(12, ids)).toEqual(Either.right("12_story_add_login"))
    expect(resolveItemRef(StoryId.make("120_bug_crash"), ids)).toEqual(Either.right("120_bug_crash"))
    const missing = Either.getLeft(resolveItemRef(13, ids))
    expect(missing).toEqual(
      expect.objectContaining({ value: expect.objectContaining({ _tag: "ItemNotOnBoard" }) }),
    )
    const ambiguous = resolveItemRef(7, ids)
    expect(Either.isLeft(ambiguous) && ambiguous.left.message).toBe(
      "7 is the number of 2 items (7_bug_b, 7_spike_a): type the full id.",
    )
    expect(Either.isLeft(resolveItemRef(StoryId.make("9_story_gone"), ids))).toBe(true)
  })
})

// ------------------------------------------------------------------------------------------ properties

const itemRefArb: fc.Arbitrary<ItemRef> = fc.oneof(
  fc.integer({ min: 1, max: 999_999_999_999_999 }),
  fc.integer({ min: 1, max: 1000 }),
  storyIdArb,
)
const agentArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/) as fc.Arbitrary<never>
const noteArb = fc.oneof(
  reasonTextArb,
  fc
    .string({ minLength: 1 })
    .map((s) => s.trim())
    .filter((s) => s !== ""),
)
const whenArb: fc.Arbitrary<TimerWhen> = fc.oneof(
  fc.integer({ min: 0, max: latestTime }).map((at) => ({ _tag: "At" as const, at })),
  fc.integer({ min: 0, max: longestDelaySeconds }).map((seconds) => ({ _tag: "After" as const, seconds })),
  fc.record({ hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }) }).map((c) => ({
    _tag: "Clock" as const,
    ...c,
  })),
  fc.constant({ _tag: "Off" as const }),
)
const opt = <K extends string, A>(key: K, arb: fc.Arbitrary<A>) =>
  fc.option(arb, { nil: undefined }).map((v) => (v === undefined ? {} : ({ [key]: v } as Record<K, A>)))

const commandArb: fc.Arbitrary<ChatCommand> = fc.oneof(
  opt("verb", fc.constantFrom(...verbs)).map((o) => ({ _tag: "Help" as const, ...o })),
  opt("item", itemRefArb).map((o) => ({ _tag: "Status" as const, ...o })),
  fc.constant({ _tag: "Backlog" as const }),
  itemRefArb.map((item) => ({ _tag: "Show" as const, item })),
  fc
    .tuple(itemRefArb, fc.constantFrom(...stageNames), opt("reason", noteArb))
    .map(([item, to, o]) => ({ _tag: "Move" as const, item, to, ...o })),
  fc.tuple(itemRefArb, opt("agent", agentArb)).map(([item, o]) => ({ _tag: "Start" as const, item, ...o })),
  itemRefArb.map((item) => ({ _tag: "Stop" as const, item })),
  fc.tuple(itemRefArb, agentArb).map(([item, agent]) => ({ _tag: "Assign" as const, item, agent })),
  fc
    .tuple(itemRefArb, fc.array(itemRefArb, { maxLength: 5 }))
    .map(([item, on]) => ({ _tag: "Depends" as const, item, on })),
  itemRefArb.map((item) => ({ _tag: "Unblock" as const, item })),
  fc
    .tuple(itemRefArb, fc.boolean())
    .map(([item, confirmed]) => ({ _tag: "Delete" as const, item, confirmed })),
  fc.tuple(itemRefArb, whenArb).map(([item, when]) => ({ _tag: "Timer" as const, item, when })),
  opt("scope", fc.oneof(itemRefArb, fc.constant("today" as const))).map((o) => ({
    _tag: "Cost" as const,
    ...o,
  })),
  fc.constant({ _tag: "Queue" as const }),
  fc.tuple(itemRefArb, opt("note", noteArb)).map(([item, o]) => ({ _tag: "Approve" as const, item, ...o })),
  fc.tuple(itemRefArb, noteArb).map(([item, notes]) => ({ _tag: "Reject" as const, item, notes })),
)

describe("properties", () => {
  it("a rendered command parses back to itself", () => {
    fc.assert(
      fc.property(commandArb, (command) => {
        expect(parseChatCommand(renderChatCommand(command))).toEqual(Either.right(command))
      }),
      { numRuns: 2000 },
    )
  })

  it("never throws, and every refusal has a message", () => {
    const wordArb = fc.oneof(
      fc.constantFrom(
        ...verbs,
        ...stageNames,
        "12",
        "#7",
        "none",
        "confirm",
        "today",
        "in",
        "2h",
        "+30m",
        "09:30",
      ),
      fc.string(),
      fc.string({ unit: "binary" }),
    )
    const lineArb = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.array(wordArb, { maxLength: 6 }).map((w) => w.join(" ")),
    )
    fc.assert(
      fc.property(lineArb, (line) => {
        const result = parseChatCommand(line)
        if (Either.isLeft(result)) expect(result.left.message.length).toBeGreaterThan(0)
      }),
      { numRuns: 3000 },
    )
  })
})
