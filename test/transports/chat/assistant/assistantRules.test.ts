// test/transports/chat/assistant/assistantRules.test.ts — the assistant's pure rules: which message goes to
// the chat agent, how long answers are cut, how agents.toml takes stage = "chat" (never an item's agent)
// and how the launch files of a turn stay out of the project root.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import { assignAgent } from "../../../../src/domain/assign.js"
import { assistantRoute, chatAgentPrompt, splitMessage } from "../../../../src/domain/chatAssistant.js"
import { decodeAgentsToml, defaultProjectConfig } from "../../../../src/domain/Config.js"
import { relocateLaunch } from "../../../../src/actors/chatAgentTurn.js"
import { chatAgentOf } from "../../../../src/actors/chatAgents.js"
import { ambientRoom, assistantConfig, opsRoom, readRoom } from "./assistantFixture.js"

const message = (room: string, user: string, mentioned: boolean, text = "hello") => ({
  room,
  user,
  mentioned,
  text,
})

describe("assistantRoute", () => {
  const config = assistantConfig()
  it("asks for an ops person's mention, refuses others' mentions, ignores talk that is not addressed", () => {
    expect(assistantRoute(config, message(opsRoom, "alice", true))._tag).toBe("Ask")
    expect(assistantRoute(config, message(opsRoom, "bob", true))._tag).toBe("Refuse")
    expect(assistantRoute(config, message(readRoom, "alice", true))._tag).toBe("Refuse")
    expect(assistantRoute(config, message("C-unknown", "alice", true))._tag).toBe("Refuse")
    expect(assistantRoute(config, message(opsRoom, "alice", false))._tag).toBe("Ignore")
    expect(assistantRoute(config, message(ambientRoom, "alice", false))._tag).toBe("Ask")
    expect(assistantRoute(config, message(ambientRoom, "bob", false))._tag).toBe("Ignore")
    expect(assistantRoute(config, message(opsRoom, "alice", true, "   "))._tag).toBe("Ignore")
  })

  it('"ambient" makes every room ambient; "off" turns the assistant off everywhere', () => {
    expect(assistantRoute(assistantConfig("ambient"), message(opsRoom, "alice", false))._tag).toBe("Ask")
    const off = assistantConfig("off")
    expect(assistantRoute(off, message(opsRoom, "alice", true))._tag).toBe("Ignore")
    expect(assistantRoute(off, message(ambientRoom, "alice", false))._tag).toBe("Ignore")
  })
})

describe("splitMessage", () => {
  it("cuts at a paragraph, else a line, else a space, and loses nothing but the whitespace at a cut", () => {
    const text = `${"a".repeat(60)}\n\n${"b".repeat(30)} ${"c".repeat(30)}\n${"d".repeat(70)}`
    const parts = splitMessage(text, 80)
    expect(parts).toEqual(["a".repeat(60), `${"b".repeat(30)} ${"c".repeat(30)}`, "d".repeat(70)])
  })

  it("keeps every part within the limit and every non-space character in order", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), fc.integer({ min: 1, max: 120 }), (text, limit) => {
        const parts = splitMessage(text, limit)
        expect(parts.every((p) => p.length <= limit && p.length > 0)).toBe(true)
        expect(parts.join("").replace(/\s/g, "")).toBe(text.replace(/\s/g, ""))
      }),
    )
  })
})

describe('stage = "chat" in agents.toml', () => {
  const file = `[[agent]]
name = "coder-1"
stage = "coder"

[[agent]]
name = "helper"
stage = "chat"
runtime = "command"
command = ["./answer.sh"]
`
  it("decodes, with the chat prompt as its default, and is never given an item", () => {
    const decoded = decodeAgentsToml(file, "agents.toml")
    if (Either.isLeft(decoded)) throw decoded.left
    const [coder, helper] = decoded.right.agents
    expect(helper?.stage).toBe("chat")
    expect(helper?.prompt).toBe(chatAgentPrompt)
    expect(chatAgentOf(decoded.right.agents)).toBe(helper)
    const onlyChat = decoded.right.agents.filter((a) => a.stage === "chat")
    for (const role of ["coder", "qa", "mergemaster"] as const) {
      const got = assignAgent(onlyChat, defaultProjectConfig.concurrency, [], { storyId: "1_story_a", role })
      expect(got._tag).toBe("Impossible")
    }
    // Pinned to the chat agent, an item still gets an agent of its own stage.
    const pinned = assignAgent(decoded.right.agents, defaultProjectConfig.concurrency, [], {
      storyId: "1_story_a",
      role: "coder",
      pinned: "helper",
    })
    expect(pinned._tag === "Assigned" && pinned.agent).toBe(coder)
  })

  it("a team without a chat agent gets a sentence saying how to add one", () => {
    const decoded = decodeAgentsToml('[[agent]]\nname = "c"\nstage = "coder"\n', "agents.toml")
    if (Either.isLeft(decoded)) throw decoded.left
    expect(chatAgentOf(decoded.right.agents)).toContain('stage = "chat"')
  })
})

describe("relocateLaunch", () => {
  it("moves files the command line or environment names into the conversation's folder", () => {
    const launch = {
      command: "claude",
      args: ["--mcp-config", "/p/.mcp.json", "--", "hi"],
      env: { PROMPT_FILE: "/p/.huskies-prompt.md" },
      files: [
        { path: "/p/.mcp.json", content: "{}" },
        { path: "/p/.huskies-prompt.md", content: "hi" },
      ],
    }
    const { launch: moved, clash } = relocateLaunch(launch, "/p", "/p/.huskies/chat/c-1")
    expect(clash).toBeUndefined()
    expect(moved.args).toEqual(["--mcp-config", "/p/.huskies/chat/c-1/.mcp.json", "--", "hi"])
    expect(moved.env).toEqual({ PROMPT_FILE: "/p/.huskies/chat/c-1/.huskies-prompt.md" })
    expect(moved.files.map((f) => f.path)).toEqual([
      "/p/.huskies/chat/c-1/.mcp.json",
      "/p/.huskies/chat/c-1/.huskies-prompt.md",
    ])
  })
})
