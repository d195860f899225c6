// test/transports/tools/createTools.test.ts — filing items through the registry: the item lands in
// the Store with its markdown; unknown or mistyped parameters are refused with the field named.
import { StoryId } from "../../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Store } from "../../../src/layers/Store.js"
import { toolRegistry } from "../../../src/transports/tools/registry.js"
import { err, ok, withTools } from "../../support/tools.js"

describe("create_* tools", () => {
  it.effect(
    "create_story files an item in Backlog with its markdown, front matter of any JSON type kept",
    () =>
      withTools(() =>
        Effect.gen(function* () {
          const dep = yield* ok("create_bug", { name: "Crash on save" })
          expect(dep["story_id"]).toBe("1_bug_crash_on_save")
          const created = yield* ok("create_story", {
            name: "Add login",
            user_story: "As a user I want to log in",
            description: "Use the existing session table.",
            acceptance_criteria: ["can log in", "wrong password shows an error"],
            depends_on: ["1_bug_crash_on_save"],
            qa: "human",
            front_matter: { priority: 2, labels: ["auth", "ui"], flaky: false, owner: { team: "web" } },
          })
          expect(created["story_id"]).toBe("2_story_add_login")
          expect(created["stage"]).toBe("Backlog")
          expect(created["dependencies"]).toEqual([
            { id: "1_bug_crash_on_save", met: false, status: "Waiting" },
          ])
          const store = yield* Store
          const content = yield* store.content(StoryId.make("2_story_add_login"))
          expect(content).toContain("name: Add login")
          expect(content).toContain("priority: 2")
          expect(content).toContain("- [ ] wrong password shows an error")
          expect(content).toContain("## Description\n\nUse the existing session table.")
          expect((yield* store.get(StoryId.make("2_story_add_login"))).stage).toEqual({ _tag: "Backlog" })
          const status = yield* ok("status", { story_id: "2_story_add_login" })
          expect(status["name"]).toBe("Add login")
          expect(status["dependencies_summary"]).toContain("1_bug_crash_on_save")
          expect(status["worktree"]).toBeNull()
        }),
      ),
  )

  it.effect("refuses an unknown parameter instead of dropping the user's text", () =>
    withTools(() =>
      Effect.gen(function* () {
        const message = yield* err("create_story", { name: "x", descripton: "lost text" })
        expect(message).toContain('unknown parameter "descripton"')
        expect(message).toContain("description?: string")
        const store = yield* Store
        expect((yield* store.list).items).toEqual([])
      }),
    ),
  )

  it.effect("names the field and the accepted shape for wrong types and missing fields", () =>
    withTools(() =>
      Effect.gen(function* () {
        const wrongType = yield* err("create_story", { name: "x", depends_on: "1_story_a" })
        expect(wrongType).toContain('parameter "depends_on"')
        expect(wrongType).toContain("depends_on?: array")
        const missing = yield* err("create_bug", { description: "no name" })
        expect(missing).toContain('missing required parameter "name"')
        const badQa = yield* err("create_story", { name: "x", qa: "sometimes" })
        expect(badQa).toContain('parameter "qa"')
        expect(badQa).toContain("agent|human|none")
        const notObject = yield* err("create_story", ["x"])
        expect(notObject).toContain("arguments must be a JSON object")
        const missingDep = yield* err("create_story", { name: "x", depends_on: ["9_story_nope"] })
        expect(missingDep).toContain("9_story_nope")
      }),
    ),
  )

  it("lists every tool with an object input schema that forbids extra properties", () => {
    const create = toolRegistry.list.find((t) => t.name === "create_story")
    expect(create?.inputSchema["type"]).toBe("object")
    expect(create?.inputSchema["required"]).toEqual(["name"])
    expect(create?.inputSchema["additionalProperties"]).toBe(false)
    for (const tool of toolRegistry.list) {
      expect(tool.inputSchema.type).toBe("object")
      expect(tool.description.length).toBeGreaterThan(20)
    }
  })
})

describe("strict input for every tool", () => {
  it.effect(
    "a __proto__ key or nesting past the limit is refused with where, never dropped or overflowed",
    () =>
      withTools(() =>
        Effect.gen(function* () {
          // JSON.parse keeps "__proto__" as a plain key, exactly as an MCP request body arrives.
          const proto = JSON.parse('{"name": "x", "front_matter": {"owner": {"__proto__": {"admin": true}}}}')
          expect(yield* err("create_story", proto)).toBe(
            'invalid arguments for create_story: front_matter.owner.__proto__: "__proto__" cannot be used as a key: rename it',
          )
          let deep: unknown = "bottom"
          for (let i = 0; i < 10_000; i++) deep = { next: deep }
          const message = yield* err("create_story", { name: "x", front_matter: { deep } })
          expect(message).toContain("nested more than 64 levels deep")
          expect(yield* ok("list_items", {})).toMatchObject({ items: [] })
        }),
      ),
  )

  it.effect("a tool without parameters refuses any key, naming it", () =>
    withTools(() =>
      Effect.gen(function* () {
        const message = yield* err("get_version", { verbose: true })
        expect(message).toContain('unknown parameter "verbose"')
        expect(message).toContain("no parameters")
        const version = yield* ok("get_version", {})
        expect(version["version"]).toMatch(/^\d+\.\d+\.\d+/)
      }),
    ),
  )

  it.effect("a union parameter is described with each of its types", () =>
    withTools(() =>
      Effect.gen(function* () {
        const message = yield* err("check_criterion", { story_id: "1_story_x", criterion: true })
        expect(message).toContain("criterion: integer | string")
      }),
    ),
  )
})
