// test/layers/runtimes/adapters.test.ts — each agents.toml runtime has its adapter.
import { describe, expect, it } from "@effect/vitest"
import { agentRuntimes } from "../../../src/domain/Config.js"
import { adapterFor } from "../../../src/layers/runtimes/adapters.js"
import { agentConfig, buildInput } from "./support.js"

describe("adapterFor", () => {
  it("gives every runtime an adapter that launches its own CLI", () => {
    const commands = agentRuntimes.map((runtime) => {
      const adapter = adapterFor(runtime)
      expect(adapter.runtime).toBe(runtime)
      const agent = agentConfig(runtime === "command" ? { runtime, command: ["./agent.sh"] } : { runtime })
      return adapter.build(buildInput({ agent })).command
    })
    expect(commands).toEqual(["claude", "codex", "gemini", "./agent.sh"])
  })
})
