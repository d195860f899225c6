// test/layers/runtimes/Runtime.test.ts — what every adapter shares: the message an agent is sent (never
// empty, never too long to exec) and the variables every agent gets.
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import {
  continuePrompt,
  fitText,
  huskiesEnv,
  maxPromptBytes,
  messageFor,
} from "../../../src/layers/runtimes/Runtime.js"
import { buildInput } from "./support.js"

describe("the message an agent is sent", () => {
  it("is the prompt, then the extra text", () => {
    expect(messageFor(buildInput({ prompt: " Do it. ", extraPrompt: "\nGates failed.\n" }))).toBe(
      "Do it.\n\nGates failed.",
    )
    expect(messageFor(buildInput({ prompt: "", extraPrompt: "Gates failed." }))).toBe("Gates failed.")
  })

  it("is never empty: a resume with nothing new asks to continue", () => {
    expect(messageFor(buildInput({ prompt: "  ", resumeSessionId: "s" }))).toBe(
      continuePrompt("12_story_add_login"),
    )
    expect(continuePrompt("12_story_add_login")).toContain("12_story_add_login")
  })

  it("fits in the exec limit however long the prompt and the extra text (property)", () => {
    const text = fc.string({ unit: "binary", maxLength: 2000 }).map((s) => s.repeat(1 + (s.length % 120)))
    fc.assert(
      fc.property(text, text, (prompt, extraPrompt) => {
        const message = messageFor(buildInput({ prompt, extraPrompt }))
        expect(message.trim()).not.toBe("")
        expect(Buffer.byteLength(message)).toBeLessThanOrEqual(maxPromptBytes)
      }),
      { numRuns: 50 },
    )
  })

  it("cuts the middle out of a long text, keeping both ends", () => {
    const cut = fitText(`HEAD${"é".repeat(100_000)}TAIL`, 1000)
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1000)
    expect(cut.startsWith("HEAD")).toBe(true)
    expect(cut.endsWith("TAIL")).toBe(true)
    expect(fitText("short", 1000)).toBe("short")
  })
})

describe("the environment every agent gets", () => {
  it("names the story, the worktree and the MCP endpoint", () => {
    expect(huskiesEnv(buildInput())).toEqual({
      HUSKIES_STORY_ID: "12_story_add_login",
      HUSKIES_WORKTREE: "/work/project/.huskies/worktrees/12_story_add_login",
      HUSKIES_MCP_URL: "http://localhost:3001/mcp",
    })
  })
})
