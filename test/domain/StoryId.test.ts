// test/domain/StoryId.test.ts — work item ids: slugs from any name, building and splitting ids,
// decode errors an author sees, and number allocation that never reuses a deleted item's number.
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as fc from "fast-check"
import {
  isStoryId,
  type ItemKind,
  itemKinds,
  makeStoryId,
  nextStoryNumber,
  parseStoryId,
  slugify,
  StoryId,
} from "../../src/domain/StoryId.js"

const slugShape = /^[a-z0-9]+(?:_[a-z0-9]+)*$/
const kindArb: fc.Arbitrary<ItemKind> = fc.constantFrom(...itemKinds)
const numberArb = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 999_999_999_999_999 }))
const nameArb = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 80 }),
  fc.string({ maxLength: 200 }),
  fc.constantFrom("", "!!!", "日本語", "Crème brûlée", "a".repeat(61), "Add login", "  x  "),
)

describe("slugify", () => {
  it.each([
    ["Add login", "add_login"],
    ["  Fix:  the CRASH!! on start-up  ", "fix_the_crash_on_start_up"],
    ["Crème brûlée für Ärzte", "creme_brulee_fur_arzte"],
    ["ﬁle ﬂow (ligatures)", "file_flow_ligatures"],
    ["C++ & C# / F#", "c_c_f"],
    ["v2.0 — release 3", "v2_0_release_3"],
    ["snake_case_name", "snake_case_name"],
    ["", "untitled"],
    ["   ", "untitled"],
    ["!!! ???", "untitled"],
    ["日本語のタイトル", "untitled"],
    ["🐺🐺", "untitled"],
    ["ログイン login 追加", "login"],
  ])("%j -> %j", (name, slug) => {
    expect(slugify(name)).toBe(slug)
  })

  it("cuts long names at a word boundary, at most 60 characters", () => {
    const name = "implement the brand new authentication flow with passwords and one time codes for everyone"
    const slug = slugify(name)
    expect(slug).toBe("implement_the_brand_new_authentication_flow_with_passwords")
    expect(slug.length).toBeLessThanOrEqual(60)
    expect(name.replace(/ /g, "_").startsWith(slug)).toBe(true)
  })

  it("cuts a single word longer than 60 characters", () => {
    expect(slugify("x".repeat(100))).toBe("x".repeat(60))
    expect(slugify(`${"y".repeat(70)} tail`)).toBe("y".repeat(60))
  })

  it("always gives a lowercase ascii slug of at most 60 characters, and is idempotent", () => {
    fc.assert(
      fc.property(nameArb, (name) => {
        const slug = slugify(name)
        expect(slug).toMatch(slugShape)
        expect(slug.length).toBeLessThanOrEqual(60)
        expect(slugify(slug)).toBe(slug)
      }),
      { numRuns: 500 },
    )
  })
})

describe("makeStoryId and parseStoryId", () => {
  it("builds `{n}_{kind}_{slug}` ids", () => {
    expect(makeStoryId(12, "story", "Add login")).toBe("12_story_add_login")
    expect(makeStoryId(1, "bug", "")).toBe("1_bug_untitled")
    expect(makeStoryId(7, "refactor", "Crème brûlée")).toBe("7_refactor_creme_brulee")
  })

  it("refuses numbers an id cannot hold", () => {
    expect(() => makeStoryId(0, "story", "x")).toThrow(/a work item id looks like `12_story_add_login`/)
    expect(() => makeStoryId(1.5, "story", "x")).toThrow(/a work item id looks like/)
    expect(() => makeStoryId(-3, "spike", "x")).toThrow(/a work item id looks like/)
  })

  it("splits an id into number, kind and slug (the slug may contain the kind's name)", () => {
    expect(parseStoryId(StoryId.make("12_story_add_login"))).toStrictEqual({
      number: 12,
      kind: "story",
      slug: "add_login",
    })
    expect(parseStoryId(StoryId.make("3_bug_story_bug_42"))).toStrictEqual({
      number: 3,
      kind: "bug",
      slug: "story_bug_42",
    })
  })

  it("round trips: parse(make(n, kind, name)) and make(parse(id))", () => {
    fc.assert(
      fc.property(numberArb, kindArb, nameArb, (n, kind, name) => {
        const id = makeStoryId(n, kind, name)
        expect(isStoryId(id)).toBe(true)
        const parts = parseStoryId(id)
        expect(parts).toStrictEqual({ number: n, kind, slug: slugify(name) })
        expect(makeStoryId(parts.number, parts.kind, parts.slug)).toBe(id)
      }),
      { numRuns: 500 },
    )
  })

  // Numbers are capped at 15 digits so that parseStoryId's Number() is always exact: past 2^53 an id
  // could no longer be rebuilt from its parts and nextStoryNumber would allocate a wrong number.
  it("refuses ids whose number is not a safe integer, and rebuilds the largest allowed one", () => {
    for (const raw of [
      "9007199254740993_story_x",
      "1000000000000000000000_bug_y",
      "1234567890123456_story_z",
    ]) {
      expect(Either.isLeft(Schema.decodeUnknownEither(StoryId)(raw))).toBe(true)
    }
    const largest = Schema.decodeUnknownSync(StoryId)("999999999999999_story_x")
    const { number, kind, slug } = parseStoryId(largest)
    expect(makeStoryId(number, kind, slug)).toBe(largest)
  })
})

describe("StoryId decoding", () => {
  const decode = Schema.decodeUnknownEither(StoryId)
  const message = (input: unknown): string => {
    const result = decode(input)
    if (Either.isRight(result)) throw new Error(`expected ${JSON.stringify(input)} to be refused`)
    return result.left.message
  }

  it("accepts every kind and long slugs", () => {
    for (const kind of itemKinds) expect(Either.isRight(decode(`1_${kind}_a`))).toBe(true)
    expect(Either.isRight(decode(`123456_story_${"ab_".repeat(30)}c`))).toBe(true)
  })

  it.each([
    "12_Story_add_login",
    "12_story_Add_login",
    "012_story_x",
    "0_story_x",
    "12_task_x",
    "12_story_",
    "12_story",
    "story_add_login",
    "12_story_add__login",
    "12_story_add_login_",
    "12_story_add-login",
    " 12_story_x",
    "12_story_x\n",
    "",
  ])("refuses %j with a message saying what an id looks like", (input) => {
    expect(message(input)).toContain(
      "a work item id looks like `12_story_add_login`: a number (at most 15 digits), a kind (story|bug|spike|refactor) and a lowercase slug, joined by `_`",
    )
    expect(isStoryId(input)).toBe(false)
  })

  it("refuses non-strings", () => {
    expect(message(12)).toContain("Expected string, actual 12")
    expect(message(null)).toContain("Expected string, actual null")
  })
})

describe("nextStoryNumber", () => {
  const ids = (...raw: ReadonlyArray<string>) => raw.map((s) => StoryId.make(s))

  it("starts at 1 and goes one above the highest known id", () => {
    expect(nextStoryNumber(0, [])).toBe(1)
    expect(nextStoryNumber(0, ids("3_story_a", "12_bug_b", "7_spike_c"))).toBe(13)
  })

  it("never reuses the number of a deleted item, because highWater remembers it", () => {
    let highWater = 0
    let live: Array<StoryId> = []
    const create = (name: string) => {
      const n = nextStoryNumber(highWater, live)
      highWater = Math.max(highWater, n)
      const id = makeStoryId(n, "story", name)
      live = [...live, id]
      return id
    }
    create("a")
    create("b")
    const newest = create("c")
    live = live.filter((id) => id !== newest)
    const after = create("d")
    expect(parseStoryId(after).number).toBe(4)
    live = []
    expect(parseStoryId(create("e")).number).toBe(5)
  })

  it("is above highWater and every existing number, for any history", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1_000_000 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 2_000_000 }), kindArb), { maxLength: 20 }),
        (highWater, parts) => {
          const existing = parts.map(([n, kind]) => makeStoryId(n, kind, "x"))
          const next = nextStoryNumber(highWater, existing)
          expect(next).toBe(Math.max(highWater, ...parts.map(([n]) => n)) + 1)
          expect(existing.some((id) => parseStoryId(id).number === next)).toBe(false)
        },
      ),
    )
  })
})
