// test/transports/tools/editTools.test.ts — update_story applies many edits as one all-or-nothing write;
// criteria are named by index or text with clear errors; todos and (un)checking read and write the Store.
import { StoryId } from "../../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Store } from "../../../src/layers/Store.js"
import { err, ok, withTools } from "../../support/tools.js"

const content = (id: string) => Effect.flatMap(Store, (store) => store.content(StoryId.make(id)))

const fileStory = (extra: Record<string, unknown> = {}) =>
  Effect.map(
    ok("create_story", {
      name: "Add login",
      user_story: "As a user I want to log in",
      acceptance_criteria: ["form shows", "wrong password errors", "remember me works"],
      ...extra,
    }),
    (created) => created["story_id"] as string,
  )

describe("update_story", () => {
  it.effect("applies every change in one write and reports what changed", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* fileStory({ front_matter: { priority: 1, owner: "web" } })
        const store = yield* Store
        const events = yield* store.subscribe
        const updated = yield* ok("update_story", {
          story_id: id,
          name: "Add login page",
          user_story: "As a visitor I want an account",
          add_criteria: ["logout works"],
          remove_criteria: [0, "remember me works"],
          reword_criteria: [{ criterion: 1, text: "wrong password shows an error" }],
          front_matter: { priority: 3, owner: null, qa: "human" },
        })
        const text = yield* content(id)
        expect(updated["content"]).toBe(text)
        expect(text).toContain("name: Add login page")
        expect(text).toContain("qa: human")
        expect(text).toContain("priority: 3")
        expect(text).not.toContain("owner")
        expect(text).toContain("## User Story\n\nAs a visitor I want an account")
        expect(text).toContain(
          "## Acceptance Criteria\n\n- [ ] wrong password shows an error\n- [ ] logout works\n",
        )
        expect(updated["changes"]).toEqual([
          "front matter priority set",
          "front matter owner removed",
          "front matter qa set",
          'name set to "Add login page"',
          "User Story replaced",
          'criterion 1 reworded to "wrong password shows an error"',
          'criterion 2 removed ("remember me works")',
          'criterion 0 removed ("form shows")',
          'criterion added: "logout works"',
        ])
        // One content write, so subscribers see one change, never a half-applied update.
        const seen = yield* events.takeAll
        expect([...seen].map((e) => e._tag)).toEqual(["ContentChanged"])
      }),
    ),
  )

  it.effect("creates the Description section when the item has none", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* fileStory()
        expect(yield* content(id)).not.toContain("## Description")
        const updated = yield* ok("update_story", { story_id: id, description: "Use the session table." })
        expect(updated["changes"]).toEqual(["Description section created"])
        const text = yield* content(id)
        expect(text).toContain(
          "## User Story\n\nAs a user I want to log in\n\n## Description\n\nUse the session table.",
        )
        const again = yield* ok("update_story", { story_id: id, description: "Use the users table." })
        expect(again["changes"]).toEqual(["Description replaced"])
        expect(yield* content(id)).not.toContain("session table")
      }),
    ),
  )

  it.effect("writes nothing when any one change is bad, and names the bad one", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* fileStory()
        const before = yield* content(id)
        const badIndex = yield* err("update_story", {
          story_id: id,
          description: "would be lost",
          add_criteria: ["also lost"],
          remove_criteria: [7],
        })
        expect(badIndex).toContain("nothing was changed")
        expect(badIndex).toContain("remove_criteria[0]")
        expect(badIndex).toContain("valid indices are 0 to 2")
        const badQa = yield* err("update_story", {
          story_id: id,
          name: "Renamed",
          front_matter: { qa: "sometimes" },
        })
        expect(badQa).toContain("front_matter.qa")
        expect(badQa).toContain("agent, human, none")
        const badSection = yield* err("update_story", {
          story_id: id,
          user_story: "fine",
          description: "text\n## Sneaky section",
        })
        expect(badSection).toContain("description")
        expect(badSection).toContain("### Sneaky section")
        const unknownDep = yield* err("update_story", {
          story_id: id,
          name: "Renamed",
          front_matter: { depends_on: ["99_story_nope"] },
        })
        expect(unknownDep).toContain("99_story_nope")
        expect(yield* content(id)).toBe(before)
      }),
    ),
  )

  it.effect("names criteria by exact text; unknown, ambiguous and conflicting references are refused", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* fileStory({ acceptance_criteria: ["same", "same", "other"] })
        const ambiguous = yield* err("update_story", { story_id: id, remove_criteria: ["same"] })
        expect(ambiguous).toContain("criteria 0, 1 all have this text; name one by its index")
        const unknown = yield* err("update_story", { story_id: id, remove_criteria: ["nope"] })
        expect(unknown).toContain(
          'no criterion has exactly this text; the criteria are: 0 "same", 1 "same", 2 "other"',
        )
        const twice = yield* err("update_story", {
          story_id: id,
          remove_criteria: [2],
          reword_criteria: [{ criterion: "other", text: "x" }],
        })
        expect(twice).toContain("criterion 2 is also reworded")
        const removed = yield* ok("update_story", { story_id: id, remove_criteria: [" other "] })
        expect(removed["changes"]).toEqual(['criterion 2 removed ("other")'])
      }),
    ),
  )

  it.effect("refuses a call with nothing to change, a bad id and a name given twice", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* fileStory()
        expect(yield* err("update_story", { story_id: id })).toContain("needs at least one change")
        expect(yield* err("update_story", { story_id: id, add_criteria: [], front_matter: {} })).toContain(
          "needs at least one change",
        )
        expect(yield* err("update_story", { story_id: "login", name: "x" })).toContain(
          'story_id "login" is not a work item id',
        )
        expect(yield* err("update_story", { story_id: "9_story_gone", name: "x" })).toContain(
          "no work item 9_story_gone",
        )
        expect(
          yield* err("update_story", { story_id: id, name: "a", front_matter: { name: "b" } }),
        ).toContain("name is given twice")
        expect(yield* err("update_story", { story_id: id, add_criteria: [3] })).toContain(
          'parameter "add_criteria.0"',
        )
      }),
    ),
  )
})

describe("get_story_todos, check_criterion, uncheck_criterion", () => {
  it.effect("checks by index and by text, reports what is left, unchecks again", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* fileStory()
        const start = yield* ok("get_story_todos", { story_id: id })
        expect(start).toMatchObject({ done: 0, total: 3, name: "Add login" })
        expect(start["todos"]).toEqual([
          { index: 0, text: "form shows" },
          { index: 1, text: "wrong password errors" },
          { index: 2, text: "remember me works" },
        ])
        const byIndex = yield* ok("check_criterion", { story_id: id, criterion: 1 })
        expect(byIndex).toMatchObject({
          criterion: { index: 1, text: "wrong password errors", checked: true },
          changed: true,
          done: 1,
          total: 3,
        })
        const byText = yield* ok("check_criterion", { story_id: id, criterion: "remember me works" })
        expect(byText["todos"]).toEqual([{ index: 0, text: "form shows" }])
        expect(yield* content(id)).toContain(
          "- [ ] form shows\n- [x] wrong password errors\n- [x] remember me works",
        )
        const again = yield* ok("check_criterion", { story_id: id, criterion: 1 })
        expect(again["changed"]).toBe(false)
        const unchecked = yield* ok("uncheck_criterion", { story_id: id, criterion: "wrong password errors" })
        expect(unchecked).toMatchObject({ changed: true, done: 1 })
        expect(yield* content(id)).toContain("- [ ] wrong password errors")
        const todos = yield* ok("get_story_todos", { story_id: id })
        expect(todos).toMatchObject({ done: 1, total: 3 })
      }),
    ),
  )

  it.effect("refuses out-of-range, unknown and ambiguous criteria without writing", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* fileStory({ acceptance_criteria: ["dup", "dup"] })
        const before = yield* content(id)
        expect(yield* err("check_criterion", { story_id: id, criterion: 2 })).toContain(
          "criterion 2: no such criterion; valid indices are 0 to 1",
        )
        expect(yield* err("check_criterion", { story_id: id, criterion: -1 })).toContain(
          "valid indices are 0 to 1",
        )
        expect(yield* err("check_criterion", { story_id: id, criterion: "dup" })).toContain(
          "name one by its index",
        )
        expect(yield* err("uncheck_criterion", { story_id: id, criterion: "missing" })).toContain(
          "no criterion has exactly this text",
        )
        expect(yield* err("check_criterion", { story_id: id, criterion: 1.5 })).toContain(
          'parameter "criterion"',
        )
        expect(yield* content(id)).toBe(before)
      }),
    ),
  )
})
